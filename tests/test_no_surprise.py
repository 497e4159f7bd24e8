"""No surprise for a newcomer: a retracted work is said on `add` and fails
`bib --check`; keys with identifier prefixes citetool has no source for are
named as such. Through the CLI, with the recorded (and the labelled synthetic,
tests/fixtures/check/SOURCES.md) Crossref answers."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from conftest import SEED_DOI
from test_check import CONCERN, CORRECTED, RW, fake  # noqa: F401  (fake: the Crossref fixture serving check/)

NOTICE_RW = "retracted: 10.5555/citetool-test.rw-notice (2012-02-06, retraction-watch)"


def stored(store_path) -> dict:
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


def test_add_warns_when_the_answer_says_the_work_was_retracted_and_keeps_the_finding(fake, run, store_path):  # noqa: F811
    result = run("add", RW, CORRECTED, CONCERN)
    assert result.exit_code == 0, result.stderr
    keys = result.stdout.split()
    assert f"warning: {keys[0]} {NOTICE_RW}" in result.stderr
    assert f"warning: {keys[2]} expression of concern: 10.5555/citetool-test.concern-notice" in result.stderr
    assert keys[1] not in result.stderr  # a correction is no reason to warn, nor to store anything
    refs = stored(store_path)
    assert "updates" not in refs[keys[1]]["citetool"]
    updates = refs[keys[0]]["citetool"]["updates"]
    assert updates["source"] == "crossref" and updates["found"].endswith("Z")
    assert [f["kind"] for f in updates["findings"]] == ["correction", "retraction"]
    # what check then finds is the same: nothing new is written
    before = store_path.read_bytes()
    assert run("check", keys[0]).exit_code == 3
    assert store_path.read_bytes() == before
    # export warns without any request
    fake.requests.clear()
    exported = run("export", keys[0])
    assert f"warning: {keys[0]} {NOTICE_RW}" in exported.stderr and fake.requests == []


def test_bib_check_fails_on_a_retracted_citation_with_the_reason(fake, run, tmp_path):  # noqa: F811
    keys = run("add", RW, CORRECTED).stdout.split()
    paper = tmp_path / "paper.md"
    paper.write_text(f"As shown [@{keys[1]}], and before [@{keys[0]}].\n", encoding="utf-8")
    checked = run("bib", "--check", str(paper))
    assert checked.exit_code == 3 and checked.stdout == ""
    assert f"error: {keys[0]} {NOTICE_RW}" in checked.stderr
    assert "2 of 2 cited references resolved, 1 retracted or of concern" in checked.stderr
    written = run("bib", str(paper))  # writing the bibliography: a warning, the file as asked
    assert written.exit_code == 0 and f"warning: {keys[0]} {NOTICE_RW}" in written.stderr
    paper.write_text(f"Only [@{keys[1]}].\n", encoding="utf-8")
    assert run("bib", "--check", str(paper)).exit_code == 0


def test_bib_check_fails_on_a_retracted_work_cited_by_its_doi(fake, run, tmp_path, store_path):  # noqa: F811
    paper = tmp_path / "paper.md"
    paper.write_text(f"[@doi:{RW}]\n", encoding="utf-8")
    checked = run("bib", "--check", str(paper))
    assert checked.exit_code == 3
    assert f"error: doi:{RW} {NOTICE_RW}" in checked.stderr


@pytest.mark.parametrize("key", ["pmid:29424689", "PMCID:PMC5640425", "wikidata:Q50051684"])
def test_keys_with_prefixes_citetool_has_no_source_for_are_named_unsupported(run, tmp_path, key):
    paper = tmp_path / "paper.md"
    paper.write_text(f"See [@{key}].\n", encoding="utf-8")
    result = run("bib", str(paper))
    assert result.exit_code == 3
    prefix = key.split(":")[0]
    assert (f"error: {key}: citetool cannot look up {prefix}: identifiers; cite the work by a stored key or one of: "
            "doi:…, isbn:…, repec:…, arxiv:…, url:…, https://…, http://…") in result.stderr
    assert "not in the store" not in result.stderr
    report = json.loads(run("bib", "--json", str(paper)).stdout)
    assert report["missing"][0]["error"].startswith(f"citetool cannot look up {prefix}:")


# --- the list table -------------------------------------------------------------

THREE = [SEED_DOI, "10.1038/srep16696", "10.1038/ng.3834"]  # 2 authors (2021), many (2015), many (2017)


def on_terminal(args: list[str], columns: int = 80) -> tuple[int, str, str]:
    from citetool.cli import run as run_cli
    from citetool.environment import Environment

    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(""), stdout=stdout, stderr=stderr, stdout_isatty=True,
                      environ={**os.environ, "COLUMNS": str(columns)})
    return run_cli(args, env), stdout.getvalue(), stderr.getvalue()


def test_list_on_a_terminal_is_one_line_a_reference_cut_to_the_width(crossref, run):
    keys = run("add", *THREE).stdout.split()
    code, text, _ = on_terminal(["list"], columns=100)
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split() == ["key", "type", "year", "authors", "title"]
    assert len(lines) == 4 and all(len(line) <= 100 for line in lines)
    seed = next(line for line in lines if line.startswith(keys[0]))
    assert " Arduino et al. " in seed and "Shuja" not in seed
    assert seed.endswith("…") and "Russia’s scalable soft power" in seed
    # piped: every author, the whole title (scripts read it)
    piped = run("list", keys[0]).stdout.split("\t")
    assert piped[3] == "Arduino; Shuja" and piped[4].endswith("S-400 triumph\n")


def test_list_sorts_by_year_author_and_when_added(crossref, run, store_path):
    keys = dict(zip(THREE, run("add", *THREE).stdout.split(), strict=True))
    data = json.loads(store_path.read_text(encoding="utf-8"))
    for n, rec in enumerate(data["references"]):  # added in one second: made a day apart, in reverse key order
        rec["citetool"]["added"] = f"2020-01-{9 - n:02d}T00:00:00Z"
    store_path.write_text(json.dumps(data), encoding="utf-8")
    first = [line.split("\t")[0] for line in run("list").stdout.splitlines()]
    assert first == sorted(keys.values())
    by_year = [line.split("\t")[2] for line in run("list", "--sort", "year").stdout.splitlines()]
    assert by_year == ["2015", "2017", "2021"]
    by_author = [line.split("\t")[3].split(";")[0] for line in run("list", "--sort", "author").stdout.splitlines()]
    assert by_author == sorted(by_author, key=str.lower) and len(by_author) == 3
    later = run("add", "10.3389/fgene.2017.00147").stdout.strip()
    by_added = [line.split("\t")[0] for line in run("list", "--sort", "added").stdout.splitlines()]
    assert by_added == [*sorted(keys.values(), reverse=True), later]
    bad = run("list", "--sort", "title")
    assert bad.exit_code == 2 and "--sort takes one of: key, year, author, added" in bad.stderr


def test_bibtex_type_names_are_aliases_and_an_empty_selection_is_said(crossref, run):
    run("add", *THREE)
    journal = run("list", "-t", "article")
    assert journal.exit_code == 0 and len(journal.stdout.splitlines()) == 3
    assert run("list", "-t", "article-journal").stdout == journal.stdout
    nothing = run("list", "-t", "phdthesis")
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert "citetool: no reference matches the filters" in nothing.stderr
    exported = run("export", "--year", "1900")
    assert exported.exit_code == 0 and exported.stdout == "" and "no reference matches" in exported.stderr
    typo = run("list", "-t", "articel")
    assert typo.exit_code == 2 and "; or a BibTeX type: article, booklet, collection" in typo.stderr
    assert "no reference matches" not in run("list").stderr


# --- import: true counts, and the same file twice --------------------------------

IMPORT = Path(__file__).parent / "fixtures" / "import"


def test_reimporting_entries_with_no_identity_finds_them_again(run, store_path):
    """Entries with no title (bibtexparser's citation_keys.bib): no DOI, ISBN, URL
    or title makes them the same work, yet the same file twice is the same entries."""
    bib = str(IMPORT / "citation_keys.bib")
    first = run("import", bib)
    assert first.exit_code == 0 and first.stdout.split() == [f"test{n}" for n in range(1, 10)]
    again = run("import", bib)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.split() == [f"test{n}" for n in range(1, 10)]
    assert "0 imported, 0 updated, 9 already present, 0 failed" in again.stderr
    assert sorted(json.loads(store_path.read_text(encoding="utf-8"))["references"][i]["id"] for i in range(9)) == [
        f"test{n}" for n in range(1, 10)]
    assert "testa" not in store_path.read_text(encoding="utf-8")


def test_import_counts_the_entries_it_skipped_as_failed(run, tmp_path):
    """The genuine file cut short in its last entry (as a truncated download
    leaves it), then an entry of the file again: the cut entry cannot be read,
    and the file holds its key twice. Both are skipped: 2 failed."""
    text = (IMPORT / "citation_keys.bib").read_text(encoding="utf-8")
    cut = text[:text.index("@Article{test9")] + "@Article{test9,\n  Author={van Dam, Wim\n\n"
    bib = tmp_path / "cut.bib"
    bib.write_text(cut + text[text.index("@InProceedings{test6"):text.index("@Article{test7")], encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 3
    assert f"{bib}:41: skipped a malformed entry" in result.stderr
    assert f"{bib}:44: skipped a malformed entry (Duplicate entry key 'test6')" in result.stderr
    assert "citetool: 8 imported, 0 updated, 0 already present, 2 failed\n" in result.stderr


# --- network failures in words -----------------------------------------------------

EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception|Timeout)\b")


BROKE = ("the connection broke while the answer was read", "the server closed the connection before answering in full")


@pytest.mark.parametrize("fault, says", [("reset", BROKE), ("truncated", BROKE)])
def test_network_failures_are_said_in_words_not_exception_names(fault, says, run, monkeypatch):
    from test_hardening import BrokenServer

    server = BrokenServer(fault)
    try:
        monkeypatch.setenv("CITETOOL_CROSSREF_URL", server.url)
        result = run("add", SEED_DOI)
    finally:
        server.close()
    assert result.exit_code == 3 and any(words in result.stderr for words in says), result.stderr
    assert not EXCEPTION_NAME.search(result.stderr), result.stderr


def test_a_closed_port_is_a_refused_connection(run):
    result = run("add", SEED_DOI)  # conftest points every source at a port nothing listens on
    assert f"cannot reach Crossref for {SEED_DOI}: the connection was refused (nothing listens at that address)" in result.stderr
    assert not EXCEPTION_NAME.search(result.stderr)


@pytest.mark.parametrize("command", [["show"], ["export"], ["edit", "--set", "note=x"], ["remove"]])
def test_a_mistyped_key_names_the_closest_stored_keys(crossref, run, command):
    run("add", SEED_DOI, "10.1038/srep16696")
    name, *options = command
    result = run(name, "Arduino2021Rusia", *options)
    assert result.exit_code == 5
    assert "no reference with key 'Arduino2021Rusia'" in result.stderr
    assert result.stderr.rstrip().endswith("(closest: arduino2021russia)")


def test_edit_takes_bibtex_field_names_as_aliases_and_says_the_csl_name(crossref, run, store_path):
    key = run("add", SEED_DOI).stdout.strip()
    result = run("edit", key, "--set", "journal=Defence and Security Analysis", "--set", "keywords=soft power, Russia")
    assert result.exit_code == 0, result.stderr
    assert "citetool: journal is BibTeX's name: setting CSL's container-title" in result.stderr
    assert "citetool: keywords is BibTeX's name: setting CSL's keyword" in result.stderr
    rec = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert rec["container-title"] == "Defence and Security Analysis" and rec["keyword"] == "soft power, Russia"
    assert rec["citetool"]["fields"]["container-title"] == "user"
    assert run("edit", key, "--unset", "keywords").exit_code == 0
    assert "keyword" not in json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    typo = run("edit", key, "--set", "jornal=X")
    assert typo.exit_code == 2
    assert "'jornal' is not a field citetool can set" in typo.stderr and "BibTeX's names are read too: journal" in typo.stderr


def test_doctor_flags_an_impossible_date_until_the_user_sets_the_real_one(crossref, run, store_path):
    key = run("add", SEED_DOI).stdout.strip()
    data = json.loads(store_path.read_text(encoding="utf-8"))
    data["references"][0]["issued"] = {"date-parts": [[2017, 2, 31]]}  # a hand edit
    store_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    said = f"{key}: issued 2017-2-31 is not a date: exported as 2017-02 (set the real date: citetool edit {key} --set issued=YYYY-MM-DD)"
    result = run("doctor")
    assert result.exit_code == 4 and f"problem: {said}" in result.stdout
    repaired = run("doctor", "--repair")
    assert repaired.exit_code == 4 and f"still: {said}" in repaired.stdout
    assert json.loads(store_path.read_text(encoding="utf-8"))["references"][0]["issued"] == {"date-parts": [[2017, 2, 31]]}
    assert run("edit", key, "--set", "issued=2017-02-28").exit_code == 0
    assert run("doctor").exit_code == 0


def test_after_a_repair_provenance_says_doctor_set_the_value(crossref, run, store_path):
    key = run("add", SEED_DOI).stdout.strip()
    data = json.loads(store_path.read_text(encoding="utf-8"))
    data["references"][0]["title"] = ["Russia’s scalable soft power"]  # a hand edit of the wrong shape
    store_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert run("doctor", "--repair").exit_code == 0
    rec = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert rec["title"] == "Russia’s scalable soft power" and rec["citetool"]["fields"]["title"] == "doctor"
    assert rec["citetool"]["fields"]["volume"] == "crossref"  # the others keep their source
    assert "title: Russia’s scalable soft power  [doctor]" in run("show", key).stdout


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex", "ris", "text"])
def test_a_day_too_large_for_any_calendar_is_exported_without_it(crossref, run, store_path, fmt):
    """A hand edit's day of 2**62 (a JSON number, so the shape check passes it) is
    no date: the export writes its year and month and says so, never an internal error."""
    key = run("add", SEED_DOI).stdout.strip()
    data = json.loads(store_path.read_text(encoding="utf-8"))
    data["references"][0]["issued"] = {"date-parts": [[2017, 2, 2**62]]}
    store_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    result = run("export", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    assert f"{key}: issued 2017-2-{2**62} is not a date: exported as 2017-02" in result.stderr
    assert "2017" in result.stdout and str(2**62) not in result.stdout
