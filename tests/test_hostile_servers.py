"""Identifiers and server answers that try to leave their place (issue 23:
B13, B14, B16, B17): a DOI never leaves its route, a password typed in an
address is never stored or printed, a score that is no number is no score."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from citetool.errors import ExitCode

ESCAPING_DOI = "10.1234/../../../admin/delete"


def paths_asked(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


def test_a_doi_with_dot_segments_is_never_requested(crossref, httpserver, run, tmp_path):
    paper = tmp_path / "paper.tex"
    paper.write_text(f"\\cite{{doi:{ESCAPING_DOI}}}\n", encoding="utf-8")
    for args in (("add", ESCAPING_DOI), ("add", "doi:10.1234/%2e%2e/%2E%2E/admin/delete"),
                 ("add", f"https://doi.org/{ESCAPING_DOI}"), ("bib", str(paper))):
        result = run(*args)
        assert result.exit_code == ExitCode.IDENTIFIERS_FAILED, result.stderr
        assert "is not a DOI citetool asks for: its '.' or '..' part would take the request to another address" \
            in result.stderr
    assert paths_asked(httpserver) == []


def test_a_stored_doi_with_dot_segments_is_never_requested(crossref, httpserver, run, store_path):
    store_path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": [
        {"id": "a", "type": "article-journal", "title": "A", "DOI": ESCAPING_DOI,
         "citetool": {"sources": {"crossref": {"id": ESCAPING_DOI, "fetched": "2026-01-01T00:00:00Z"}}}}]}),
        encoding="utf-8")
    refreshed = run("refresh")
    assert refreshed.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert "its '.' or '..' part would take the request to another address" in refreshed.stderr
    for command in ("check", "upgrade"):
        run(command)
    assert all(path.startswith("/works") for path in paths_asked(httpserver)), paths_asked(httpserver)
    assert not any("admin" in path for path in paths_asked(httpserver))


def test_a_password_typed_in_an_address_is_never_stored_or_printed(web, run, store_path):
    address = web.replace("http://", "http://reader:s3cret-pass@")
    added = run("add", f"{address}/seed002", f"{address}/missing")
    assert added.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert added.stdout.strip() and f"{web}/missing" in added.stderr
    outputs = [added.stdout, added.stderr, store_path.read_text(encoding="utf-8")]
    outputs += [run("export", "-f", fmt).stdout for fmt in ("bibtex", "biblatex", "ris", "csl-json", "html")]
    outputs += [run("list").stdout, run("show", added.stdout.strip()).stdout]
    assert all("s3cret" not in text and "reader:" not in text for text in outputs)


FREETEXT = Path(__file__).parent / "fixtures" / "freetext"
CLOSE_LINE = "Fenner M, et al. (2016) A data citation roadmap for scholarly data repositories."


@pytest.fixture
def scores(httpserver, monkeypatch):
    """Crossref answering every bibliographic query with the genuine close.json
    (two candidates 61.2 and 58.7: none stands out), its scores replaced as a
    hostile server would: ``scores[:] = ["NaN", ...]``."""
    from werkzeug import Response

    wanted: list[str] = []

    def handle(request):
        body = (FREETEXT / "close.json").read_text(encoding="utf-8")
        for old, new in zip(["61.2", "58.7", "20.1"], wanted, strict=False):
            body = body.replace(f'"score": {old}', f'"score": {new}')
        return Response(body, content_type="application/json")

    httpserver.expect_request("/works").respond_with_handler(handle)
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    return wanted


@pytest.mark.parametrize("hostile", [["NaN"], ["Infinity"], ["1e999"], ["61.2", "NaN", "NaN"], ["9" * 400]])
def test_a_score_that_is_no_finite_number_is_no_score(hostile, scores, run, store_path):
    scores[:] = hostile
    added = run("add", CLOSE_LINE)
    assert added.exit_code == ExitCode.IDENTIFIERS_FAILED, added.stdout
    assert "no sure match in Crossref" in added.stderr and not store_path.exists()
    listed = run("search", "--json", CLOSE_LINE)
    assert listed.exit_code == 0, listed.stderr
    candidates = json.loads(listed.stdout, parse_constant=lambda name: pytest.fail(f"{name} in --json"))
    assert all(c["score"] is None or math.isfinite(c["score"]) for c in candidates)
    assert [c["score"] for c in candidates if c["score"] is not None] == \
        sorted((c["score"] for c in candidates if c["score"] is not None), reverse=True)
    table = run("search", CLOSE_LINE)
    assert table.exit_code == 0 and "nan" not in table.stdout.lower() and "inf" not in table.stdout.lower()


CHECK = Path(__file__).parent / "fixtures" / "check"
RW = "10.5555/citetool-test.retracted-rw"


def test_check_findings_are_cleaned_and_their_dates_checked_like_records(crossref, run, store_path, tmp_path,
                                                                         monkeypatch):
    """Issue 23, B10: a notice's DOI or label holding a line break, ESC, BEL or NUL
    forged lines of `check`'s output and was stored; [true, 99, -5] was stored as 0001-99--5."""
    import conftest

    genuine = CHECK / "10.5555_citetool-test.retracted-rw.json"
    monkeypatch.setitem(conftest.ALL_WORKS, RW, genuine)
    key = run("add", RW).stdout.strip()
    hostile = json.loads(genuine.read_text(encoding="utf-8"))
    notice, correction = hostile["message"]["updated-by"][1], hostile["message"]["updated-by"][0]
    notice["DOI"] = "10.5555/citetool-test.rw-notice\nforged\tline: 10.1/x"
    notice["label"] = "Retraction\x1b]0;owned\x07\x1b[2J\x00\ncitetool: error: forged"
    notice["source"] = "retraction-watch\r\nforged"
    notice["updated"]["date-parts"] = [[True, 99, -5]]
    del notice["updated"]["date-time"]
    correction["updated"] = {"date-parts": [[2010, 2, 30]], "date-time": "2010-03-06T00:00:00Z"}
    served = tmp_path / "hostile.json"
    served.write_text(json.dumps(hostile), encoding="utf-8")
    monkeypatch.setitem(conftest.ALL_WORKS, RW, served)

    for result in (run("check"), run("check", "--json")):
        assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
        for stream in (result.stdout, result.stderr):
            assert {ch for ch in stream if not ch.isprintable()} <= {"\n", "\t"}  # tabs: check's columns
            assert not any(line.startswith(("forged", "citetool: error: forged")) for line in stream.splitlines())
    lines = run("check").stdout.splitlines()
    assert f"{key}\tretracted: 10.5555/citetool-test.rw-notice forged line: 10.1/x (retraction-watch forged)" in lines
    assert f"{key}\tcorrected: 10.5555/citetool-test.rw-correction (2010-03-06, retraction-watch)" in lines
    findings = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]["citetool"]["updates"]["findings"]
    text = json.dumps(findings, ensure_ascii=False)
    assert all(ch.isprintable() for ch in text)
    assert [f.get("date") for f in findings] == ["2010-03-06", None]
    assert findings[1]["label"] == "Retraction]0;owned[2J citetool: error: forged"


WORKS = Path(__file__).parent / "fixtures" / "crossref" / "works"
PREPRINT, PUBLISHED = "10.1101/097196", "10.1038/s41597-019-0031-8"


def serve_preprint_related_to(related: str, tmp_path, monkeypatch) -> None:
    """The genuine preprint record, its ``is-preprint-of`` pointing at ``related``."""
    import conftest

    work = json.loads((WORKS / "10.1101_097196.json").read_text(encoding="utf-8"))
    work["message"]["relation"]["is-preprint-of"][0]["id"] = related
    served = tmp_path / "preprint.json"
    served.write_text(json.dumps(work), encoding="utf-8")
    monkeypatch.setitem(conftest.ALL_WORKS, PREPRINT, served)


def dois(store_path) -> list[str]:
    return [r.get("DOI", "").lower() for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]]


def test_upgrade_never_leaves_two_references_with_one_doi(crossref, run, store_path, tmp_path, monkeypatch):
    """Issue 23, B11: the published record carries a DOI already stored under another key."""
    import conftest

    published_work = CHECK / "10.1038_s41597-019-0031-8.json"  # (synthetic: see fixtures/check/SOURCES.md)
    monkeypatch.setitem(conftest.ALL_WORKS, PUBLISHED, published_work)
    monkeypatch.setitem(conftest.ALL_WORKS, "10.5555/citetool-test.alias-of-published",
                        published_work)  # asked for one DOI, Crossref answers with the record of another
    for related in (f"https://doi.org/{PUBLISHED.upper()}", "10.5555/citetool-test.alias-of-published"):
        store_path.unlink(missing_ok=True)
        serve_preprint_related_to(related, tmp_path, monkeypatch)
        added = run("add", PREPRINT, PUBLISHED)
        assert added.exit_code == 0, (related, added.stdout, added.stderr)
        preprint, published = added.stdout.split()
        result = run("upgrade")
        assert result.exit_code == ExitCode.IDENTIFIERS_FAILED, result.stderr
        assert f"{preprint}: its published version {PUBLISHED} is already stored as {published}" in result.stderr
        assert sorted(dois(store_path)) == sorted([PREPRINT, PUBLISHED])


def test_a_doi_url_of_a_works_own_doi_is_no_preprint_of_itself(crossref, run, store_path, tmp_path, monkeypatch):
    serve_preprint_related_to(f"https://doi.org/{PREPRINT.upper()}", tmp_path, monkeypatch)
    key = run("add", PREPRINT).stdout.strip()
    checked = run("check")
    assert checked.exit_code == 0 and checked.stdout == "", checked.stdout
    upgraded = run("upgrade")
    assert upgraded.exit_code == 0 and "nothing to upgrade" in upgraded.stderr
    assert dois(store_path) == [PREPRINT] and key in run("list").stdout
