"""The long tail: 6,852 genuine Crossref works (tests/fixtures/crossref_longtail,
recorded by five other projects' test suites) are added through the fake
Crossref, stored, exported once per format, and judged by the real consumers:

* bibtex + pdflatex with LaTeX's default OT1 encoding (check_bibtex.sh's own
  ``\\documentclass{article}``), the same with T1, and with LuaLaTeX;
* biber ``--validate-datamodel`` + biblatex + pdflatex: no entry skipped;
* pandoc: every text read as stored (BibTeX and CSL-JSON: 0 differences but
  pandoc's own re-parsing of a name, which it does to CSL-JSON too; biblatex:
  only the data-model limits of test_validators);
* citation-js: >= 99.5 % of the facts from each format;
* rispy and the CSL-JSON schema (check_ris.sh, check_csljson.sh).

A warning from bibtex or biber passes only when it states what the stored
record truly lacks (test_validators.truthful). Skipped, with the reason, when
../shared or the tools are missing. The whole module takes a few minutes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import conftest
import pytest
from test_validators import (
    _DIFF,
    CONTAINERLESS,
    VALIDATORS,
    facts_read,
    pandoc_differences,
    truthful,
    validate,
)

CORPUS = Path(__file__).parent / "fixtures" / "crossref_longtail"
pytestmark = [pytest.mark.validators, pytest.mark.corpus]


def corpus_works() -> list[dict]:
    works = []
    for path in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            works.extend(json.loads(line)["work"] for line in lines)
    return works


@pytest.fixture(scope="module")
def longtail(tmp_path_factory, make_httpserver):
    """A store holding every work of the corpus, added through the fake Crossref;
    (store, its CSL-JSON export as the reference, records by key)."""
    if not VALIDATORS.is_dir():
        pytest.skip(f"../shared not found ({VALIDATORS})")
    from typer.testing import CliRunner

    from citetool.cli import app

    home = tmp_path_factory.mktemp("longtail")
    served = home / "works"
    served.mkdir()
    works = corpus_works()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("CITETOOL_STORE", home / "store.json"), ("CITETOOL_CACHE_DIR", home / "cache"),
                            ("CITETOOL_DOI_URL", conftest.DEAD_URL), ("CITETOOL_CROSSREF_RATE", 1000),
                            ("CITETOOL_CROSSREF_LIST_RATE", 1000), ("CITETOOL_TIMEOUT", 30)):
            mp.setenv(name, str(value))
        mp.delenv("CITETOOL_MAILTO", raising=False)
        for n, work in enumerate(works):
            path = served / f"{n}.json"
            path.write_text(json.dumps({"status": "ok", "message-type": "work", "message": work}), encoding="utf-8")
            mp.setitem(conftest.ALL_WORKS, work["DOI"].lower(), path)
        fake = conftest.FakeCrossref(make_httpserver)
        mp.setenv("CITETOOL_CROSSREF_URL", fake.url)
        runner = CliRunner()
        try:
            added = runner.invoke(app, ["add", "-"], input="\n".join(w["DOI"] for w in works), catch_exceptions=False)
            # Two genuine DOIs end in a full stop ("10.21052/kcmr."), which is also how a
            # DOI ends a sentence: read without it first, then, not found so, with it.
            assert "error:" not in added.stderr, added.stderr[-3000:]
            assert sum(w["DOI"].endswith(".") for w in works) == 2
            reference = home / "reference.json"
            exported = runner.invoke(app, ["export", "-f", "csl-json", "-o", str(reference)])
            assert exported.exit_code == 0, exported.stderr
            listed = runner.invoke(app, ["list", "--json"])
        finally:
            make_httpserver.clear()
    records = {r["id"]: r for r in json.loads(listed.stdout)}
    return home / "store.json", reference, records, len(works)


@pytest.fixture
def export(longtail, run, tmp_path, monkeypatch):
    store, _, _, _ = longtail
    monkeypatch.setenv("CITETOOL_STORE", str(store))

    def _export(fmt: str, ext: str, *options: str) -> Path:
        out = tmp_path / f"refs-{fmt}{''.join(options)}.{ext}"
        result = run("export", "-f", fmt, "-o", str(out), *options)
        assert result.exit_code == 0, result.stderr
        return out
    return _export


def test_every_genuine_work_is_stored(longtail):
    """No Crossref record of an odd but harmless shape is refused: a bioRxiv,
    OSTI or APA record whose ``institution`` is one object, not a list, is
    stored with that institution as its publisher."""
    _, _, records, count = longtail
    assert len(records) == count
    by_doi = {r.get("DOI"): r for r in records.values()}
    assert by_doi["10.1101/2020.08.03.233692"]["publisher"] == "bioRxiv"
    assert by_doi["10.2172/92068"]["publisher"] == "Lawrence Berkeley National Laboratory (LBNL)"


# --- warnings about what a record truly lacks, beyond test_validators' ----------------

def _issn_valid(issn: str) -> bool:
    digits = issn.replace("-", "").upper()
    if not re.fullmatch(r"\d{7}[\dX]", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    return (11 - total % 11) % 11 == (10 if digits[7] == "X" else int(digits[7]))


def truthful_here(line: str, records: dict) -> bool:
    if truthful(line, records):
        return True
    if re.fullmatch(r"\[bibtex\] Field filled up at \d+, reallocating\.", line):
        return True  # bibtex growing its own memory: no word about the data
    m = re.search(r"Warning--to sort, need author or key in (\S+)", line)
    if m:  # plain.bst sorts an @article or @misc by author; the record has none
        return not records.get(m.group(1), {"author": "?"}).get("author")
    m = re.search(r"Range field 'pages' in entry '([^']+)' is malformed", line)
    if m:  # the source's own "0-0": biber keeps it as literal text
        page = str(records.get(m.group(1), {}).get("page", "1"))
        return set(re.findall(r"\d+", page)) == {"0"}
    m = re.search(r"Entry '([^']+)' \(refs\.bib\): Invalid ISSN in value of field 'issn'", line)
    if m:  # the source's own ISSN (a test DOI's 1234-5678), kept as is
        issns = str(records.get(m.group(1), {}).get("ISSN", "")).split(", ")
        return any(not _issn_valid(i) for i in issns)
    return False


def assert_only_truthful(proc: subprocess.CompletedProcess, records: dict) -> None:
    if proc.returncode == 0:
        return
    lines = [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith("FAIL:")]
    rest = [line for line in lines if not truthful_here(line, records)
            and not re.search(r"^\[bibtex\] \(There (?:was|were) \d+ warnings?\)\s+exit status [01]$", line)]
    assert not rest, "\n".join(rest[:30])


def test_classic_bibtex_passes_bibtex_and_pdflatex_in_ot1(export, longtail):
    """check_bibtex.sh: \\documentclass{article} with nothing else (OT1), plain.bst."""
    out = export("bibtex", "bib")
    assert_only_truthful(validate("bibtex", out), longtail[2])


def _split(bib: Path, entries_per_file: int) -> list[Path]:
    """The export cut into files of at most ``entries_per_file`` entries, each
    with the @preamble: biblatex holds every entry in TeX's memory, and
    pdflatex's main memory does not hold 6,852 of them."""
    blocks = re.split(r"\n(?=@)", bib.read_text(encoding="utf-8"))
    head = [b for b in blocks if b.startswith("@preamble")]
    entries = [b for b in blocks if not b.startswith("@preamble")]
    parts = []
    for n in range(0, len(entries), entries_per_file):
        path = bib.with_name(f"{bib.stem}-{n // entries_per_file}.bib")
        path.write_text("\n".join(head + entries[n:n + entries_per_file]), encoding="utf-8")
        parts.append(path)
    return parts


def test_biblatex_passes_biber_strict_and_pdflatex(export, longtail):
    """biber --validate-datamodel skips no entry and warns only of what a record
    lacks; biblatex + pdflatex (OT1) typeset every entry."""
    out = export("biblatex", "bib")
    for part in _split(out, 1500):
        assert_only_truthful(validate("biblatex", part), longtail[2])


_BBL: dict[str, bytes] = {}  # a .bib's SHA-256 -> the .bbl bibtex or biber made of it


def _latex_errors(bib: Path, preamble: str, engine: str, mode: str) -> list[str]:
    """Compile ``bib`` (every entry cited) with ``engine`` and ``preamble`` in the
    document; the errors in its log, "!"-lines with the line that follows."""
    for tool in (engine, mode):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed: run {VALIDATORS}/install.sh")
    work = bib.parent / f"{bib.stem}-{engine}-{mode}"
    work.mkdir()
    shutil.copy(bib, work / "refs.bib")
    if mode == "bibtex":
        body = "\\begin{document}\\nocite{*}\\bibliographystyle{plain}\\bibliography{refs}\\end{document}"
    else:
        preamble += "\\usepackage[backend=biber]{biblatex}\\addbibresource{refs.bib}"
        body = "\\begin{document}\\nocite{*}\\printbibliography\\end{document}"
    (work / "doc.tex").write_text("\\documentclass{article}" + preamble + "\\usepackage{url}\n" + body + "\n",
                                  encoding="utf-8")
    latex = [engine, "-interaction=nonstopmode", "-draftmode", "doc"]
    digest = hashlib.sha256(bib.read_bytes()).hexdigest()
    if digest in _BBL:  # bibtex's and biber's .bbl do not depend on the engine or font encoding
        (work / "doc.bbl").write_bytes(_BBL[digest])
    else:
        subprocess.run(latex, cwd=work, capture_output=True, timeout=600)
        subprocess.run([mode, "doc"], cwd=work, capture_output=True, timeout=600)
        _BBL[digest] = (work / "doc.bbl").read_bytes()
    subprocess.run(latex, cwd=work, capture_output=True, timeout=600)
    log = (work / "doc.log").read_text(encoding="utf-8", errors="replace").splitlines()
    return [" / ".join(log[i:i + 3]) for i, line in enumerate(log) if line.startswith("!")]


@pytest.mark.parametrize("fmt, mode, preamble, engine", [
    ("bibtex", "bibtex", "\\usepackage[T1]{fontenc}", "pdflatex"),
    ("bibtex", "bibtex", "", "lualatex"),
    ("biblatex", "biber", "\\usepackage[T1]{fontenc}", "pdflatex"),
    ("biblatex", "biber", "", "lualatex"),
])
def test_other_encodings_and_engines_typeset_every_entry(export, fmt, mode, preamble, engine):
    """The same exports with \\usepackage[T1]{fontenc}, and with LuaLaTeX (which
    has no glyph for CJK in its default font: "Missing character" is a
    warning, no error)."""
    out = export(fmt, "bib")
    parts = [out] if mode == "bibtex" else _split(out, 1500)
    errors = [e for part in parts for e in _latex_errors(part, preamble, engine, mode)]
    assert errors == [], "\n".join(errors[:20])
    if mode == "biber":  # docs/formats.md: U+FFFD never reaches biber's .bbl as itself (LuaTeX stops on it)
        assert "\ufffd" not in out.read_text(encoding="utf-8")
        assert out.read_text(encoding="utf-8").count("\\citetoolreplacementcharacter{}") >= 17


@pytest.mark.parametrize("fmt, unicode", [("bibtex", False), ("biblatex", False), ("bibtex", True), ("biblatex", True),
                                          ("csl-json", False)])
def test_pandoc_reads_every_text_as_stored(export, longtail, fmt, unicode):
    """Characters, spaces, particles, containers. The differences pandoc also
    makes reading the CSL-JSON export, which holds each name's parts and has
    nothing to parse, are pandoc's own re-parsing of a name (an apostrophe
    particle "d'Arminio" split off, a comma in a given name read as a suffix):
    no export can avoid them, and they are the only ones allowed besides
    biblatex's data model (test_validators.CONTAINERLESS). A backquote
    (U+0060, "Lavrent`yeva"), which pandoc would read as an opening quote, is
    a grave accent on nothing: {\\`{}} in classic BibTeX, \\`{} where biber reads
    it (biber rewrites {\\`{}} into a broken {\\`})."""
    _, reference, records, _ = longtail
    csl_only, _ = pandoc_differences(reference, reference, records, "csl-json")
    pandocs_own = {_DIFF.match(line).group(1, 2) for line in csl_only}
    out = export(fmt, "json" if fmt == "csl-json" else "bib", *(["--unicode"] if unicode else []))
    unexplained, explained = pandoc_differences(out, reference, records, fmt)
    unexplained = [line for line in unexplained if not (_DIFF.match(line) and _DIFF.match(line).group(1, 2) in pandocs_own)]
    assert unexplained == [], "\n".join(unexplained[:40])
    assert len(csl_only) <= 3, csl_only  # pandoc's own re-parsing: names in two works of 6,852
    assert len(explained) <= 2 * sum(1 for r in records.values() if r["type"] in CONTAINERLESS)
    print(f"pandoc, {out.name}: {len(explained)} data-model difference(s), {len(csl_only)} of pandoc's own")


def test_citation_js_reads_back_the_facts(export, longtail):
    """>= 99.5 % of the facts (title, authors in order, container, volume, issue,
    first page, year, DOI) from each format. Run with -s to see every fact missed."""
    _, reference, _, _ = longtail
    for fmt, ext, input_type in (("bibtex", "bib", "@bibtex/text"), ("biblatex", "bib", "@biblatex/text"),
                                 ("ris", "ris", "@ris/file")):
        total, missed, _ = facts_read(reference, export(fmt, ext), input_type)
        share = 1 - len(missed) / total
        print(f"citation-js read {total - len(missed)}/{total} facts ({share:.2%}) from {fmt}"
              + "".join("\n  missed " + m for m in missed))
        assert share >= 0.995, "\n".join(missed[:60])


@pytest.mark.parametrize("fmt, ext", [("ris", "ris"), ("csl-json", "json")])
def test_ris_and_csl_json_pass_their_checks(export, fmt, ext):
    proc = validate(fmt, export(fmt, ext))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def test_every_character_pdflatex_meets_compiles(tmp_path):
    """Every assigned code point (U+00A0 to U+2FFFF), written as each dialect
    writes it, with the @preamble it gets, through pdflatex in OT1 and in T1."""
    from citetool.formats.latex_text import BIBLATEX, CLASSIC, escape, preamble

    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed")
    import unicodedata

    chars = [chr(c) for c in range(0xA0, 0x30000)
             if unicodedata.category(chr(c)) not in ("Cn", "Co", "Cs")]
    for mode in (CLASSIC, BIBLATEX):
        forms = [escape(c, mode) for c in chars]
        declared = preamble(forms, mode)[len('@preamble{ "'):].rsplit('"', 1)[0]
        for encoding in ("", "\\usepackage[T1]{fontenc}"):
            lines = [f"\\typeout{{AT {n}}}{form}\\par" for n, form in enumerate(forms)]
            doc = tmp_path / f"all-{mode}-{bool(encoding)}.tex"
            doc.write_text("\n".join(["\\documentclass{article}" + encoding, "\\begin{document}", declared,
                                      *lines, "\\end{document}"]), encoding="utf-8")
            subprocess.run(["pdflatex", "-interaction=nonstopmode", "-draftmode", doc.name], cwd=tmp_path,
                           capture_output=True, timeout=600)
            log = doc.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
            failed, at = [], None
            for line in log.splitlines():
                if line.startswith("AT "):
                    at = int(line[3:])
                elif line.startswith("!"):
                    failed.append(f"U+{ord(chars[at]):04X} {forms[at]!r}: {line}" if at is not None else line)
            assert failed == [], f"{mode} {encoding or 'OT1'}:\n" + "\n".join(failed[:20])
            assert f"AT {len(chars) - 1}" in log  # every line was read



def test_an_all_caps_title_is_not_frozen(export, longtail):
    """Crossref serves some titles in capitals ("THE IMPACT OF …"): braced word
    by word they would stay capitals in every style, so they are left to it."""
    _, _, records, _ = longtail
    all_caps = {key for key, r in records.items() if " " in r.get("title", "") and r["title"].isupper()}
    assert len(all_caps) > 100
    for fmt in ("bibtex", "biblatex"):
        titles = dict(re.findall(r"^@\w+\{([^,\s]+),\n(?:  (?!title).*\n)*  title = \{(.*)\},$",
                                 export(fmt, "bib").read_text(encoding="utf-8"), re.M))
        frozen = [f"{key}: {titles[key]}" for key in sorted(all_caps) if re.search(r"\{[A-Z]{2,}", titles[key])]
        assert frozen == [], "\n".join(frozen[:20])


# --- names: what bibtex and biber read of each name list ------------------------------

# A style of a dozen lines whose only work is to have bibtex say what it reads of
# each name list: how many names, and each name's von, last, first and jr parts.
_NAMES_BST = r"""ENTRY { author editor } {} {}
INTEGERS { n i }
STRINGS { s role }
FUNCTION {not} { { #0 } { #1 } if$ }
FUNCTION {dump}
{ 'role := 's :=
  s num.names$ 'n :=
  "COUNT " cite$ * " " * role * " " * n int.to.str$ * write$ newline$
  #1 'i :=
  { i n > not }
  { "NAME " cite$ * " " * role * " " * i int.to.str$ * " |" *
      s i "{vv}" format.name$ * "|" * s i "{ll}" format.name$ * "|" *
      s i "{ff}" format.name$ * "|" * s i "{jj}" format.name$ * "|END" * write$ newline$
    i #1 + 'i :=
  }
  while$
}
FUNCTION {item}
{ author empty$ 'skip$ { author "author" dump } if$
  editor empty$ 'skip$ { editor "editor" dump } if$
}
FUNCTION {default.type} { item }
READ
ITERATE {call.type$}
"""

ROLES = ("author", "editor")


def _bare(text: str) -> str:
    """A name part as a .bbl gives it, with the braces around the whole of it
    and TeX's ties and name delimiters taken off, to compare with the store."""
    text = re.sub(r"\\bibnamedelim[a-di]|\\bibinitdelim|~", " ", text).strip()
    while text.startswith("{") and _closing_brace(text) == len(text) - 1:
        text = text[1:-1]
    return re.sub(r"\s+", " ", text)


def _closing_brace(text: str) -> int:
    depth = 0
    for n, c in enumerate(text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0:
            return n
    return -1


def _as_stored(name: dict) -> tuple[str, str, str]:
    return name.get("family") or name.get("literal") or "", name.get("given", ""), name.get("suffix", "")


def _is_tricky(name: dict) -> bool:
    return "suffix" in name or any("," in str(part) for part in name.values())


def _biber(bib: Path) -> tuple[str, list[str]]:
    """The .bbl biber --validate-datamodel makes of ``bib`` (every entry cited),
    and the warnings and errors in its log."""
    for tool in ("pdflatex", "biber"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed: run {VALIDATORS}/install.sh")
    work = bib.parent / f"{bib.stem}-biber"
    work.mkdir()
    shutil.copy(bib, work / "refs.bib")
    (work / "doc.tex").write_text("\\documentclass{article}\\usepackage[backend=biber]{biblatex}"
                                  "\\addbibresource{refs.bib}\\begin{document}\\nocite{*}\\printbibliography"
                                  "\\end{document}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-draftmode", "doc"], cwd=work, capture_output=True,
                   timeout=600)
    subprocess.run(["biber", "--validate-datamodel", "doc"], cwd=work, capture_output=True, timeout=600)
    said = re.findall(r"> ((?:WARN|ERROR) - .*)", (work / "doc.blg").read_text(encoding="utf-8"))
    return (work / "doc.bbl").read_text(encoding="utf-8"), said


def test_bibtex_and_biber_read_each_name_list_as_stored(export, longtail, tmp_path):
    """Genuine names with a comma: Crossref's family "Trotter, Jr." (three
    works) and "ESCHARD, REMI, GUY DESAUBLIAUX, RUE", a given name "Ali, A",
    institutions ("Faculty, Jaypee Business School, JIIT, Noida, India."),
    and suffixes. bibtex counts the names of every entry of the corpus as
    stored and reads each such name's parts as stored (its own num.names$ and
    format.name$, asked by a style that only prints them); biber
    --validate-datamodel skips none of their entries, warns of no name, and
    gives the same names and parts in its .bbl."""
    records = longtail[2]
    tricky = {key: r for key, r in records.items() if any(_is_tricky(n) for role in ROLES for n in r.get(role) or [])}
    assert sum(1 for r in tricky.values() for role in ROLES for n in r.get(role) or []
               if "," in (n.get("family") or "")) >= 4
    if not shutil.which("bibtex"):
        pytest.skip("bibtex not installed")
    bib = export("bibtex", "bib")
    (tmp_path / "names.bst").write_text(_NAMES_BST, encoding="utf-8")
    (tmp_path / "names.aux").write_text(f"\\citation{{*}}\n\\bibstyle{{names}}\n\\bibdata{{{bib.stem}}}\n",
                                        encoding="utf-8")
    subprocess.run(["bibtex", "names"], cwd=tmp_path, capture_output=True, timeout=600)
    read = (tmp_path / "names.bbl").read_text(encoding="utf-8").replace("\n  ", " ")  # bibtex wraps at 79
    counts = {(key, role): int(n) for key, role, n in re.findall(r"^COUNT (\S+) (\w+) (\d+)$", read, re.M)}
    stored = {(key, role): len(r[role]) for key, r in records.items() for role in ROLES if r.get(role)}
    assert len(counts) > 6000
    assert {k: (v, stored.get(k)) for k, v in counts.items() if stored.get(k) != v} == {}
    parts = {(key, role, int(n)): fields.split("|")
             for key, role, n, fields in re.findall(r"^NAME (\S+) (\w+) (\d+) \|(.*)\|END$", read, re.M)}
    for key, record in tricky.items():
        for role in ROLES:
            for n, name in enumerate(record.get(role) or [], 1):
                if _is_tricky(name):
                    von, last, first, jr = (_bare(p) for p in parts[(key, role, n)])
                    assert (" ".join(filter(None, (von, last))), first, jr) == _as_stored(name), key

    blocks = re.split(r"\n(?=@)", export("biblatex", "bib").read_text(encoding="utf-8"))
    part = tmp_path / "names-biblatex.bib"
    part.write_text("\n".join(b for b in blocks if b.startswith("@preamble")
                              or re.match(r"@\w+\{([^,]+),", b)[1] in tricky), encoding="utf-8")
    bbl, said = _biber(part)
    assert [line for line in said if not truthful_here(line, records)] == []
    entries = dict(re.findall(r"\\entry\{([^}]+)\}\{\w+\}\{[^}]*\}\n(.*?)\\endentry", bbl, re.S))
    assert set(entries) == set(tricky)  # biber skipped none
    for key, record in tricky.items():
        for role in ROLES:
            names = record.get(role) or []
            block = re.search(r"\\name\{" + role + r"\}\{(\d+)\}\{\}\{%\n(.*?)\n      \}", entries[key], re.S)
            assert (int(block[1]) if block else 0) == len(names), (key, role)
            got = re.findall(r"\{\{[^{}]*hash=\w+\}\{%\n(.*?)\}\}%", block[2], re.S) if block else []
            assert len(got) == len(names), (key, role)
            for name, fields in zip(names, got, strict=True):
                if _is_tricky(name):
                    part_of = dict(re.findall(r"(family|given|suffix|prefix)=(\{.*\}),?$", fields, re.M))
                    family = " ".join(_bare(part_of[p]) for p in ("prefix", "family") if p in part_of)
                    assert (family, _bare(part_of.get("given", "")), _bare(part_of.get("suffix", ""))) \
                        == _as_stored(name), key
