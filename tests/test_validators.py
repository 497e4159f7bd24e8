"""Real consumers judge the exports: every fixture, every format, through
../shared/validators/check_*.sh (bibtex+pdflatex, biber+biblatex, rispy,
citation-js, the CSL-JSON schema, citeproc-py, pandoc, vnu, html5lib, tidy).

Exports keep every work's type and fields, so bibtex and biber may warn about a
field the source truly lacks ("empty author" for an editorial): each such
warning is checked against the stored record, and any other warning fails.

Skipped, with the reason, where the validators are not installed
(``bash ../shared/validators/install.sh``); .ci/run installs them.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

VALIDATORS = Path(__file__).resolve().parents[2] / "shared" / "validators"

CHECKS = {
    "bibtex": ("check_bibtex.sh", "bib", {"BIB_MODE": "bibtex"}),
    "biblatex": ("check_bibtex.sh", "bib", {"BIB_MODE": "biber"}),
    "ris": ("check_ris.sh", "ris", {}),
    "csl-json": ("check_csljson.sh", "json", {}),
    "html": ("check_html.sh", "html", {}),
}


def validate(fmt: str, path: Path, extra_env: dict | None = None, script: str | None = None,
             args: tuple = ()) -> subprocess.CompletedProcess:
    script = script or CHECKS[fmt][0]
    env = CHECKS[fmt][2] if fmt in CHECKS else {}
    if not (VALIDATORS / script).exists():
        pytest.skip(f"validators not found at {VALIDATORS}")
    proc = subprocess.run(
        ["bash", str(VALIDATORS / script), str(path), *args],
        capture_output=True, text=True, env={**os.environ, **env, **(extra_env or {})}, timeout=600,
    )
    if proc.returncode == 2:
        pytest.skip(f"{script}: tools missing ({proc.stderr.strip()[:200]}); run {VALIDATORS}/install.sh")
    return proc


# --- warnings about what a record truly lacks ------------------------------------------

def _lacks(rec: dict, field: str) -> bool:
    """Does the stored record truly lack what a BibTeX/biblatex field would hold?"""
    csl = {"author": ("author",), "editor": ("editor",), "journal": ("container-title",),
           "journaltitle": ("container-title",), "booktitle": ("container-title",),
           "publisher": ("publisher",), "institution": ("publisher",), "school": ("publisher",),
           "date": ("issued",), "year": ("issued",), "volume": ("volume",)}[field]
    return not any(rec.get(f) for f in csl)


def truthful(line: str, records: dict) -> bool:
    """A warning that states a fact about the stored record (so it is not hidden
    by dropping or folding a field), or False."""
    m = re.search(r"Warning--empty (\w+)(?: and (\w+))? in (\S+)", line)
    if m:
        rec = records.get(m.group(3))
        return rec is not None and all(_lacks(rec, f) for f in m.groups()[:2] if f)
    m = re.search(r"Warning--can't use both author and editor fields in (\S+)", line)
    if m:
        rec = records.get(m.group(1), {})
        return bool(rec.get("author") and rec.get("editor"))
    m = re.search(r"Warning--there's a number but no volume in (\S+)", line)
    if m:
        return _lacks(records.get(m.group(1), {"volume": "?"}), "volume")
    m = re.search(r"Entry '([^']+)' \(refs\.bib\): Missing mandatory field '(\w+)'", line)
    if m:
        rec = records.get(m.group(1))
        return rec is not None and _lacks(rec, m.group(2))
    m = re.search(r"Entry '([^']+)' \(refs\.bib\): Invalid value of field 'volume' must be datatype 'integer'", line)
    if m:  # a double volume such as "410-411": biblatex's data model has integers only
        return not str(records.get(m.group(1), {}).get("volume", "1")).isdigit()
    m = re.search(r"ISBN '([^']+)' in entry '([^']+)' is invalid", line)
    if m:
        # The source's own ISBN, kept as is: either its check digit is wrong, or
        # (978-65-83115-26-3) biber's table of ISBN ranges predates its publisher.
        own = str(records.get(m.group(2), {}).get("ISBN", "")).replace("-", "")
        return m.group(1).replace("-", "") in own
    return False


def assert_accepted(proc: subprocess.CompletedProcess, records: dict) -> None:
    """check_bibtex.sh passed, or failed only on truthful warnings."""
    if proc.returncode == 0:
        assert "OK" in proc.stdout
        return
    problems = [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith("FAIL:")]
    accepted = [line for line in problems if truthful(line, records)]
    count = re.search(r"\(There (?:was|were) (\d+) warnings?\)\s+exit status [01]$", proc.stdout, re.M)
    rest = [line for line in problems if line not in accepted and not re.search(
        r"^\[bibtex\] \(There (?:was|were) \d+ warnings?\)\s+exit status [01]$", line)]
    assert not rest, "\n".join(rest[:30])
    if count:  # bibtex counted exactly the warnings accepted above
        assert int(count.group(1)) == sum(line.startswith("[bibtex] Warning--") for line in accepted)


# --- stores: every genuine fixture, single works and list items -----------------------

REPEC_HANDLES = Path(__file__).resolve().parent / "fixtures" / "vendor" / "repec-handles.tsv"  # origin: fixtures/vendor/SOURCES.md
LIST_ITEMS = sorted((Path(__file__).parent / "fixtures" / "crossref" / "list-items").glob("*.json"))


@pytest.fixture
def genuine_works(crossref, tmp_path, monkeypatch):
    """Every recorded Crossref work: the single-work responses and the items of
    recorded list responses (served as single works by the fake Crossref)."""
    import conftest

    served = tmp_path / "list-items"
    served.mkdir()
    for path in LIST_ITEMS:
        message = json.loads(path.read_text(encoding="utf-8"))
        doi = message["DOI"].lower()
        if doi not in conftest.ALL_WORKS:
            wrapped = served / path.name
            wrapped.write_text(json.dumps({"status": "ok", "message-type": "work", "message": message}),
                               encoding="utf-8")
            monkeypatch.setitem(conftest.ALL_WORKS, doi, wrapped)
    return sorted(conftest.ALL_WORKS)


@pytest.fixture(params=["crossref-fixtures", "repec-handles"])
def full_store(request, genuine_works, econpapers, run):
    if request.param == "crossref-fixtures":
        ids = genuine_works
        result = run("add", "-", input="\n".join(ids))
    else:  # every RePEc handle we know, offline (the thinnest records), and the seed online
        if not REPEC_HANDLES.exists():
            pytest.skip(f"{REPEC_HANDLES} not found")
        ids = [line.split("\t")[0] for line in REPEC_HANDLES.read_text(encoding="utf-8").splitlines()[1:]]
        result = run("add", "--offline", "-", input="\n".join(ids))
        assert run("add", "--refresh", ids[0]).exit_code == 0
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.split()) == len(ids)
    return result


def stored(run) -> dict:
    return {r["id"]: r for r in json.loads(run("list", "--json").stdout)}


@pytest.mark.validators
@pytest.mark.parametrize("fmt", sorted(CHECKS))
def test_every_fixture_passes_the_real_consumers(full_store, run, tmp_path, fmt):
    out = tmp_path / f"refs.{CHECKS[fmt][1]}"
    result = run("export", "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    proc = validate(fmt, out)
    if fmt in ("bibtex", "biblatex"):
        assert_accepted(proc, stored(run))
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "OK" in proc.stdout


def test_an_untruthful_warning_is_not_accepted():
    records = {"a": {"author": [{"family": "X"}], "container-title": "J", "volume": "3"}}
    assert not truthful("[bibtex] Warning--empty author in a", records)
    assert not truthful("[bibtex] Warning--empty journal in a", records)
    assert not truthful("[bibtex] Warning--there's a number but no volume in a", records)
    assert not truthful("[biber] WARN - Datamodel: Entry 'a' (refs.bib): Missing mandatory field 'author'", records)
    assert not truthful("[bibtex] Warning--empty author in unknown", records)
    assert truthful("[bibtex] Warning--empty editor in a", {"a": {}})
    assert not truthful("[bibtex] something else entirely", records)


# --- pandoc and citation-js read the exports as the store holds them -------------------

# A hostile set of our own, beside the genuine fixtures: every character class of the
# README's table, LaTeX specials, particles, single names, lists of publishers.
HOSTILE = [
    {"id": "hostileLatin", "type": "article-journal",
     "title": "Predator–prey — 30°S £15 ½ µm ™ Ðuro Þór ðe Nguyễn ặ ị Ortí Ș Ț ǅ ‐ {111} & 100% $5 #1 a_b ~ ^",
     "author": [{"family": "Nguyễn", "given": "Văn Ịch"}, {"family": "van Lieshout", "given": "Emile"},
                {"family": "Ehtisham-ul-Haq"}, {"family": "Perutz", "given": "M.F."},
                {"family": "Gundert‐Remy", "given": "Ursula"}, {"literal": "World Bank"}],
     "container-title": "Ştiinţă & Tehnică", "volume": "7", "issue": "2", "page": "11-19",
     "issued": {"date-parts": [[2020, 3]]}, "DOI": "10.5555/hostile.latin"},
    {"id": "hostileScripts", "type": "chapter",
     "title": "漢字のタイトル and عنوان عربي with emoji 🎉 and Ελληνικά",
     "author": [{"family": "王", "given": "小明"}, {"family": "الخوارزمي", "given": "محمد"}],
     "editor": [{"family": "Müller", "given": "Jürgen"}],
     "container-title": "Handbook of Everything", "publisher": "Springer Science and Business Media LLC",
     "page": "1-2", "issued": {"date-parts": [[2019]]}, "DOI": "10.5555/hostile.scripts"},
    {"id": "hostileGreek", "type": "article-journal",
     "title": "Ελληνικά: the δ13C decline, Ω ≤ ∞, ά ΐ ϑ and 𝙰",
     "author": [{"family": "Παπαδόπουλος", "given": "Γιώργος"}, {"family": "Σπύρου", "given": "Ελένη-Μαρία"},
                {"family": "Smith", "given": "Γ. Alan"}],
     "container-title": "Δελτίο", "volume": "3", "page": "5-9", "issued": {"date-parts": [[2021]]},
     "DOI": "10.5555/hostile.greek"},
]


@pytest.fixture
def fidelity_store(genuine_works, run, tmp_path):
    result = run("add", "-", input="\n".join(genuine_works))
    assert result.exit_code == 0, result.stderr
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(HOSTILE, ensure_ascii=False), encoding="utf-8")
    assert run("import", str(hostile)).exit_code == 0
    reference = tmp_path / "reference.json"
    assert run("export", "-f", "csl-json", "-o", str(reference)).exit_code == 0
    return reference, stored(run)


# biblatex's data model gives @dataset and @misc no container field, and pandoc
# reads a container only from journaltitle (or a chapter's booktitle): biber
# --validate-datamodel rejects both there. So a dataset's repository and an
# untyped document's container travel under the fields those types have
# (publisher, organization, howpublished), which pandoc reads as publisher.
# Classic BibTeX has no data model: its @misc carries journal as well (0 differences).
CONTAINERLESS = {"dataset", "document"}
_DIFF = re.compile(r"^(\S+): ([\w-]+) (.*) \(the store says (.*)\)$")


def _without_fffd(value: str) -> str:
    """A value check_pandoc.sh printed (a Python repr), without U+FFFD and the spaces around it."""
    return re.sub(r"\s+", " ", value.replace("\ufffd", "")).strip(" '\"")


def _halves(export: Path, reference: Path) -> list[tuple[Path, Path]]:
    """``export`` cut in two (a .bib's @preamble and @string in both), each with the
    reference items of its own entries."""
    items = json.loads(reference.read_text(encoding="utf-8"))
    if export.suffix == ".json":
        exported = json.loads(export.read_text(encoding="utf-8"))
        halves = [exported[:len(exported) // 2], exported[len(exported) // 2:]]
        texts = [json.dumps(half, ensure_ascii=False) for half in halves]
        ids = [{str(item.get("id")) for item in half} for half in halves]
    else:
        blocks = re.split(r"\n(?=@)", export.read_text(encoding="utf-8"))
        shared = [b for b in blocks if re.match(r"@(?:preamble|string|comment)\b", b, re.IGNORECASE)]
        entries = [b for b in blocks if b not in shared]
        halves = [entries[:len(entries) // 2], entries[len(entries) // 2:]]
        texts = ["\n".join(shared + half) for half in halves]
        ids = [{m.group(1) for b in half if (m := re.match(r"@\w+\{([^,\s]+),", b))} for half in halves]
    parts = []
    for n, (text, wanted) in enumerate(zip(texts, ids, strict=True)):
        part = export.with_name(f"{export.stem}.{n}{export.suffix}")
        part.write_text(text, encoding="utf-8")
        part_reference = reference.with_name(f"{reference.stem}.{export.stem}.{n}.json")
        part_reference.write_text(json.dumps([i for i in items if str(i.get("id")) in wanted], ensure_ascii=False),
                                  encoding="utf-8")
        parts.append((part, part_reference))
    return parts


def pandoc_differences(export: Path, reference: Path, records: dict, fmt: str) -> tuple[list[str], list[str]]:
    """(unexplained, explained) differences check_pandoc.sh reports: all of them
    (it prints the first 40 and their number: beyond 40 the export is read in halves)."""
    env = {"PANDOC_FROM": "biblatex"} if fmt == "biblatex" else {}
    proc = validate("csl-json", export, env, script="check_pandoc.sh", args=(str(reference),))
    if proc.returncode == 0:
        assert "OK" in proc.stdout
        return [], []
    counted = re.search(r"^(\d+) difference\(s\)$", proc.stdout, re.MULTILINE)
    shown = [line for line in proc.stdout.splitlines() if not line.startswith("FAIL:") and line != counted.group()] \
        if counted else []
    if counted and int(counted.group(1)) > len(shown):
        unexplained, explained = [], []
        for part, part_reference in _halves(export, reference):
            more_unexplained, more_explained = pandoc_differences(part, part_reference, records, fmt)
            unexplained += more_unexplained
            explained += more_explained
        return unexplained, explained
    unexplained, explained = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("FAIL:") or re.fullmatch(r"\d+ difference\(s\)", line):
            continue
        m = _DIFF.match(line)
        rec = records.get(m.group(1), {}) if m else {}
        if m and fmt == "biblatex" and m.group(2) == "container-title" and rec.get("type") in CONTAINERLESS:
            explained.append(line)
        elif (m and fmt == "biblatex" and rec.get("type") == "document"
              and m.group(2) in ("volume", "issue", "page")):
            explained.append(line)  # biblatex's @misc has no such fields: they travel in howpublished
        elif m and fmt == "biblatex" and "\ufffd" in m.group(4) and _without_fffd(m.group(4)) == _without_fffd(m.group(3)):
            # docs/formats.md, known limits: a biblatex export writes U+FFFD (a character lost
            # upstream) as \citetoolreplacementcharacter{}, which pandoc drops: LuaTeX stops on U+FFFD
            explained.append(line)
        else:
            unexplained.append(line)
    return unexplained, explained


@pytest.mark.validators
@pytest.mark.parametrize("fmt, unicode", [("bibtex", False), ("biblatex", False), ("bibtex", True),
                                          ("biblatex", True), ("csl-json", False)])
def test_pandoc_reads_every_export_as_the_store_holds_it(fidelity_store, run, tmp_path, fmt, unicode):
    reference, records = fidelity_store
    out = tmp_path / (f"refs-{fmt}{'-unicode' if unicode else ''}." + ("json" if fmt == "csl-json" else "bib"))
    assert run("export", "-f", fmt, "-o", str(out), *(["--unicode"] if unicode else [])).exit_code == 0
    unexplained, explained = pandoc_differences(out, reference, records, fmt)
    assert unexplained == [], "\n".join(unexplained)
    # The explained gaps are few and named: no more than the works of those kinds.
    assert len(explained) <= 2 * sum(1 for r in records.values() if r["type"] in CONTAINERLESS), explained
    print(f"pandoc, {out.name}: {len(explained)} explained difference(s)" + "".join("\n  " + e for e in explained))


# --- citation-js reads back the facts ----------------------------------------------------

NPM_DIR = Path(os.environ.get("CITETOOL_NPM_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
               / "citetool-validators" / "node")
CITATION_JS = """
const {Cite} = require("@citation-js/core");
require("@citation-js/plugin-bibtex"); require("@citation-js/plugin-ris"); require("@citation-js/plugin-csl");
const [file, type] = process.argv.slice(1);
const items = new Cite(require("fs").readFileSync(file, "utf8"), {forceType: type}).data;
// _graph: the whole input, once per item (a 4 MB file read in 6,850 items would be written 6,850 times)
process.stdout.write(JSON.stringify(items.map(({_graph, ...item}) => item)));
"""


def citation_js(path: Path, input_type: str) -> list[dict]:
    import shutil

    if not (NPM_DIR / "node_modules" / "@citation-js" / "plugin-bibtex").is_dir() or not shutil.which("node"):
        pytest.skip(f"citation-js not installed in {NPM_DIR}: run {VALIDATORS}/install.sh")
    proc = subprocess.run(["node", "-e", CITATION_JS, str(path), input_type], capture_output=True, text=True,
                          env={**os.environ, "NODE_PATH": str(NPM_DIR / "node_modules")}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _norm(value) -> str:
    import unicodedata

    text = unicodedata.normalize("NFC", str(value or ""))
    text = re.sub("[\u2018\u2019\u201c\u201d\"']", "'", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def facts(item: dict) -> dict:
    """The facts a reader must get back: title, authors in order, container,
    volume, issue, first page, year, DOI."""
    def person(p):
        family = " ".join(filter(None, (p.get("non-dropping-particle"), p.get("family") or p.get("literal"))))
        return _norm(family) + "|" + _norm(" ".join(filter(None, (p.get("given"), p.get("dropping-particle")))))

    try:
        year = str(item["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError):
        year = ""
    return {"title": _norm(item.get("title")), "authors": [person(p) for p in item.get("author") or []],
            "container": _norm(item.get("container-title")), "volume": _norm(item.get("volume")),
            "issue": _norm(item.get("issue")), "first page": _norm(re.split(r"[-\u2013]", str(item.get("page") or ""))[0]),
            "year": year, "DOI": _norm(item.get("DOI"))}


CITATION_JS_FORMATS = (("bibtex", "bib", "@bibtex/text"), ("biblatex", "bib", "@biblatex/text"), ("ris", "ris", "@ris/file"))


def facts_read(reference: Path, export: Path, input_type: str) -> tuple[int, list[str], list[str]]:
    """(facts stored, facts citation-js did not read back, containers read under another variable)."""
    want = {item["id"]: facts(item) for item in json.loads(reference.read_text(encoding="utf-8"))}
    read = {str(item.get("id")): item for item in citation_js(export, input_type)}
    total, missed, elsewhere = 0, [], []
    for key, their_facts in want.items():
        got = facts(read.get(key, {}))
        for name, value in their_facts.items():
            if not value:
                continue
            total += 1
            if got[name] == value:
                continue
            if name == "container" and not got["container"] and value in (
                    _norm(read.get(key, {}).get(v)) for v in ("collection-title", "publisher", "title")):
                # The format's type has no container field (biblatex @dataset, @periodical,
                # RIS DATA): the value is read, under the variable that type has.
                elsewhere.append(key)
                continue
            missed.append(f"{key}: {name} {got[name]!r} (stored {value!r})")
    return total, missed, elsewhere


@pytest.mark.validators
def test_citation_js_reads_back_the_facts(fidelity_store, run, tmp_path):
    """>= 99.5 % of the facts (title, authors in order, container, volume, issue,
    first page, year, DOI) over the BibTeX, biblatex and RIS exports, and no
    format below 99 %. Run with -s to see the figures and every fact missed."""
    reference, _ = fidelity_store
    all_total, all_missed = 0, []
    for fmt, ext, input_type in CITATION_JS_FORMATS:
        out = tmp_path / f"refs-{fmt}.{ext}"
        assert run("export", "-f", fmt, "-o", str(out)).exit_code == 0
        total, missed, elsewhere = facts_read(reference, out, input_type)
        share = 1 - len(missed) / total
        print(f"citation-js read {total - len(missed)}/{total} facts ({share:.2%}) from {fmt}; "
              f"{len(elsewhere)} container(s) under another variable ({', '.join(elsewhere)})"
              + "".join("\n  missed " + m for m in missed))
        assert share >= 0.995, "\n".join(missed)  # the issue: >= 99.5 % from each format
        all_total, all_missed = all_total + total, all_missed + missed
    share = 1 - len(all_missed) / all_total
    print(f"citation-js, all three formats: {all_total - len(all_missed)}/{all_total} facts ({share:.2%})")
    assert share >= 0.995, "\n".join(all_missed)


# --- LuaLaTeX typesets what pdflatex cannot --------------------------------------------

@pytest.mark.validators
@pytest.mark.parametrize("fmt, mode", [("bibtex", "bibtex"), ("biblatex", "biber")])
def test_lualatex_typesets_cjk_arabic_and_emoji(run, tmp_path, fmt, mode):
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(HOSTILE, ensure_ascii=False), encoding="utf-8")
    assert run("import", str(hostile)).exit_code == 0
    for unicode in (False, True):
        out = tmp_path / f"hostile-{fmt}-{unicode}.bib"
        assert run("export", "-f", fmt, "-o", str(out), *(["--unicode"] if unicode else [])).exit_code == 0
        proc = validate("bibtex", out, {"BIB_MODE": mode, "BIB_ENGINE": "lualatex",
                                        "BIB_TEX_IGNORE": "Missing character"})
        assert_accepted(proc, stored(run))


@pytest.mark.validators
def test_pdflatex_typesets_latin_scripts_from_both_dialects(run, tmp_path):
    """Vietnamese stacked accents, Romanian comma-below, the digraph ǅ, combining
    marks, dashes and symbols: bibtex + pdflatex accept the classic export, biber
    + pdflatex the biblatex one (its UTF-8 letters declared in @preamble).
    (Icelandic Ð Þ ð need \\usepackage[T1]{fontenc}, which the check's document
    does not load.)"""
    latin = dict(HOSTILE[0], title="Predator–prey — 30°S £15 ½ µm ™ Nguyễn ặ ị Ortí Ș Ț ǅ ‐ e\u0301 {111} & 100%",
                 author=[{"family": "Nguyễn", "given": "Văn Ịch"}, {"family": "Popescu", "given": "Ștefan"}])
    path = tmp_path / "latin.json"
    path.write_text(json.dumps([latin], ensure_ascii=False), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    out = tmp_path / "latin.bib"
    assert run("export", "-f", "bibtex", "-o", str(out)).exit_code == 0
    assert_accepted(validate("bibtex", out), stored(run))
    out = tmp_path / "latin-biblatex.bib"
    assert run("export", "-f", "biblatex", "-o", str(out)).exit_code == 0
    assert_accepted(validate("biblatex", out), stored(run))


@pytest.mark.validators
@pytest.mark.parametrize("style", ["plain", "abbrv", "plainnat"])
def test_pdflatex_typesets_greek_and_math_from_both_dialects(run, tmp_path, style):
    """Greek and math travel as UTF-8 with pdflatex's form declared in @preamble:
    bibtex (full and abbreviated given names) and biber + pdflatex typeset them."""
    path = tmp_path / "greek.json"
    path.write_text(json.dumps([HOSTILE[2]], ensure_ascii=False), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    for fmt, mode in (("bibtex", "bibtex"), ("biblatex", "biber")):
        if mode == "biber" and style != "plain":
            continue
        out = tmp_path / f"greek-{fmt}.bib"
        assert run("export", "-f", fmt, "-o", str(out)).exit_code == 0
        assert "@preamble" in out.read_text(encoding="utf-8")
        assert_accepted(validate("bibtex", out, {"BIB_MODE": mode, "BIB_STYLE": style}), stored(run))
