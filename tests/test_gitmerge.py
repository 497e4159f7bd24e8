"""The merge driver, `resolve` and aliases through the command line, on store
files (the real-git runs are in test_gitmerge_git.py)."""

from __future__ import annotations

import copy
import json

from citetool.errors import ExitCode
from citetool.merge import merge_into, new_reference, set_user_field
from citetool.store import dumps

ARTICLE = {"type": "article-journal", "DOI": "10.5555/merge.1", "title": "Merging stores without markers",
           "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[2020]]},
           "container-title": "Journal of Merges", "volume": "3"}
BOOK = {"type": "book", "ISBN": "9780306406157", "title": "A book about merging",
        "author": [{"family": "Roe", "given": "Rick"}], "issued": {"date-parts": [[2019]]}, "publisher": "Press"}


def reference(key: str, fields: dict, source: str = "crossref", when: str = "2026-01-01T00:00:00Z") -> dict:
    rec = new_reference(fields, source, fields.get("DOI", "manual"), when)
    rec["id"] = key
    return rec


def write(path, *records) -> str:
    path.write_text(dumps({r["id"]: r for r in records}), encoding="utf-8")
    return str(path)


def merge(run, tmp_path, base, ours, theirs):
    files = [write(tmp_path / f"{name}.json", *recs) for name, recs in
             (("base", base), ("ours", ours), ("theirs", theirs))]
    result = run("merge-driver", *files, "refs/citetool.json")
    return result, {r["id"]: r for r in json.loads((tmp_path / "ours.json").read_text(encoding="utf-8"))["references"]}


def test_a_clean_merge_exits_0_and_says_nothing(run, tmp_path):
    base = reference("doe2020merging", ARTICLE)
    ours = copy.deepcopy(base)
    set_user_field(ours, "note", "ours")
    theirs = copy.deepcopy(base)
    set_user_field(theirs, "volume", "4")
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == 0 and result.stderr == ""
    assert merged["doe2020merging"]["note"] == "ours" and merged["doe2020merging"]["volume"] == "4"


def test_a_conflict_exits_1_and_resolve_settles_it_with_a_value(run, tmp_path, store_path):
    base = reference("doe2020merging", ARTICLE)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    set_user_field(ours, "author", [{"family": "Doe", "given": "J."}])
    set_user_field(theirs, "author", [{"family": "Doe", "given": "Janet"}])
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == ExitCode.MERGE_CONFLICT == 1
    assert "refs/citetool.json: conflict: doe2020merging author" in result.stderr
    assert merged["doe2020merging"]["author"] == [{"family": "Doe", "given": "J."}]
    store_path.write_text((tmp_path / "ours.json").read_text(encoding="utf-8"), encoding="utf-8")
    shown = run("show", "doe2020merging").stdout
    assert "merge conflict, ours: Doe, J." in shown and "merge conflict, theirs: Doe, Janet" in shown
    doctor = run("doctor")
    assert doctor.exit_code == ExitCode.STORE
    assert "doe2020merging: unresolved merge conflict in author (ours: Doe, J.; theirs: Doe, Janet)" in doctor.stdout
    assert run("doctor", "--repair").exit_code == ExitCode.STORE  # only resolve settles it
    exported = run("export", "-f", "ris")
    assert exported.exit_code == 0 and "AU  - Doe, J." in exported.stdout
    assert "warning: doe2020merging: unresolved merge conflict in author" in exported.stderr
    assert "(ours is exported)" in exported.stderr
    wrong = run("resolve", "doe2020merging", "title", "--take", "ours")
    assert wrong.exit_code == ExitCode.USAGE and "no unresolved merge conflict in 'title'" in wrong.stderr
    done = run("resolve", "DOE2020MERGING", "author", "--take", "Doe, Jane Q.")
    assert done.exit_code == 0, done.stderr
    assert done.stdout == "doe2020merging\n" and "author is now Doe, Jane Q." in done.stderr
    rec = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert rec["author"] == [{"family": "Doe", "given": "Jane Q."}]
    assert rec["citetool"]["fields"]["author"] == "user" and "unresolved" not in rec["citetool"]
    assert run("doctor").exit_code == 0


def test_a_conflict_between_an_edit_and_an_unset_can_take_the_removal(run, tmp_path, store_path):
    base = reference("doe2020merging", ARTICLE)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    set_user_field(ours, "volume", "33")
    set_user_field(theirs, "volume", None)
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == 1
    assert merged["doe2020merging"]["citetool"]["unresolved"] == {"volume": {"ours": "33", "theirs": None}}
    store_path.write_text((tmp_path / "ours.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert "merge conflict, theirs: (no value)" in run("show", "doe2020merging").stdout
    assert run("resolve", "doe2020merging", "volume", "--take", "theirs").exit_code == 0
    rec = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert "volume" not in rec and rec["citetool"]["fields"]["volume"] == "user"


def test_two_sources_the_more_authoritative_wins_and_the_other_stays_visible(run, tmp_path):
    base = reference("doe2020merging", ARTICLE, source="econpapers")
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    merge_into(ours, {"volume": "30"}, "econpapers", "RePEc:x", "2026-03-01T00:00:00Z")
    merge_into(theirs, {"volume": "31"}, "crossref", ARTICLE["DOI"], "2026-02-01T00:00:00Z")
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == 0
    rec = merged["doe2020merging"]
    assert rec["volume"] == "31" and rec["citetool"]["fields"]["volume"] == "crossref"
    assert rec["citetool"]["conflicts"]["volume"] == {"econpapers": "30"}
    assert set(rec["citetool"]["sources"]) == {"econpapers", "crossref"}
    assert rec["citetool"]["sources"]["econpapers"]["fetched"] == "2026-03-01T00:00:00Z"


def test_one_work_added_on_both_sides_under_two_keys_becomes_one_reference(run, tmp_path, store_path):
    ours = reference("roe2019book", BOOK, source="openlibrary")
    theirs = reference("Roe:Merging", dict(BOOK, ISBN="0-306-40615-2"), source="import")
    set_user_field(theirs, "note", "theirs' note")
    result, merged = merge(run, tmp_path, [], [ours], [theirs])  # no common ancestor (an empty %O)
    assert result.exit_code == 0, result.stderr
    assert list(merged) == ["roe2019book"]
    assert merged["roe2019book"]["citetool"]["aliases"] == ["Roe:Merging"]
    assert merged["roe2019book"]["note"] == "theirs' note"
    assert "roe2019book (ours) and Roe:Merging (theirs) are the same work" in result.stderr
    store_path.write_text((tmp_path / "ours.json").read_text(encoding="utf-8"), encoding="utf-8")
    for alias in ("Roe:Merging", "roe:merging"):
        assert run("show", alias).stdout.startswith("key: roe2019book\n")
    assert "alias: Roe:Merging" in run("show", "roe2019book").stdout
    assert run("export", "Roe:Merging", "-f", "ris").stdout.count("TY  -") == 1
    assert run("show", "nobody").exit_code == ExitCode.NOT_IN_STORE
    # An alias stays taken: no new reference and no rekey takes it from the work it names.
    other = tmp_path / "other.bib"
    other.write_text("@book{Roe:Merging, title={Another book entirely}, author={Poe, Pat}, year={2001},"
                     " publisher={P}}\n", encoding="utf-8")
    imported = run("import", str(other))
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.strip().lower() != "roe:merging"
    assert run("show", "Roe:Merging").stdout.startswith("key: roe2019book\n")
    refused = run("rekey", imported.stdout.strip(), "roe:merging")
    assert refused.exit_code == ExitCode.USAGE and "as a key or an alias" in refused.stderr


def test_two_different_rekeys_keep_ours_and_alias_theirs(run, tmp_path):
    base = reference("doe2020merging", ARTICLE)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    ours["id"], theirs["id"] = "doe2020", "DoeMerging"
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == 0
    assert list(merged) == ["doe2020"]
    assert merged["doe2020"]["citetool"]["aliases"] == ["doe2020merging", "DoeMerging"]
    assert "kept doe2020, DoeMerging stays usable as an alias" in result.stderr


def test_one_key_for_two_different_works_keeps_both_and_says_so(run, tmp_path):
    ours = reference("doe2020merging", ARTICLE)
    theirs = reference("doe2020merging", dict(ARTICLE, DOI="10.5555/merge.2", title="Merging, again"))
    result, merged = merge(run, tmp_path, [], [ours], [theirs])
    assert result.exit_code == 0
    assert merged["doe2020merging"]["DOI"] == "10.5555/merge.1"
    assert merged["doe2020merginga"]["DOI"] == "10.5555/merge.2"
    assert "both sides use the key doe2020merging for different works" in result.stderr


def test_an_unreadable_side_exits_4_and_leaves_ours_untouched(run, tmp_path):
    good = write(tmp_path / "ours.json", reference("doe2020merging", ARTICLE))
    before = (tmp_path / "ours.json").read_bytes()
    (tmp_path / "theirs.json").write_text('{"format": "citetool-store", "version": 1, "references": [', encoding="utf-8")
    result = run("merge-driver", good, good, str(tmp_path / "theirs.json"))
    assert result.exit_code == ExitCode.STORE
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "ours.json").read_bytes() == before


def test_a_key_given_to_another_work_is_not_the_same_reference(run, tmp_path):
    base = reference("doe2020merging", ARTICLE)
    other_work = reference("doe2020merging", dict(ARTICLE, DOI="10.5555/merge.2", title="Merging, the sequel"))
    theirs = copy.deepcopy(base)
    set_user_field(theirs, "note", "theirs")
    result, merged = merge(run, tmp_path, [base], [other_work], [theirs])  # ours removed it, then reused its key
    assert result.exit_code == 0
    assert sorted(r["DOI"] for r in merged.values()) == ["10.5555/merge.1", "10.5555/merge.2"]
    assert "kept doe2020merging: removed in ours, but edited in theirs" in result.stderr
    assert "both sides use the key doe2020merging for different works" in result.stderr
    result, merged = merge(run, tmp_path, [base], [other_work], [base])  # theirs left it alone: ours wins
    assert [r["DOI"] for r in merged.values()] == ["10.5555/merge.2"]


def test_a_doi_corrected_by_hand_is_still_the_same_reference(run, tmp_path):
    base = reference("doe2020merging", ARTICLE)
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    set_user_field(ours, "DOI", "10.5555/merge.corrected")
    set_user_field(theirs, "note", "theirs")
    result, merged = merge(run, tmp_path, [base], [ours], [theirs])
    assert result.exit_code == 0 and list(merged) == ["doe2020merging"]
    assert merged["doe2020merging"]["DOI"] == "10.5555/merge.corrected"
    assert merged["doe2020merging"]["note"] == "theirs"
