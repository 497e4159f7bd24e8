"""Citation keys read from manuscripts (citetool/manuscript.py), checked against
the real tools: the .aux pdflatex writes, and the Cite elements of `pandoc -t json`.

The documents are in tests/fixtures/manuscripts/ (each says where it comes from).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from citetool.errors import UsageError
from citetool.manuscript import aux_keys, cited_keys, latex_keys, markdown_keys

MANUSCRIPTS = Path(__file__).parent / "fixtures" / "manuscripts"

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
needs_pandoc = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")


def pdflatex_aux(tex: Path, workdir: Path) -> Path:
    """Copy ``tex`` (and its folder, for documents with \\input files) to
    ``workdir``, run pdflatex once, return the .aux it wrote."""
    if tex.parent != MANUSCRIPTS:
        shutil.copytree(tex.parent, workdir / tex.parent.name)
        target = workdir / tex.parent.name / tex.name
    else:
        target = workdir / tex.name
        shutil.copy(tex, target)
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-draftmode", target.name],
                   cwd=target.parent, capture_output=True, timeout=120)
    aux = target.with_suffix(".aux")
    assert aux.exists(), f"pdflatex wrote no .aux for {tex.name}"
    return aux


def cite_ids(node) -> list[str]:
    """The citationId of every Cite element in a piece of pandoc's JSON AST, in order."""
    if isinstance(node, dict):
        own = [c["citationId"] for c in node["c"][0]] if node.get("t") == "Cite" else []
        return own + [k for value in node.values() for k in cite_ids(value)]
    if isinstance(node, list):
        return [k for value in node for k in cite_ids(value)]
    return []


def pandoc_json(text: str) -> dict:
    return json.loads(subprocess.run(["pandoc", "-f", "markdown", "-t", "json"], capture_output=True,
                                     check=True, input=text.encode(), timeout=120).stdout)


def pandoc_cites(path: Path) -> list[str]:
    """The citation ids pandoc finds, body then metadata, each once."""
    doc = pandoc_json(path.read_text(encoding="utf-8"))
    return list(dict.fromkeys(cite_ids(doc["blocks"]) + cite_ids(doc["meta"])))


LATEX_DOCUMENTS = [
    "natbib-econ-example.tex",  # econ-bst's example (TeX Live), natbib \citet, \citep, \citet*
    "biblatex-01-introduction.tex",  # biblatex's own example 01
    "biblatex-76-style-verbose-trad3.tex",  # biblatex example 76: \mancite, \footcite in a \def
    "handmade-natbib.tex",
    "handmade-biblatex/main.tex",
]


@needs_pdflatex
@pytest.mark.parametrize("name", LATEX_DOCUMENTS)
def test_latex_keys_are_those_pdflatex_writes_to_the_aux(name, tmp_path):
    aux = pdflatex_aux(MANUSCRIPTS / name, tmp_path)
    truth = cited_keys(aux).keys
    assert truth, "the .aux holds citations"
    assert cited_keys(MANUSCRIPTS / name).keys == truth


@needs_pdflatex
def test_aux_of_a_document_with_include_follows_its_input_aux(tmp_path):
    aux = pdflatex_aux(MANUSCRIPTS / "handmade-biblatex" / "main.tex", tmp_path)
    assert r"\@input{chapters/included.aux}" in aux.read_text()
    assert "included" in cited_keys(aux).keys  # only in chapters/included.aux


def test_handmade_biblatex_keys_without_tools():
    """The same document, its expected keys written out (so this holds without TeX)."""
    scan = cited_keys(MANUSCRIPTS / "handmade-biblatex" / "main.tex")
    assert scan.keys == [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
        "multi1", "multi2", "multi3", "multi4", "tc1", "tc2", "pc1", "pc2", "vol1", "vol2",
        "full", "footfull", "author", "title", "year", "super", "smart", "url", "nocited",
        "afterpercent", "spread", "over", "lines", "inputted", "nested", "included", "last"]
    assert scan.notes == []


MARKDOWN_DOCUMENTS = {
    # name: what pandoc reads as Cite but is a cross-reference, not a citation
    "pandoc-manual-citations.md": re.compile(r"^(fig|tbl|eq|sec|lst):", re.I),  # pandoc-crossref
    "handmade.qmd": re.compile(r"^(fig|tbl|sec|eq)-", re.I),  # Quarto
    "handmade.Rmd": None,
}


@needs_pandoc
@pytest.mark.parametrize("name", sorted(MARKDOWN_DOCUMENTS))
def test_markdown_keys_are_pandocs_cite_elements(name):
    crossref = MARKDOWN_DOCUMENTS[name]
    truth = [k for k in pandoc_cites(MANUSCRIPTS / name) if not (crossref and crossref.match(k))]
    assert len(truth) >= 3
    assert cited_keys(MANUSCRIPTS / name).keys == truth


def test_pandoc_manual_examples_without_pandoc():
    keys = cited_keys(MANUSCRIPTS / "pandoc-manual-citations.md").keys
    assert keys[:9] == ["doe99", "smith2000", "smith2004", "Foo_bar.baz", "Foo_bar.baz.", "Foo_bar",
                        "https://example.com/bib?name=foobar&date=2000", "smith04", "smith"]
    assert "doi:10.1080/14751798.2021.1995963" in keys and "arxiv:2101.00001" in keys
    for hidden in ("code_span", "ticks", "fenced", "tilde_fenced", "indented_code", "in_html_comment",
                   "also_hidden", "autolink", "destination", "title", "escaped", "example.org",
                   "fig:plot", "tbl:results", "eq:one", "sec:intro", "lst:code"):
        assert hidden not in keys
    assert keys[-1] == "yaml-nocite"


@pytest.mark.parametrize("text, expected", [
    ("mail jane@example.org or @real", ["real"]),
    ("x.@no x/@yes x-@yes2 (@paren", ["yes", "yes2", "paren"]),
    ("@a::b @c.-d @e? @f//g @h:/i", ["a", "c", "e", "f//g", "h:/i"]),
    ("@{k{x}y} @{spaced key} @{k2}}", ["k{x}y", "k2"]),
    ("`@code` ``a ` @code2`` @after", ["after"]),
    ("[@a; -@b, p. 3] @c [p. 4]", ["a", "b", "c"]),
    ("@fig:x @Fig:y @sec:z @eq:w @tbl:v @lst:u @figure", ["figure"]),
    ("中@cjk é@accent _@under", ["under"]),
    ("@a@b.c x", ["a", "b.c"]),  # right after a citation, '@' follows no word
    ("*.@a .@b", []),
    ("\\[@k \\a@no", ["k"]),
    ("@*a @*", ["*a", "*"]),
    ("@ex. text @k", ["k"]),  # an example list item's label
    ("(@ex) text @k", ["k"]),
])
def test_markdown_key_rules(text, expected):
    assert markdown_keys(text) == expected


def test_quarto_cross_references_only_in_qmd():
    assert markdown_keys("@fig-a @tbl-b @knuth", quarto=True) == ["knuth"]
    assert markdown_keys("@fig-a @knuth") == ["fig-a", "knuth"]


def test_markdown_code_blocks_and_lists():
    text = "Para @p1\n\n    @code\n    @code2\n\n- item @l1\n\n    @l2 continues the item\n\nText\n\n    @code3\n"
    assert markdown_keys(text) == ["p1", "l1", "l2"]


def test_latex_comments_verbatim_and_escapes():
    text = ("\\cite{a}% \\cite{no1}\n50\\% \\cite{b} \\\\% \\cite{no2}\n"
            "\\verb|\\cite{no3}| \\begin{verbatim}\\cite{no4}\\end{verbatim}\\cite[p.~3]{c}\n"
            "\\begin{comment}\\cite{no5}\\end{comment}\\end{document}\\cite{no6}")
    assert [v for kind, v in latex_keys(text) if kind == "key"] == ["a", "b", "c"]


def test_latex_multicite_and_volcite():
    text = r"\cites(pre)(post)[a][b]{k1}[c]{k2,k3}{k4} then {not} \volcite[see]{2}[50]{k5} \pvolcites{1}[2]{k6}{3}{k7}"
    assert [v for kind, v in latex_keys(text) if kind == "key"] == ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]


def test_latex_includes_resolved_from_the_main_folder_and_subfile_from_its_own(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "main.tex").write_text("\\cite{m}\\input{parts/a}\\include{parts/b}\\input parts/c \\cite{m2}")
    (tmp_path / "parts" / "a.tex").write_text("\\cite{a}\\input{parts/b}\\subfile{d}")
    (tmp_path / "parts" / "b.tex").write_text("\\cite{b}")
    (tmp_path / "parts" / "c.tex").write_text("\\cite{c}\\input{main}")  # a cycle: read once
    (tmp_path / "parts" / "d.tex").write_text("\\cite{d}\\input{missing}")
    scan = cited_keys(tmp_path / "main.tex")
    assert scan.keys == ["m", "a", "b", "d", "c", "m2"]
    assert scan.notes == [f"{tmp_path / 'parts' / 'd.tex'}: \\input{{missing}} not found; skipped"]


def test_aux_forms():
    text = ("\\relax\n\\citation{a,b}\n\\abx@aux@cite{0}{c}\n\\abx@aux@segm{0}{0}{c}\n"
            "\\abx@aux@cite{old}\n\\@input{ch.aux}\n\\citation{*}\n")
    assert aux_keys(text) == [("key", "a"), ("key", "b"), ("key", "c"), ("key", "old"),
                              ("input", "ch.aux"), ("key", "*")]


def test_unreadable_or_unknown_manuscripts_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="cannot read"):
        cited_keys(tmp_path / "absent.tex")
    (tmp_path / "paper.docx").write_bytes(b"PK")
    with pytest.raises(UsageError, match="cannot tell what"):
        cited_keys(tmp_path / "paper.docx")


def test_latin1_source_is_read(tmp_path):
    (tmp_path / "old.tex").write_bytes("M\xfcller \\cite{m\xfc}".encode("latin-1"))
    assert cited_keys(tmp_path / "old.tex").keys == ["m\xfc"]


@needs_pandoc
def test_markdown_keys_agree_with_pandoc_on_random_paragraphs():
    """150 paragraphs of citation-like noise, each read by pandoc: our keys must
    be its Cite ids. Known difference, left out: a word glued to '@' followed by
    another '@' in the same token (``x@a@b``), where pandoc's lexer keeps state
    we do not model."""
    import random

    rng = random.Random(20261123)
    atoms = ["@", "@a", "@b1", "-@", "[", "]", "[@k", "; ", ", ", "p. 3", " ", " ", "x", "é", ".", ":", "/",
             "//", "-", "--", "_", "*", "`", "``", "$", "\\", "{", "}", "<", ">", "<!--", "-->", "http://h.org/",
             "a@b.c", "(", ")", "](", "#", "~", "?", "&", "%", "+", "\n", "'", '"', "!", "^", "|", "=", "1", "Z",
             "@{", "@*", "\u00a0", "\u2019"]
    compared = 0
    for _ in range(150):
        paragraph = "Start " + "".join(rng.choice(atoms) for _ in range(rng.randint(1, 12))) + "\n"
        if re.search(r"\w@\S*@", paragraph):
            continue
        found = cite_ids(pandoc_json(paragraph)["blocks"])
        assert markdown_keys(paragraph) == found, paragraph
        compared += 1
    assert compared > 100
