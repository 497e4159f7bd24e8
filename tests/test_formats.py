"""Renderers on hand-made records: escaping, types, structure, round-trips."""

import json
from pathlib import Path

import pytest

from citetool.formats import render
from citetool.formats.bibtex import render_entry
from citetool.formats.bibtex_names_titles import protect_title
from citetool.formats.bibtex_types import choose_entry
from citetool.formats.latex_text import escape

SCHEMA = Path(__file__).resolve().parent / "fixtures" / "vendor" / "csl-data.json"  # origin: fixtures/vendor/SOURCES.md


def article(**extra):
    rec = {
        "id": "unal2021rd",
        "type": "article-journal",
        "title": "R&D at 100% of $5 #1 snake_case {x} ~ ^ \\ in NATO's S-400 programme",
        "author": [{"family": "Ünal", "given": "Çağrı"}, {"literal": "World Bank"}],
        "container-title": "Defense & Security Analysis",
        "volume": "37", "issue": "4", "page": "435-452",
        "issued": {"date-parts": [[2021, 10, 28]]},
        "DOI": "10.1000/a_b#c", "URL": "https://doi.org/10.1000/a_b%23c",
        "ISSN": "1475-1798, 1475-1801",
    }
    rec.update(extra)
    return rec


def test_classic_bibtex_is_ascii_with_escapes():
    entry = render_entry(article(), biblatex=False)
    assert entry.isascii()
    assert entry.startswith("@article{unal2021rd,\n")
    assert "author = {{\\\"U}nal, {\\c{C}}a{\\u{g}}r{\\i} and {World Bank}}" in entry
    assert "journal = {Defense \\& Security Analysis}" in entry
    assert "month = oct," in entry and "year = {2021}" in entry
    assert "pages = {435--452}" in entry
    assert "doi = {10.1000/a_b#c}" in entry  # verbatim, never escaped
    assert "issn = {1475-1798}" in entry
    title = entry.split("title = ")[1].split("\n")[0]
    for escaped in ("\\&", "100\\%", "\\$5", "\\#1", "snake\\_case", "\\{x\\}",
                    "\\textasciitilde{}", "\\textasciicircum{}", "\\textbackslash{}", "{NATO's}", "{S-400}"):
        assert escaped in title, escaped


def test_lone_braces_are_written_as_text_commands():
    # bibtex counts \{ as a brace: only a balanced pair may be written so.
    assert escape("a } b {", "classic") == "a \\textbraceright{} b \\textbraceleft{}"
    assert escape("on {111} Ge", "classic") == "on \\{111\\} Ge"


def test_biblatex_is_utf8_with_date_and_journaltitle():
    entry = render_entry(article(), biblatex=True)
    assert "author = {Ünal, Çağrı and {World Bank}}" in entry
    assert "journaltitle = {Defense \\& Security Analysis}" in entry
    assert "date = {2021-10-28}" in entry
    assert "month" not in entry and "year" not in entry


def test_greek_and_math_travel_as_utf8_declared_for_pdflatex():
    # pandoc keeps {$\delta$} as TeX and citation-js misreads {\ensuremath{\delta}}:
    # the character itself, braced, with pdflatex's form declared in @preamble.
    assert escape("δ13C", "biblatex") == "{δ}13C"
    assert escape("δ13C", "classic") == "{δ}13C"
    assert escape("Ελληνικά ≤ 2", "classic") == "{Ελληνικά} {≤} 2"
    assert escape("Gödel", "biblatex") == "Gödel"
    assert escape("δ13C Gödel", "unicode") == "δ13C Gödel"
    assert escape("± 1", "classic") == "± 1"  # pdflatex's utf8 input knows it: no declaration


def test_preamble_declares_exactly_the_characters_written_as_utf8():
    from citetool.formats.bibtex import render_bibtex

    greek = article()
    greek["title"] = "The δ13C decline and Ε ≤ ΐ"
    bib = render_bibtex([greek])
    head, _, rest = bib.partition("@article{")
    assert head.startswith('@preamble{ "\\ifdefined\\XeTeXrevision')
    for ch, form in (("δ", "\\ensuremath{\\delta}"), ("Ε", "E"), ("≤", "\\ensuremath{\\leq}"),
                     ("ΐ", "\\ensuremath{{\\acute{\\ddot{\\iota}}}}")):
        assert f"\\ifcsname u8:\\detokenize{{{ch}}}\\endcsname\\else" in head, ch
        assert f"\\csname u8:\\detokenize{{{ch}}}\\endcsname{{{form}}}\\fi" in head, ch
    assert head.count("\\ifcsname") == 4
    assert render_bibtex([article()]).startswith("@article{")  # nothing to declare: no @preamble
    assert "@preamble" not in render_bibtex([greek], unicode=True)


def test_the_preamble_never_holds_a_replacement_character_itself():
    # LuaTeX stops on U+FFFD wherever it reads it, even in a branch it skips, and
    # biblatex reads its @preamble with the whole .bbl: pdfTeX's declaration spells
    # it as the three bytes pdfTeX reads, and LuaTeX reads what follows as \char65533.
    from citetool.formats.bibtex import render_biblatex, render_bibtex

    lost = article()
    lost["author"] = [{"family": "Mu\ufffdoz", "given": "Juan"}]
    head = render_bibtex([lost]).partition("@article{")[0]
    assert "\ufffd" not in head
    assert "\\detokenize{^^ef^^bf^^bd}" in head and "{\\citetoolglyph{FFFD}}" in head
    assert "char65533" in head
    # biblatex: biber copies the entries into the .bbl, which LuaTeX reads before any
    # @preamble acts: no U+FFFD in the file at all, a command the @preamble defines
    written = render_biblatex([lost])
    assert "\ufffd" not in written
    assert "Mu\\citetoolreplacementcharacter{}oz, Juan" in written
    assert "\\providecommand\\citetoolreplacementcharacter{" in written.partition("@article{")[0]
    assert "\ufffd" in render_biblatex([lost], unicode=True)  # --unicode: every character as itself


def test_a_given_name_written_in_utf8_keeps_a_whole_initial():
    # abbrv.bst cuts "Γιώργος" to its first byte (broken UTF-8): a special character instead.
    from citetool.formats.bibtex_names_titles import format_names

    assert format_names([{"family": "Παπαδόπουλος", "given": "Γιώργος"}], "classic") == \
        "{Παπαδόπουλος}, {\\textup{{Γ}}}{ιώργος}"
    assert format_names([{"family": "Wang", "given": "Xiao-Ming Émile"}], "classic") == "Wang, Xiao-Ming {\\'E}mile"
    assert format_names([{"family": "王", "given": "小明"}], "biblatex") == "王, 小明"
    # ... and stays one name: a lone "and" in it is protected as in any other given name
    assert format_names([{"family": "X", "given": "Γιώργος and Ελένη"}], "classic") == \
        "X, {{\\textup{{Γ}}}{ιώργος} and {\\textup{{Ε}}}{λένη}}"


def test_case_protection():
    assert protect_title("Russia’s soft power and the S-400", "classic").endswith("the {S-400}")
    # Sentence case: capitalised words past the first are proper nouns.
    assert "{Turkey}" in protect_title("Why Turkey buys weapons", "classic")
    # Title case: only acronyms and mixed case are protected.
    assert protect_title("The Impact of Structural Variation on Human mRNA", "classic") == \
        "The Impact of Structural Variation on Human {mRNA}"


@pytest.mark.parametrize(
    "csl_type, classic, biblatex",
    [
        ("article-journal", "article", "article"),
        ("book", "book", "book"),
        ("chapter", "incollection", "inbook"),
        ("paper-conference", "inproceedings", "inproceedings"),
        ("report", "techreport", "report"),
        ("thesis", "phdthesis", "thesis"),
        ("dataset", "misc", "dataset"),
        ("webpage", "misc", "online"),
    ],
)
def test_entry_types(csl_type, classic, biblatex):
    rec = article(type=csl_type, publisher="Some Press")
    assert choose_entry(rec, biblatex=False)[0] == classic
    assert choose_entry(rec, biblatex=True)[0] == biblatex


def test_missing_fields_keep_the_entry_type():
    # An article with no journal stays an article (bibtex may warn about the
    # field the source lacks); nothing is folded into howpublished.
    rec = article()
    del rec["container-title"]
    assert choose_entry(rec, biblatex=False)[0] == "article"
    assert choose_entry(rec, biblatex=True)[0] == "article"
    rec = {"id": "x", "type": "article-journal", "title": "T"}
    etype, fields = choose_entry(rec, biblatex=True)
    assert etype == "article" and fields["date"] == ("macro", "XXXX")


def test_bibtex_round_trips_through_bibtexparser():
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    rec = article()
    lib = bibtexparser.parse_string(render_entry(rec, biblatex=True),
                                    append_middleware=[LatexDecodingMiddleware()])
    assert not lib.failed_blocks
    entry = lib.entries[0]
    assert entry.key == "unal2021rd"
    assert entry["doi"] == "10.1000/a_b#c"
    assert "Ünal" in entry["author"]


def test_ris_values_cannot_break_the_record():
    rec = article(title="Line one\nER  - \nTY  - JOUR", abstract="a\n\nb")
    text = render("ris", [rec])
    lines = text.splitlines()
    assert lines[0] == "TY  - JOUR" and lines[-1] == "ER  - "
    assert sum(line.startswith("ER  -") for line in lines) == 1
    assert "TI  - Line one ER - TY - JOUR" in lines
    assert "AU  - Ünal, Çağrı" in lines and "AU  - World Bank" in lines
    assert "SP  - 435" in lines and "EP  - 452" in lines and "DA  - 2021/10/28" in lines
    import rispy

    parsed = rispy.loads(text)
    assert len(parsed) == 1 and parsed[0]["doi"] == "10.1000/a_b#c"


def test_csl_json_is_valid_against_the_official_schema():
    jsonschema = pytest.importorskip("jsonschema")
    rec = article(citetool={"fields": {}})
    rec["author"][0]["ORCID"] = "https://orcid.org/0000-0000-0000-0000"
    data = json.loads(render("csl-json", [rec]))
    assert "citetool" not in data[0] and "ORCID" not in data[0]["author"][0]
    assert data[0]["citation-key"] == "unal2021rd"
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(data)


def test_html_escapes_everything():
    html5lib = pytest.importorskip("html5lib")
    rec = article(title='<script>alert(1)</script> "quoted" & more', URL='https://x.org/"><script>')
    del rec["DOI"]
    text = render("html", [rec])
    assert "<script>" not in text
    doc = html5lib.parse(text, namespaceHTMLElements=False)
    assert doc.findall(".//script") == []
    link = doc.find(".//a")
    from urllib.parse import unquote

    assert unquote(link.get("href")) == 'https://x.org/"><script>'
    assert link.text == '<script>alert(1)</script> "quoted" & more'


def test_econpapers_style_author_lists():
    from citetool.formats.html import source_line

    three = article(author=[{"family": "A", "given": "X"}, {"family": "B", "given": "Y"}, {"family": "C", "given": "Z"}])
    text = render("text", [three])
    assert text.startswith("X A, Y B and Z C\n")
    assert source_line(article(page=None, number="e30", volume="5", issue=None)) == \
        "Defense & Security Analysis, 2021, vol. 5, article e30"


def test_empty_store_exports():
    assert render("bibtex", []) == ""
    assert json.loads(render("csl-json", [])) == []
    assert "No references." in render("html", [])


def test_a_reference_without_author_or_title_compiles_with_natbib(tmp_path):
    """Found trying the README as a newcomer: a RePEc handle added offline has no
    author and no title; its sort key was "[Untitled]", and natbib's author-year
    \\bibitem[...] stopped at the bracket ("Bibliography not compatible")."""
    import shutil
    import subprocess

    rec = {"id": "anonnd", "type": "article-journal", "container-title": "Applied Economics", "volume": "27"}
    bib = render("bibtex", [rec])
    key_line = next(line for line in bib.splitlines() if line.strip().startswith("key ="))
    assert not set("[]()") & set(key_line), bib
    if not (shutil.which("pdflatex") and shutil.which("bibtex")):
        pytest.skip("pdflatex/bibtex not installed (../shared/validators/install.sh)")
    (tmp_path / "refs.bib").write_text(bib, encoding="utf-8")
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{natbib}\\begin{document}\\nocite{*}"
                                      "\\bibliographystyle{plainnat}\\bibliography{refs}\\end{document}\n", encoding="utf-8")
    for command in (["pdflatex", "-interaction=nonstopmode", "doc"], ["bibtex", "doc"],
                    ["pdflatex", "-interaction=nonstopmode", "doc"]):
        subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120, check=False)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert "not compatible" not in log and "! " not in log, log[-2000:]


def test_threads_rendering_at_once_each_get_their_own_preamble():
    """The @preamble's characters are collected per thread (formats/bibtex.py
    _non_ascii_characters): a library used from several threads must not mix them."""
    import sys
    import threading

    from citetool.formats.bibtex import render_bibtex

    greek = [{"id": f"g{i}", "type": "article-journal", "title": f"Ελληνικά δ{i}"} for i in range(300)]
    maths = [{"id": f"m{i}", "type": "article-journal", "title": f"Bounds ≤ ∞ {i}"} for i in range(300)]
    expected = {"greek": render_bibtex(greek), "maths": render_bibtex(maths)}
    got: dict[str, list[str]] = {"greek": [], "maths": []}

    def work(name, records):
        for _ in range(20):
            got[name].append(render_bibtex(records))

    threads = [threading.Thread(target=work, args=(name, recs)) for name, recs in (("greek", greek), ("maths", maths))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns as often as Python lets them
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert "u8:\\detokenize{δ}" in expected["greek"] and "u8:\\detokenize{≤}" not in expected["greek"]
    assert "u8:\\detokenize{≤}" in expected["maths"] and "u8:\\detokenize{δ}" not in expected["maths"]
    assert got["greek"] == [expected["greek"]] * 20 and got["maths"] == [expected["maths"]] * 20


def test_a_link_holding_a_replacement_character_is_percent_encoded():
    # url and doi are verbatim: a LaTeX command would change the link, and LuaTeX
    # stops on U+FFFD in biber's .bbl; percent-encoded it is the same link
    from citetool.formats.bibtex import render_biblatex, render_bibtex

    lost = article()
    lost["URL"] = "https://example.org/caf\u00e9/\ufffd"
    lost["DOI"] = "10.1234/a\ufffdb"
    for render_dialect in (render_bibtex, render_biblatex):
        written = render_dialect([lost])
        assert "\ufffd" not in written
        assert "url = {https://example.org/caf\u00e9/%EF%BF%BD}" in written
        assert "doi = {10.1234/a%EF%BF%BDb}" in written


def test_an_imported_link_is_written_back_as_written(run, tmp_path):
    """A user's own url keeps its é (LaTeX's {\\'e} would be printed as such by \\url)."""
    bib = tmp_path / "in.bib"
    bib.write_text("@misc{k1,\n  title = {T},\n  author = {A, B},\n  year = {2020},\n"
                   "  url = {https://x.org/caf\u00e9/\ufffd},\n}\n", encoding="utf-8")
    assert run("import", str(bib)).exit_code == 0
    for fmt in ("bibtex", "biblatex"):
        assert "  url = {https://x.org/caf\u00e9/%EF%BF%BD},\n" in run("export", "-f", fmt).stdout
