"""The store as a file among the user's files: read-only stores, missing
folders, symbolic links, leftovers of crashed saves, case-variant duplicates,
control characters on the way in."""

import json
import os
import stat

from citetool.errors import ExitCode

MANUAL = ("add", "--manual", "--type", "book", "--title", "A book", "--author", "Doe, Jane",
          "--year", "2020", "--set", "publisher=Press")


def write_store(path, refs) -> None:
    path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": refs}), encoding="utf-8")


def refs_of(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["references"]


def test_a_read_only_store_is_refused_and_left_untouched(run, store_path, tmp_path):
    assert run(*MANUAL).exit_code == 0
    store_path.chmod(0o444)
    before = store_path.read_bytes()
    for args in (MANUAL[:5] + ("Another book",) + MANUAL[6:], ("remove", "doe2020book"),
                 ("edit", "doe2020book", "--set", "title=X")):
        result = run(*args)
        assert result.exit_code == ExitCode.STORE, (args, result.stderr)
        assert "read-only" in result.stderr, result.stderr
    assert store_path.read_bytes() == before
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o444
    assert not list(tmp_path.glob(".store.json.*.tmp"))
    assert run("list").exit_code == 0  # reading is fine


def test_a_store_that_cannot_be_read_is_exit_4_by_option_and_by_variable(run, tmp_path, monkeypatch):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert run("--store", str(folder), "list").exit_code == ExitCode.STORE
    monkeypatch.setenv("CITETOOL_STORE", str(folder))
    result = run("list")
    assert result.exit_code == ExitCode.STORE and result.stderr.startswith("citetool: error: cannot read store")


def test_missing_folders_are_not_created(run, store_path, tmp_path):
    assert run(*MANUAL).exit_code == 0
    result = run("export", "-o", str(tmp_path / "no" / "such" / "x.bib"))
    assert result.exit_code == ExitCode.USAGE
    assert "does not exist" in result.stderr and len(result.stderr.splitlines()) == 1
    result = run("--store", str(tmp_path / "nope" / "dir" / "s.json"), *MANUAL)
    assert result.exit_code == ExitCode.STORE and "does not exist" in result.stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "nope").exists()


def test_the_default_data_folder_is_still_created(run, tmp_path, monkeypatch):
    monkeypatch.delenv("CITETOOL_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert not (tmp_path / "citetool.json").exists()
    result = run(*MANUAL)
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in refs_of(tmp_path / "xdg" / "citetool" / "citetool.json")] == ["doe2020book"]


def test_a_symlinked_store_is_written_through_and_stays_a_link(run, tmp_path, monkeypatch):
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    real = real_folder / "real.json"
    write_store(real, [{"id": "old2019", "type": "book", "title": "Old"}])
    link = tmp_path / "link.json"
    link.symlink_to(real)
    monkeypatch.setenv("CITETOOL_STORE", str(link))
    result = run(*MANUAL)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert [r["id"] for r in refs_of(real)] == ["doe2020book", "old2019"]
    assert not list(tmp_path.glob(".*.tmp")) and not list(real_folder.glob(".*.tmp"))
    assert (real_folder / "real.json.lock").exists()  # one lock for every path to the store


def test_doctor_removes_a_crashed_saves_temporary_at_once(run, store_path, tmp_path):
    assert run(*MANUAL).exit_code == 0
    tmp = tmp_path / ".store.json.k2j3h4.tmp"
    tmp.write_text('{"format": "citetool-store", "vers', encoding="utf-8")  # fresh: seconds old
    result = run("doctor")
    assert result.exit_code == ExitCode.STORE and "a crashed save left .store.json.k2j3h4.tmp" in result.stdout
    result = run("doctor", "--repair")
    assert result.exit_code == 0, result.stdout
    assert "removed .store.json.k2j3h4.tmp" in result.stdout and not tmp.exists()


def test_doctor_leaves_a_temporary_alone_while_another_citetool_saves(store_path, tmp_path):
    from filelock import FileLock

    from citetool.doctor import stale_temp_files
    from citetool.store import Store

    store = Store(store_path)
    tmp = tmp_path / ".store.json.busy.tmp"
    tmp.write_text("{", encoding="utf-8")
    with FileLock(str(store.lock_path)):
        assert stale_temp_files(store) == []  # a save may be writing it
    assert stale_temp_files(store) == [tmp]


def test_doctor_merges_case_variant_keys_of_one_work(run, store_path):
    doi = "10.1080/14751798.2021.1995963"
    write_store(store_path, [
        {"id": "Arduino2021russia", "type": "journal-article", "DOI": doi, "title": "Russia's scalable soft power",
         "volume": "37", "citetool": {"fields": {"title": "crossref", "volume": "crossref"},
                                      "sources": {"crossref": {"id": doi, "fetched": "2024-01-01T00:00:00Z"}}}},
        {"id": "arduino2021russia", "type": "article-journal", "DOI": doi, "title": "Russia's scalable soft power",
         "note": "Read for chapter 2", "citetool": {"fields": {"note": "user"}}},
        {"id": "arduino2021Other", "type": "book", "title": "Another work entirely"},
    ])
    result = run("doctor", "--repair")
    assert result.exit_code == 0, result.stdout
    assert "Arduino2021russia and arduino2021russia are one work under two keys" in result.stdout
    refs = {r["id"]: r for r in refs_of(store_path)}
    assert sorted(refs) == ["Arduino2021russia", "arduino2021Other"]
    merged = refs["Arduino2021russia"]
    assert merged["type"] == "article-journal"  # Crossref's journal-article, translated, not "document"
    assert merged["note"] == "Read for chapter 2" and merged["citetool"]["fields"]["note"] == "user"
    assert merged["volume"] == "37" and merged["citetool"]["aliases"] == ["arduino2021russia"]
    assert run("doctor").exit_code == 0


def test_control_characters_never_enter_the_store(run, store_path, tmp_path):
    evil = "Evil\x1b]0;pwned\x07 title\x1b[2J\x9b\x00 here\ttab"
    csl = tmp_path / "in.json"
    csl.write_text(json.dumps([{"id": "x", "type": "book", "title": evil, "publisher": "P\x1b[31m",
                                "author": [{"family": "Doe\x1b[0m", "given": "J"}],
                                "issued": {"date-parts": [[2020]]}}]), encoding="utf-8")
    assert run("import", str(csl)).exit_code == 0
    result = run("add", "--manual", "--type", "book", "--title", "Other\x1b[2J one", "--author", "Roe, R",
                 "--year", "2021", "--set", "publisher=Q\x07")
    assert result.exit_code == 0, result.stderr
    key = refs_of(store_path)[0]["id"]
    assert run("edit", key, "--set", "note=a\x1bnote").exit_code == 0
    text = store_path.read_text(encoding="utf-8")
    data = json.dumps(refs_of(store_path), ensure_ascii=False)
    assert not any(ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) < 0xA0 for c in data), repr(text)
    titles = {r["title"] for r in refs_of(store_path)}
    assert "Evil]0;pwned title[2J here\ttab" in titles and "Other[2J one" in titles



def test_show_prints_conflicts_as_values_iso_dates_and_no_says_less(run, store_path):
    write_store(store_path, [{
        "id": "doe2021work", "type": "article-journal", "title": "A work",
        "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[2021, 10, 2]]},
        "ISSN": "1475-1798, 1475-1801", "volume": "37",
        "citetool": {"fields": {"title": "crossref", "author": "crossref", "issued": "crossref", "ISSN": "crossref",
                                "volume": "crossref"},
                     "conflicts": {"issued": {"econpapers": {"date-parts": [[2021]]}},
                                   "ISSN": {"econpapers": "1475-1798"},
                                   "author": {"econpapers": [{"family": "Doe", "given": "J."},
                                                             {"family": "Roe", "given": "Richard"}]},
                                   "volume": {"econpapers": "38"}}}}])
    result = run("show", "doe2021work")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "issued: 2021-10-02  [crossref]" in lines
    assert "  econpapers says: Doe, J.; Roe, Richard" in lines
    assert "  econpapers says: 38" in lines
    assert not any("{" in line or "[" in line.split("  [")[0] for line in lines), result.stdout
    # a year for a full date, one ISSN of two: saying less is no conflict
    assert "  econpapers says: 2021" not in lines and "  econpapers says: 1475-1798" not in lines


def test_a_source_that_says_less_records_no_conflict():
    from citetool.merge import merge_into, new_reference

    stored = new_reference({"type": "article-journal", "issued": {"date-parts": [[2021, 10, 2]]},
                            "ISSN": "1475-1798, 1475-1801", "title": "T"}, "crossref", "10.1/x")
    merge_into(stored, {"issued": {"date-parts": [[2021]]}, "ISSN": "1475-1798", "title": "Other"},
               "econpapers", "RePEc:a:b:c")
    assert set(stored["citetool"]["conflicts"]) == {"title"}


def test_a_hand_edited_field_of_the_wrong_type_is_named_and_repaired(run, store_path):
    write_store(store_path, [
        {"id": "doe2020good", "type": "book", "title": "Fine"},
        {"id": "doe2020bad", "type": "book", "title": ["Two", "parts"], "author": "Doe, Jane and Roe, R",
         "issued": "2020-05", "volume": {"oops": 1}},
    ])
    for args in (("list",), ("export",), ("export", "-f", "ris"), ("list", "--json")):
        result = run(*args)
        assert result.exit_code == ExitCode.STORE, (args, result.stderr)
        assert result.stderr == ("citetool: error: reference 'doe2020bad': the field 'title' holds a list, not text "
                                 "(edited by hand?); run `citetool doctor --repair` to fix it\n")
    result = run("doctor", "--repair")
    assert result.exit_code == 0, result.stdout
    assert "doe2020bad: the field 'volume' removed (it stays in the backup)" in result.stdout
    bad = {r["id"]: r for r in refs_of(store_path)}["doe2020bad"]
    assert bad["title"] == "Two parts" and "volume" not in bad
    assert bad["author"] == [{"family": "Doe", "given": "Jane"}, {"family": "Roe", "given": "R"}]
    assert bad["issued"] == {"date-parts": [[2020, 5]]}
    assert run("export").exit_code == 0


def test_a_lone_surrogate_is_replaced_not_a_crash(run, tmp_path, monkeypatch):
    """A store edited by hand with "\\ud800" (half a character: no UTF-8 file or
    terminal can hold it) made every command exit 1; an import carrying one too.
    It is read as U+FFFD, the replacement character."""
    store = tmp_path / "sur.json"
    store.write_text('{"format": "citetool-store", "version": 1, "references": ['
                     '{"id": "a", "type": "book", "title": "Bad \\ud800 x"}, {"id": "b", "type": "book", "title": "B"}]}',
                     encoding="utf-8")
    monkeypatch.setenv("CITETOOL_STORE", str(store))
    listed = run("list")
    assert listed.exit_code == 0 and "Bad \ufffd x" in listed.stdout
    assert run("export", "-f", "csl-json").exit_code == 0
    doctor = run("doctor")
    assert doctor.exit_code == 4 and "lone surrogates" in doctor.stdout + doctor.stderr
    assert run("edit", "b", "--set", "note=x").exit_code == 0
    assert run("doctor").exit_code == 0
    assert json.loads(store.read_text(encoding="utf-8"))["references"][0]["title"] == "Bad \ufffd x"
    items = tmp_path / "s.json"
    items.write_text('[{"id": "s", "type": "book", "title": "Half \\udc00 of it"}]', encoding="utf-8")
    assert run("import", str(items)).exit_code == 0
    assert json.loads(run("show", "s", "--json").stdout)["title"] == "Half \ufffd of it"
