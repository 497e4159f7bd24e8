"""Hardening: network faults, hostile metadata, bad identifiers, crashes,
parallel processes, corrupt stores, privacy. Nothing lost, nothing injected."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ALL_WORKS, SEED_DOI, RawServer
from hypothesis import given, settings
from hypothesis import strategies as st

from citetool.errors import IdentifierError
from citetool.formats import render
from citetool.identifiers import parse_identifier
from citetool.text import one_line

SEED_KEY = "arduino2021russia"


# --- network faults ---------------------------------------------------------------

def BrokenServer(fault: str) -> RawServer:
    """A raw socket server that answers every request with the same fault."""

    def answer(conn, request):
        if fault == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif fault == "truncated":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                         b'{"status":"ok","message":{"DOI":"10.1')
        elif fault == "silence":
            time.sleep(3)

    return RawServer(answer)


@pytest.mark.parametrize("fault, says", [
    ("reset", "cannot reach Crossref"),
    ("truncated", "Crossref"),
    ("silence", "did not answer within 0.5s"),
])
def test_socket_faults_are_one_line_errors(fault, says, run, monkeypatch, store_path):
    server = BrokenServer(fault)
    try:
        monkeypatch.setenv("CITETOOL_CROSSREF_URL", server.url)
        monkeypatch.setenv("CITETOOL_TIMEOUT", "0.5")
        result = run("add", SEED_DOI, "10.1038/srep16696")
    finally:
        server.close()
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("citetool: error:")]
    assert len(errors) == 2 and all(says in line for line in errors), result.stderr
    assert SEED_DOI in result.stderr and "Traceback" not in result.stderr
    assert not store_path.exists()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_a_bounded_number_of_times(status, crossref, run):
    crossref.overrides[SEED_DOI] = (status, b"<html>bad gateway</html>", "text/html")
    result = run("add", SEED_DOI)
    assert result.exit_code == 3
    assert f"Crossref answered HTTP {status} for {SEED_DOI}" in result.stderr
    assert crossref.requests.count(SEED_DOI) == 6  # the first try and 5 retries


def test_a_fault_on_one_doi_does_not_harm_the_others_or_the_store(crossref, run, store_path):
    run("add", "10.1038/ng.3834")
    before = json.loads(store_path.read_text(encoding="utf-8"))
    crossref.overrides[SEED_DOI] = (503, b"busy", "text/plain")
    result = run("add", SEED_DOI, "10.1038/srep16696")
    assert result.exit_code == 3 and result.stdout == "tosatto2015single\n"
    after = json.loads(store_path.read_text(encoding="utf-8"))
    assert before["references"][0] in after["references"]


# --- hostile metadata -----------------------------------------------------------------

HOSTILE = st.sampled_from([
    "@article{evil, title={x}}", "}", "{", "\\", "\\end{document}", "%", "&", "$x^2$", "#", "_", "~", "^",
    "\nER  - \n", "\nTY  - JOUR\n", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "'",
    "&amp;", "&lt;b&gt;", "<i>", "</li>", "עברית", "العربية", "中文", "日本語", "😀", "\u202e", "--", "``", "''",
    "\t", "\x0b", "\x01", "ß", "Ünal", "δ13C",
])
TEXT = st.lists(st.one_of(HOSTILE, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)),
                min_size=1, max_size=6).map("".join)
NAMES = st.lists(st.fixed_dictionaries({"family": TEXT, "given": TEXT}) | st.fixed_dictionaries({"literal": TEXT}),
                 max_size=4)


def hostile_record(title, names, container, abstract):
    rec = {"id": "k1", "type": "article-journal", "author": names, "container-title": container,
           "abstract": abstract, "issued": {"date-parts": [[2021, 10]]}, "page": "1-2", "volume": "3"}
    if title is not None:
        rec["title"] = title
    return {k: v for k, v in rec.items() if v not in ("", [])}


def survivors(text):
    """What a one-line export format keeps of ``text``: the text, on one line."""
    return one_line(text)


@settings(max_examples=150)
@given(title=st.one_of(st.none(), TEXT), names=NAMES, container=TEXT, abstract=TEXT)
def test_hostile_records_cannot_break_ris(title, names, container, abstract):
    import rispy

    text = render("ris", [hostile_record(title, names, container, abstract)])
    lines = text.splitlines()
    assert lines[0] == "TY  - JOUR" and lines[-1] == "ER  - "
    assert all(line[2:6] == "  - " for line in lines)
    parsed = rispy.loads(text)
    assert len(parsed) == 1
    # RIS readers strip whitespace around a value (no-break spaces too); a
    # blank title is exported as "[Untitled]", never as an empty TI line.
    expected = survivors(title).strip() if title is not None else ""
    assert parsed[0]["title"] == (expected or "[Untitled]")


@settings(max_examples=150)
@given(title=st.one_of(st.none(), TEXT), names=NAMES, container=TEXT, abstract=TEXT)
def test_hostile_records_cannot_break_bibtex(title, names, container, abstract):
    import bibtexparser

    from citetool.formats.bibtex_reader import decode_latex

    rec = hostile_record(title, names, container, abstract)
    for fmt in ("bibtex", "biblatex"):
        text = render(fmt, [rec])
        library = bibtexparser.parse_string(text)
        assert not library.failed_blocks and len(library.entries) == 1, text
        entry = library.entries[0]
        assert entry.key == "k1"
        if title is not None and survivors(title):
            got = decode_latex(entry["title"])
            # Classic BibTeX writes what LaTeX has no name for as best it can;
            # biblatex (for pdflatex) keeps the text up to Unicode equivalence:
            # canonical (a letter and its accents composed) or, for what pdflatex
            # cannot typeset, compatibility (the ligature U+FB00 written "ff").
            assert got == survivors(title) or fmt == "bibtex" and not title.isascii() or \
                unicodedata.normalize("NFKC", got) == unicodedata.normalize("NFKC", survivors(title))
    if title is not None and survivors(title):  # --unicode: the text exactly as stored
        entry = bibtexparser.parse_string(render("biblatex", [rec], unicode=True)).entries[0]
        assert decode_latex(entry["title"]) == survivors(title)


@settings(max_examples=150)
@given(title=st.one_of(st.none(), TEXT), names=NAMES, container=TEXT, abstract=TEXT)
def test_hostile_records_cannot_inject_html(title, names, container, abstract):
    import html5lib

    text = render("html", [hostile_record(title, names, container, abstract)])
    doc = html5lib.parse(text, namespaceHTMLElements=False)
    assert doc.findall(".//script") == [] and doc.findall(".//img") == []
    items = doc.findall(".//li")
    assert len(items) == 1
    for element in doc.iter():
        assert not any(attr.startswith("on") for attr in element.attrib)
    if title is not None and survivors(title):
        assert doc.find(".//cite").findtext(".//a") in (survivors(title), None) or \
            "".join(doc.find(".//cite").itertext()) == survivors(title)


@settings(max_examples=100)
@given(title=st.one_of(st.none(), TEXT), names=NAMES, container=TEXT, abstract=TEXT)
def test_hostile_records_stay_valid_csl_json(title, names, container, abstract):
    import jsonschema
    from test_formats import SCHEMA

    rec = hostile_record(title, names, container, abstract)
    data = json.loads(render("csl-json", [rec]))
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(data)
    if title:
        assert data[0]["title"] == title  # JSON carries any text as it is


def test_huge_and_empty_records_render():
    big = {"id": "big", "type": "article-journal", "title": "T" * 5000,
           "author": [{"family": f"Family{i}", "given": "G"} for i in range(350)],
           "container-title": "J", "issued": {"date-parts": [[2020]]}}
    empty = {"id": "empty", "type": "document"}
    for fmt in ("bibtex", "biblatex", "ris", "csl-json", "html", "text"):
        out = render(fmt, [big, empty])
        assert "T" * 5000 in out and "Family349" in out  # nothing silently cut


# --- the real consumers on hostile data, and a browser ----------------------------------

def hostile_store(run, crossref, tmp_path):
    run("add", SEED_DOI)
    for field, value in [
        ("title", 'R&D 100% $5 #1 a_b {x} ~^\\ @article{evil, <script>document.body.setAttribute("data-pwned","1")</script>'),
        ("container-title", '"><img src=x onerror="document.body.setAttribute(\'data-pwned\',\'1\')">'),
        ("note", "line\nER  - \nTY  - JOUR"),
        ("author", "{Ünal, Çağrı} and O'Brien, Seán and {AT&T Labs}"),
    ]:
        assert run("edit", SEED_KEY, "--set", f"{field}={value}").exit_code == 0


@pytest.mark.validators
@pytest.mark.parametrize("fmt", ["bibtex", "biblatex", "ris", "csl-json", "html"])
def test_hostile_references_pass_the_real_consumers(fmt, crossref, run, tmp_path):
    from test_validators import CHECKS, validate

    hostile_store(run, crossref, tmp_path)
    out = tmp_path / f"hostile.{CHECKS[fmt][1]}"
    assert run("export", "-f", fmt, "-o", str(out)).exit_code == 0
    proc = validate(fmt, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_script_runs_in_a_browser(crossref, run, tmp_path):
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (INSTALL_CHROMIUM=1 bash ../shared/validators/install.sh)")
    import html5lib

    hostile_store(run, crossref, tmp_path)
    page = tmp_path / "refs.html"
    run("export", "-f", "html", "-o", str(page))
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = html5lib.parse(proc.stdout, namespaceHTMLElements=False)
    body = dom.find(".//body")
    assert body is not None, proc.stderr[-500:]
    assert "data-pwned" not in body.attrib
    assert "<script>" in "".join(body.itertext())  # shown as text, not run


# --- identifiers --------------------------------------------------------------------------

@settings(max_examples=500)
@given(st.text(max_size=120))
def test_any_text_is_an_identifier_or_a_message_naming_it(text):
    try:
        parse_identifier(text)
    except IdentifierError as exc:
        shown = text.strip()
        assert shown[:40] in str(exc) or not shown or repr(shown[:40])[1:-1][:30] in str(exc)


@settings(max_examples=300)
@given(st.from_regex(r"(?i)(repec|doi|https?)[:/][ -~]{0,60}", fullmatch=True))
def test_identifier_like_text_never_crashes(text):
    with contextlib.suppress(IdentifierError):
        parse_identifier(text)


# --- crashes, parallel use, corrupt stores ------------------------------------------------------

CRASHER = """
import sys, time
sys.path.insert(0, {bench!r})
from _data import many_records
from citetool.store import Store
store = Store({path!r})
records = many_records(3000)
n = 0
while True:
    n += 1
    records["ref000000"]["note"] = f"save {{n}}"
    store.save(records)
"""


def test_sigkill_during_saves_leaves_a_whole_store(tmp_path, crossref, run):
    from pathlib import Path

    from citetool.store import Store

    path = tmp_path / "store.json"
    bench = str(Path(__file__).resolve().parents[1] / "bench")
    seen = set()
    for delay in (0.0, 0.05, 0.13, 0.21, 0.34, 0.55):
        proc = subprocess.Popen([sys.executable, "-c", CRASHER.format(bench=bench, path=str(path))])
        saves_started = time.monotonic() + 60
        start_stamp = path.stat().st_mtime_ns if path.exists() else None
        while time.monotonic() < saves_started:  # wait until this process is saving (CI may be slow)
            if path.exists() and path.stat().st_mtime_ns != start_stamp:
                break
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        records = Store(path).load()  # never half a file
        assert len(records) == 3000
        seen.add(records["ref000000"].get("note"))
    assert len(seen) >= 2  # the kills landed at different moments
    # Leftover temp files and the lock file do not block the next command.
    os.environ["CITETOOL_STORE"] = str(path)
    result = run("--store", str(path), "add", SEED_DOI)
    assert result.exit_code == 0, result.stderr
    assert len(Store(path).load()) == 3001


def test_sixteen_processes_add_edit_and_import_at_once(crossref, run, store_path, tmp_path):
    run("add", SEED_DOI)
    env = {**os.environ, "CITETOOL_STORE": str(store_path)}
    dois = sorted(d for d in ALL_WORKS if d != SEED_DOI)[:24]
    jobs = []
    for i in range(6):
        jobs.append(["add", *dois[i * 4:(i + 1) * 4]])
    for i in range(5):
        jobs.append(["edit", SEED_KEY, "--set", f"note=edit {i}" if i == 0 else f"volume=3{i}"] if i < 2 else
                    ["edit", SEED_KEY, "--set", ["publisher=P", "edition=2", "genre=Review"][i - 2]])
    for i in range(5):
        bib = tmp_path / f"f{i}.bib"
        bib.write_text(f"@book{{imported{i}, title = {{Imported book {i}}}, author = {{Doe, Jane}}, "
                       f"year = {{199{i}}}, publisher = {{Press}}}}\n", encoding="utf-8")
        jobs.append(["import", str(bib)])

    def call(args):
        return subprocess.run([sys.executable, "-m", "citetool", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, jobs))
    for job, r in zip(jobs, results, strict=True):
        assert r.returncode == 0, (job, r.stderr)
    refs = {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}
    assert {r["DOI"] for r in refs.values() if "DOI" in r} >= {d.lower() for d in dois}
    assert {f"imported{i}" for i in range(5)} <= set(refs)
    seed = refs[SEED_KEY]
    assert seed["note"] == "edit 0" and seed["volume"] == "31"
    assert (seed["publisher"], seed["edition"], seed["genre"]) == ("P", "2", "Review")


def test_doctor_reports_and_repairs_with_a_backup(run, store_path, tmp_path):
    assert run("doctor").exit_code == 0  # no store yet: nothing wrong
    store_path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": [
        {"id": "a", "type": "book", "title": "One"},
        {"id": "A", "type": "book", "title": "Two"},
        {"type": "journal-article", "title": "Three"},
        "not a reference",
    ]}), encoding="utf-8")
    (tmp_path / ".store.json.abc.tmp").write_text("{", encoding="utf-8")
    os.utime(tmp_path / ".store.json.abc.tmp", (time.time() - 3600, time.time() - 3600))
    checked = run("doctor")
    assert checked.exit_code == 4
    for problem in ("repeats the key 'A'", "has no usable key", "unknown CSL type 'journal-article'",
                    "is not an object", "a crashed save left .store.json.abc.tmp"):
        assert problem in checked.stdout
    repaired = run("doctor", "--repair")
    assert repaired.exit_code == 0, repaired.stdout
    assert "backup: " in repaired.stdout and repaired.stdout.rstrip().endswith(f"ok: {store_path}")
    refs = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert sorted(r["title"] for r in refs) == ["One", "Three", "Two"]
    assert len({r["id"].lower() for r in refs}) == 3
    backups = list(tmp_path.glob("store.json.bak-*"))
    assert len(backups) == 1 and "not a reference" in backups[0].read_text(encoding="utf-8")
    assert not (tmp_path / ".store.json.abc.tmp").exists()
    assert run("list").exit_code == 0


def test_doctor_on_a_file_that_is_not_json(run, store_path):
    store_path.write_bytes(b"{\"format\": \"citetool-store\", \"refer")
    result = run("doctor", "--repair")
    assert result.exit_code == 4 and "cannot be repaired automatically" in result.stdout
    assert store_path.read_bytes() == b"{\"format\": \"citetool-store\", \"refer"


# --- privacy --------------------------------------------------------------------------------

def test_the_mailto_never_leaks(crossref, econpapers, run, monkeypatch, tmp_path):
    secret = "very-secret-person@example.org"
    monkeypatch.setenv("CITETOOL_MAILTO", secret)
    outputs = [run("add", SEED_DOI, "10.1371/notarealdoi", "RePEc:nbr:nberwo:1", "garbage")]
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", "http://127.0.0.1:9")
    outputs.append(run("add", "10.1038/srep16696"))
    outputs.append(run("show", "nothing"))
    for result in outputs:
        assert secret not in result.stdout + result.stderr
    traceback = subprocess.run([sys.executable, "-m", "citetool", "--debug", "show", "nothing"],
                               capture_output=True, text=True, env=dict(os.environ))
    assert "Traceback" in traceback.stderr and secret not in traceback.stderr
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace")
    assert secret not in (tmp_path / "store.json").read_text(encoding="utf-8")


@pytest.mark.validators
@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_cjk_rtl_and_emoji_pass_bibtex_and_biber_under_lualatex(fmt, run, tmp_path):
    """pdflatex cannot typeset CJK, Arabic or emoji whatever a .bib says; with
    LuaLaTeX (native UTF-8) the same export compiles cleanly in both backends."""
    from test_validators import validate

    result = run("add", "--manual", "--type", "article-journal",
                 "--title", "中国的导弹防御政策 and العربية with 😀 emoji", "--author", "王, 小林",
                 "--author", "عبد الله, محمد", "--set", "container-title=日本語 Journal", "--year", "2020")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "cjk.bib"
    assert run("export", "-f", fmt, "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "中国的导弹防御政策" in text and "عبد الله" in text and "😀" in text  # kept, not dropped
    proc = validate(fmt, out, {"BIB_ENGINE": "lualatex", "BIB_TEX_IGNORE": "Missing character"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("title", ["---", "a---b", "-\u2013", "\u2013-", "\u2013\u2014", "\u2014-x", "'''", "\u22e6"])
def test_dash_runs_and_symbols_read_back_as_written(title):
    """Found by hypothesis: "---" went out as -{}-- (a hyphen and an en dash),
    "-\u2013" as --- (an em dash), and {$\\lnsim$} read
    back as TeX. Each character's form stays apart from its neighbours'."""
    import bibtexparser

    from citetool.formats.bibtex_reader import decode_latex

    for fmt in ("bibtex", "biblatex"):
        entry = bibtexparser.parse_string(render(fmt, [hostile_record(title, [], "c", "a")])).entries[0]
        assert decode_latex(entry["title"]) == title, (fmt, entry["title"])


def test_export_into_a_named_pipe_writes_to_it_and_never_replaces_it(run, tmp_path):
    """`export -o FIFO` (or a device: /dev/null, /dev/stdout) writes into it, as
    `cat > FIFO` would; an atomic replace would swap the pipe for a regular file
    (and, as root, /dev/null for a file)."""
    import stat
    import threading

    items = tmp_path / "k.json"
    items.write_text(json.dumps([{"id": "k", "type": "book", "title": "T", "publisher": "P",
                                  "issued": {"date-parts": [[2000]]}}]), encoding="utf-8")
    assert run("import", str(items)).exit_code == 0
    fifo = tmp_path / "refs.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.bib"
    link.symlink_to(fifo)
    for target in (fifo, link):
        received = []
        reader = threading.Thread(target=lambda got=received: got.append(fifo.read_bytes()))
        reader.start()
        result = run("export", "-f", "bibtex", "-o", str(target))
        reader.join(10)
        assert result.exit_code == 0, result.stderr
        assert received and received[0].startswith(b"@book{k,")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    folder = run("export", "-o", str(tmp_path))
    assert folder.exit_code == 2 and "it is a folder" in folder.stderr
