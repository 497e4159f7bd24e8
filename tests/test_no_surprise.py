"""No surprise for a newcomer: a retracted work is said on `add` and fails
`bib --check`; keys with identifier prefixes citetool has no source for are
named as such. Through the CLI, with the recorded (and the labelled synthetic,
tests/fixtures/check/SOURCES.md) Crossref answers."""

from __future__ import annotations

import json

import pytest
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
