"""`citetool check` and `citetool upgrade`: retractions, expressions of concern,
corrections, notices and preprints, against the fake Crossref on 127.0.0.1.

Genuine records (tests/fixtures/crossref/works/): a correction
(10.1371/journal.pone.0033693), a preprint with `is-preprint-of`
(10.1101/097196), a publisher's new version under the same DOI
(10.1371/journal.ppat.1008184), `has-preprint` (10.3389/fgene.2017.00147),
`is-version-of` (10.53731/ybhah-9jy85). Synthetic ones, labelled so, in
tests/fixtures/check/ (retractions, an expression of concern, a notice, the
published version of 10.1101/097196).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import conftest
import pytest
from conftest import SEED_DOI, WORKS

CHECK = Path(__file__).parent / "fixtures" / "check"
RW = "10.5555/citetool-test.retracted-rw"
PUBLISHER = "10.5555/citetool-test.retracted-publisher"
NOTICE = "10.5555/citetool-test.retraction-notice"
CONCERN = "10.5555/citetool-test.concern"
CORRECTED = "10.1371/journal.pone.0033693"
PREPRINT = "10.1101/097196"
PUBLISHED = "10.1038/s41597-019-0031-8"
SAME_DOI_VERSION = "10.1371/journal.ppat.1008184"
CLEAN = [SEED_DOI, "10.1038/srep16696", SAME_DOI_VERSION, "10.3389/fgene.2017.00147", "10.53731/ybhah-9jy85"]


def message(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["message"]


@pytest.fixture
def fake(crossref, monkeypatch):
    """The fake Crossref, also serving tests/fixtures/check/."""
    for path in CHECK.glob("*.json"):
        monkeypatch.setitem(conftest.ALL_WORKS, message(path)["DOI"].lower(), path)
    return crossref


def add(run, *dois) -> dict[str, str]:
    result = run("add", *dois)
    assert result.exit_code == 0, result.stderr
    return dict(zip(dois, result.stdout.split(), strict=True))


def stored(store_path) -> dict:
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


# --- the parsing of Crossref's records (sources/crossref_updates.py) --------------

def test_findings_of_genuine_records():
    from citetool.sources.crossref_updates import findings

    assert findings(message(WORKS / "10.1371_journal.pone.0033693.json")) == [{
        "kind": "correction", "doi": "10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda",
        "type": "correction", "date": "2012-05-08", "source": "publisher", "label": "Correction"}]
    assert findings(message(WORKS / "10.1101_097196.json")) == [{
        "kind": "published-version", "doi": PUBLISHED, "type": "is-preprint-of",
        "source": "publisher", "asserted-by": "subject"}]
    assert [f["doi"] for f in findings(message(WORKS / "10.26434_chemrxiv.5406907.v5.json"))] == ["10.1021/acs.jpcb.7b11820"]
    # a new version deposited under the work's own DOI, a published work's
    # preprint, versions under a concept DOI: nothing to report
    for name in ("10.1371_journal.ppat.1008184.json", "10.3389_fgene.2017.00147.json",
                 "10.53731_ybhah-9jy85.json", "10.1038_srep16696.json"):
        assert findings(message(WORKS / name)) == [], name


def test_findings_of_retractions_concerns_and_notices():
    from citetool.sources.crossref_updates import findings

    rw = findings(message(CHECK / "10.5555_citetool-test.retracted-rw.json"))
    assert [(f["kind"], f["doi"], f["date"], f["source"], f["record-id"]) for f in rw] == [
        ("correction", "10.5555/citetool-test.rw-correction", "2010-03-06", "retraction-watch", "17269"),
        ("retraction", "10.5555/citetool-test.rw-notice", "2012-02-06", "retraction-watch", "4036")]
    [publisher] = findings(message(CHECK / "10.5555_citetool-test.retracted-publisher.json"))
    assert (publisher["kind"], publisher["source"], publisher["date"]) == ("retraction", "publisher", "2020-09-15")
    [concern] = findings(message(CHECK / "10.5555_citetool-test.concern.json"))
    assert (concern["kind"], concern["type"]) == ("expression-of-concern", "expression_of_concern")
    [notice] = findings(message(CHECK / "10.5555_citetool-test.retraction-notice.json"))
    assert (notice["kind"], notice["doi"], notice["type"]) == ("notice", PUBLISHER, "retraction")


def test_findings_tolerate_odd_shapes():
    from citetool.sources.crossref_updates import findings

    work = {"DOI": "10.1/x", "updated-by": [None, {"type": "retraction"}, {"DOI": "10.1/n", "type": ""},
                                            {"DOI": "10.1/N2", "type": "Withdrawal", "updated": {"date-time": "2024-02-03T00:00:00Z"}}],
            "update-to": "nonsense", "relation": {"is-preprint-of": [{"id-type": "arxiv", "id": "1234"}]}}
    assert findings(work) == [{"kind": "retraction", "doi": "10.1/n2", "type": "withdrawal",
                               "date": "2024-02-03", "source": "publisher"}]


# --- check ----------------------------------------------------------------------

def test_check_reports_each_kind_stores_it_and_exits_3(fake, run, store_path):
    keys = add(run, RW, PUBLISHER, NOTICE, CONCERN, CORRECTED, PREPRINT, *CLEAN)
    manual = run("add", "--manual", "--type", "book", "--title", "No DOI here", "--author", "Doe, Jane",
                 "--year", "2001", "--set", "publisher=Press").stdout.strip()
    fake.requests.clear()
    fake.list_requests.clear()

    result = run("check")
    assert result.exit_code == 3, result.stderr
    lines = result.stdout.splitlines()
    assert f"{keys[RW]}\tretracted: 10.5555/citetool-test.rw-notice (2012-02-06, retraction-watch)" in lines
    assert f"{keys[RW]}\tcorrected: 10.5555/citetool-test.rw-correction (2010-03-06, retraction-watch)" in lines
    assert f"{keys[PUBLISHER]}\tretracted: 10.5555/citetool-test.retraction-notice (2020-09-15, publisher)" in lines
    assert f"{keys[CONCERN]}\texpression of concern: 10.5555/citetool-test.concern-notice (2022-04-01, publisher)" in lines
    assert f"{keys[CORRECTED]}\tcorrected: 10.1371/annotation/c76da2c1-ccb8-4797-94c1-359d3ceceeda (2012-05-08, publisher)" in lines
    assert f"{keys[PREPRINT]}\tpublished version available: {PUBLISHED} (publisher)" in lines
    assert f"{keys[NOTICE]}\tis itself a retraction notice for: {PUBLISHER} (2020-09-15, publisher)" in lines
    assert len(lines) == 7  # clean works and the reference without a DOI are not listed
    assert not any(keys[d] in result.stdout for d in CLEAN) and manual not in result.stdout
    assert "12 references: 6 with news (3 retracted or of concern), 5 ok, 1 not checked (1 no DOI)" in result.stderr
    # one list query for 12 DOIs, no single look-up, no cache
    assert len(fake.list_requests) == 1 and sorted(fake.list_requests[0]) == sorted(d.lower() for d in keys)
    assert fake.requests == []

    refs = stored(store_path)
    updates = refs[keys[RW]]["citetool"]["updates"]
    assert updates["source"] == "crossref" and updates["found"].endswith("Z")
    assert [f["kind"] for f in updates["findings"]] == ["correction", "retraction"]
    assert all("updates" not in refs[keys[d]]["citetool"] for d in CLEAN)

    # shown without a request
    fake.list_requests.clear()
    show = run("show", keys[RW])
    assert "check: retracted: 10.5555/citetool-test.rw-notice (2012-02-06, retraction-watch)" in show.stdout
    flagged = run("list", "--flagged")
    assert flagged.exit_code == 0
    assert sorted(line.split("\t")[0] for line in flagged.stdout.splitlines()) == sorted(
        keys[d] for d in (RW, PUBLISHER, NOTICE, CONCERN, CORRECTED, PREPRINT))
    assert fake.list_requests == [] and fake.requests == []


def test_check_json_and_all(fake, run):
    keys = add(run, CONCERN, SEED_DOI, "10.1038/srep16696")
    result = run("check", "--json", "--all")
    assert result.exit_code == 3
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert {o["key"]: o["status"] for o in objects} == {keys[CONCERN]: "flagged", keys[SEED_DOI]: "ok",
                                                        keys["10.1038/srep16696"]: "ok"}
    concern = next(o for o in objects if o["status"] == "flagged")
    assert concern["doi"] == CONCERN and concern["findings"][0]["kind"] == "expression-of-concern"
    assert concern["findings"][0]["date"] == "2022-04-01" and concern["findings"][0]["source"] == "publisher"


def test_clean_works_exit_0_and_a_correction_alone_is_not_serious(fake, run, store_path):
    keys = add(run, *CLEAN)
    before = store_path.read_bytes()
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "")
    assert store_path.read_bytes() == before  # nothing learned, nothing written
    assert run("check", "--all").stdout.splitlines() == sorted(f"{k}\tok" for k in keys.values())
    add(run, CORRECTED)
    assert run("check").exit_code == 0


def test_check_named_keys_only(fake, run):
    keys = add(run, RW, CONCERN)
    fake.list_requests.clear()
    result = run("check", keys[CONCERN].upper())
    assert result.exit_code == 3 and keys[RW] not in result.stdout
    assert fake.list_requests == [[CONCERN]]
    assert run("check", "nosuchkey").exit_code == 5


def test_requests_for_n_references_are_ceil_n_over_100_list_queries(fake, run, store_path):
    from citetool.store import Store

    n = 250
    records = {f"ref{i}": {"id": f"ref{i}", "type": "article-journal", "title": f"Work {i}",
                           "DOI": f"10.5555/citetool-test.bulk-{i}", "citetool": {}} for i in range(n - 2)}
    Store(store_path).save(records)
    add(run, RW, SEED_DOI)
    fake.list_requests.clear()
    fake.requests.clear()
    result = run("check", "--json", "--all")
    assert result.exit_code == 3
    assert len(fake.list_requests) == math.ceil(n / 100) and all(len(b) <= 100 for b in fake.list_requests)
    assert fake.requests == []
    statuses = [json.loads(line)["status"] for line in result.stdout.splitlines()]
    assert statuses.count("unchecked") == n - 2 and statuses.count("flagged") == 1 and statuses.count("ok") == 1


def test_unreachable_crossref_is_exit_3_and_keeps_what_was_stored(fake, run, store_path, monkeypatch):
    keys = add(run, RW)
    assert run("check").exit_code == 3
    before = store_path.read_bytes()
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", conftest.DEAD_URL)
    result = run("check", "--all")
    assert result.exit_code == 3
    assert "error: Crossref list query failed: cannot reach Crossref" in result.stderr
    assert f"{keys[RW]}\tunchecked (Crossref could not be asked)" in result.stdout
    assert "1 references: 0 with news (0 retracted or of concern), 0 ok, 1 not checked (1 Crossref could not be asked)" \
        in result.stderr  # not "no DOI, or not in Crossref"
    assert store_path.read_bytes() == before
    assert "Traceback" not in result.stderr


def test_a_finding_that_disappears_is_dropped(fake, run, store_path, monkeypatch):
    keys = add(run, CONCERN)
    run("check")
    assert run("list", "--flagged").stdout.startswith(keys[CONCERN])
    cleared = json.loads((CHECK / "10.5555_citetool-test.concern.json").read_text(encoding="utf-8"))
    del cleared["message"]["updated-by"]
    path = store_path.parent / "cleared.json"
    path.write_text(json.dumps(cleared), encoding="utf-8")
    monkeypatch.setitem(conftest.ALL_WORKS, CONCERN, path)
    assert run("check").exit_code == 0
    assert run("list", "--flagged").stdout == ""
    assert "updates" not in stored(store_path)[keys[CONCERN]]["citetool"]


def test_export_warns_about_retracted_works_and_still_exports_them(fake, run):
    keys = add(run, RW, CONCERN, CORRECTED)
    run("check")
    result = run("export", "--format", "bibtex")
    assert result.exit_code == 0
    assert f"warning: {keys[RW]} retracted: 10.5555/citetool-test.rw-notice (2012-02-06, retraction-watch)" in result.stderr
    assert f"warning: {keys[CONCERN]} expression of concern: 10.5555/citetool-test.concern-notice" in result.stderr
    assert keys[CORRECTED] not in result.stderr  # a correction is no reason to warn
    assert all(f"{{{k}," in result.stdout for k in keys.values())  # the bibliography is as asked
    only_clean = run("export", keys[CORRECTED])
    assert only_clean.exit_code == 0 and "warning" not in only_clean.stderr


def test_retraction_warnings_is_one_library_function():
    from citetool.findings import retraction_warnings

    rec = {"id": "x2020", "citetool": {"updates": {"findings": [
        {"kind": "retraction", "doi": "10.1/n", "date": "2020-01-02", "source": "publisher"},
        {"kind": "correction", "doi": "10.1/c", "source": "publisher"}]}}}
    assert retraction_warnings([rec, {"id": "clean"}]) == [
        "warning: x2020 retracted: 10.1/n (2020-01-02, publisher)"]


# --- upgrade --------------------------------------------------------------------

def test_upgrade_dry_run_shows_the_changes_and_stores_nothing(fake, run, store_path):
    keys = add(run, PREPRINT)
    before = store_path.read_bytes()
    result = run("upgrade", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{keys[PREPRINT]}: {PREPRINT} -> {PUBLISHED}"
    assert any(line.startswith('  DOI: "10.1101/097196" -> "10.1038/s41597-019-0031-8"') for line in lines)
    assert any(line.startswith('  container-title: null -> "Scientific Data"') for line in lines)
    assert store_path.read_bytes() == before


def test_upgrade_keeps_key_user_fields_and_the_preprint_doi(fake, run, store_path):
    keys = add(run, PREPRINT, SEED_DOI)
    key = keys[PREPRINT]
    assert run("edit", key, "--set", "note=Read for chapter 2").exit_code == 0
    result = run("upgrade")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [key]
    assert f"{key}: now {PUBLISHED} (was the preprint {PREPRINT})" in result.stderr
    rec = stored(store_path)[key]
    assert rec["id"] == key and rec["DOI"] == PUBLISHED
    assert (rec["type"], rec["container-title"], rec["volume"]) == ("article-journal", "Scientific Data", "6")
    assert rec["title"] == "A data citation roadmap for scholarly data repositories"
    assert "genre" not in rec  # it is no longer a preprint
    assert rec["note"] == "Read for chapter 2" and rec["citetool"]["fields"]["note"] == "user"
    assert rec["citetool"]["fields"]["title"] == "crossref"
    assert rec["citetool"]["relations"] == [{"type": "preprint", "DOI": PREPRINT}]
    assert "updates" not in rec["citetool"]  # the published work is another work: not checked yet
    assert "relation preprint: 10.1101/097196" in run("show", key).stdout
    # done once: nothing more to upgrade, and the published work is clean
    again = run("upgrade")
    assert again.exit_code == 0 and again.stdout == "" and "nothing to upgrade" in again.stderr
    assert run("check").exit_code == 0


def test_upgrade_refuses_when_the_published_version_is_already_stored(fake, run, store_path):
    keys = add(run, PREPRINT, PUBLISHED)
    before = stored(store_path)[keys[PREPRINT]]
    result = run("upgrade", keys[PREPRINT])
    assert result.exit_code == 3
    assert f"already stored as {keys[PUBLISHED]}" in result.stderr
    assert stored(store_path)[keys[PREPRINT]]["DOI"] == before["DOI"]


def test_upgraded_working_paper_keeps_its_handle_in_the_relation():
    from citetool.updates import upgraded_record

    old = {"id": "doe2005wp", "type": "report", "title": "WP", "DOI": "10.3386/w11309", "note": "mine",
           "citetool": {"added": "2026-01-01T00:00:00Z", "fields": {"title": "crossref", "DOI": "crossref", "note": "user"},
                        "ids": {"repec": "RePEc:nbr:nberwo:11309"}, "aliases": ["doe2005"]}}
    published = {"type": "article-journal", "title": "Article", "DOI": "10.1/pub", "container-title": "J"}
    new = upgraded_record(old, published, "crossref", "10.1/pub", "2026-11-23T00:00:00Z")
    assert new["id"] == "doe2005wp" and new["title"] == "Article" and new["note"] == "mine"
    assert new["citetool"]["relations"] == [{"type": "preprint", "DOI": "10.3386/w11309", "repec": "RePEc:nbr:nberwo:11309"}]
    assert new["citetool"]["added"] == "2026-01-01T00:00:00Z" and new["citetool"]["aliases"] == ["doe2005"]
    assert "ids" not in new["citetool"]  # the handle names the working paper, not the article


# --- the preprint relation in the exports (judged by the real consumers) ---------

@pytest.fixture
def upgraded(fake, run):
    keys = add(run, PREPRINT, SEED_DOI)
    assert run("upgrade", keys[PREPRINT]).exit_code == 0
    return keys[PREPRINT]


def test_exports_carry_the_preprint_doi(upgraded, run):
    biblatex = run("export", "-f", "biblatex", upgraded).stdout
    assert "addendum = {Preprint: doi:10.1101/097196}" in biblatex
    assert "doi = {10.1038/s41597-019-0031-8}" in biblatex
    assert "note = {Read" not in biblatex
    assert "note = {Preprint: doi:10.1101/097196}" in run("export", "-f", "bibtex", upgraded).stdout
    assert "N1  - Preprint: doi:10.1101/097196" in run("export", "-f", "ris", upgraded).stdout
    [item] = json.loads(run("export", "-f", "csl-json", upgraded).stdout)
    assert item["note"] == "Preprint: doi:10.1101/097196" and item["DOI"] == PUBLISHED
    assert "Preprint: https://doi.org/10.1101/097196" in run("export", "-f", "text", upgraded).stdout
    assert '<a href="https://doi.org/10.1101/097196">' in run("export", "-f", "html", upgraded).stdout


@pytest.mark.validators
@pytest.mark.parametrize("fmt", ["bibtex", "biblatex", "ris", "csl-json", "html"])
def test_upgraded_exports_pass_the_real_consumers(upgraded, run, tmp_path, fmt):
    from test_validators import CHECKS, validate

    out = tmp_path / f"refs.{CHECKS[fmt][1]}"
    assert run("export", "--format", fmt, "--output", str(out)).exit_code == 0
    proc = validate(fmt, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout


def test_a_repec_working_paper_becomes_its_article(fake, run, store_path):
    added = run("add", "--offline", "RePEc:nbr:nberwo:11309")  # the handle alone: no EconPapers here
    assert added.exit_code == 0, added.stderr
    key = added.stdout.strip()
    assert run("edit", key, "--set", "DOI=10.5555/citetool-test.nber-wp", "--set", "note=Cited in ch. 3").exit_code == 0
    assert run("check").stdout == f"{key}\tpublished version available: 10.5555/citetool-test.wp-article (publisher)\n"
    result = run("upgrade")
    assert result.exit_code == 0, result.stderr
    rec = stored(store_path)[key]
    assert (rec["DOI"], rec["type"], rec["container-title"]) == (
        "10.5555/citetool-test.wp-article", "article-journal", "Journal of Citetool Test Cases")
    assert rec["citetool"]["fields"]["DOI"] == "crossref" and rec["note"] == "Cited in ch. 3"
    assert "collection-title" not in rec and "genre" not in rec
    assert rec["citetool"]["relations"] == [
        {"type": "preprint", "DOI": "10.5555/citetool-test.nber-wp", "repec": "RePEc:nbr:nberwo:11309"}]
    assert "addendum = {Preprint: doi:10.5555/citetool-test.nber-wp (RePEc:nbr:nberwo:11309)}" in run(
        "export", "-f", "biblatex").stdout


def test_upgrade_without_crossref_says_so_and_changes_nothing(fake, run, store_path, monkeypatch):
    add(run, PREPRINT)
    before = store_path.read_bytes()
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", conftest.DEAD_URL)
    result = run("upgrade")
    assert result.exit_code == 3 and "error: Crossref list query failed" in result.stderr
    assert "nothing to upgrade" not in result.stderr and store_path.read_bytes() == before


def test_two_preprints_of_one_article_upgrade_once(fake, run, store_path, monkeypatch):
    # a second preprint of the same article: the genuine 10.1101/097196 record under another DOI
    twin = json.loads((WORKS / "10.1101_097196.json").read_text(encoding="utf-8"))
    twin["message"]["DOI"] = "10.5555/citetool-test.preprint-twin"
    twin["message"]["title"] = ["Another preprint of the same article"]
    path = store_path.parent / "twin.json"
    path.write_text(json.dumps(twin), encoding="utf-8")
    monkeypatch.setitem(conftest.ALL_WORKS, "10.5555/citetool-test.preprint-twin", path)
    keys = add(run, PREPRINT, "10.5555/citetool-test.preprint-twin")
    result = run("upgrade")
    assert result.exit_code == 3
    refs = stored(store_path)
    assert [refs[k]["DOI"] for k in keys.values()].count(PUBLISHED) == 1
    assert f"its published version {PUBLISHED} is already stored as" in result.stderr


def test_a_doi_with_a_comma_is_asked_alone_and_spoils_no_batch(fake, run, store_path, monkeypatch):
    # Crossref filters are comma-separated: such a DOI cannot go in a list query.
    odd = json.loads((CHECK / "10.5555_citetool-test.concern.json").read_text(encoding="utf-8"))
    odd["message"]["DOI"] = "10.5555/citetool-test.comma,concern"
    path = store_path.parent / "comma.json"
    path.write_text(json.dumps(odd), encoding="utf-8")
    monkeypatch.setitem(conftest.ALL_WORKS, "10.5555/citetool-test.comma,concern", path)
    keys = add(run, RW, "10.5555/citetool-test.comma,concern")
    fake.requests.clear()
    fake.list_requests.clear()
    result = run("check", "--json")
    assert result.exit_code == 3
    assert {json.loads(line)["key"] for line in result.stdout.splitlines()} == set(keys.values())
    assert fake.list_requests == [[RW]] and fake.requests == ["10.5555/citetool-test.comma,concern"]
