"""A store no one changed since its references passed the shape check is not
checked again (store.CheckedVersions); any write to it is checked."""

from __future__ import annotations

import json
import os

import pytest

from citetool import record_shape

GOOD = {"format": "citetool-store", "version": 1, "references": [
    {"id": "a2020", "type": "book", "title": "A title", "issued": {"date-parts": [[2020]]}}]}


@pytest.fixture(autouse=True)
def remember_every_check(monkeypatch):
    """These stores are smaller than the memory of checks is used from."""
    from citetool.library import Library

    monkeypatch.setattr(Library, "REMEMBER_CHECKS_FROM", 1)


@pytest.fixture
def counted_checks(monkeypatch):
    calls = []
    real = record_shape.check_fields

    def counting(records):
        calls.append(1)
        return real(records)

    monkeypatch.setattr(record_shape, "check_fields", counting)
    return calls


def test_an_unchanged_store_is_checked_once(run, store_path, tmp_path, counted_checks):
    store_path.write_text(json.dumps(GOOD))
    for _ in range(3):
        assert run("list").exit_code == 0
    assert counted_checks == [1]
    assert (tmp_path / "cache" / "checked-stores.json").exists()


def test_a_hand_edit_is_checked_even_with_its_size_and_time_kept(run, store_path, counted_checks):
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0
    before = os.stat(store_path)
    bad = json.dumps(GOOD).replace('"A title"', '["A tit"]')  # the same size: a list for a title
    assert len(bad) == len(json.dumps(GOOD))
    store_path.write_text(bad)
    os.utime(store_path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as an editor may leave it
    result = run("list")
    assert result.exit_code == 4
    assert "reference 'a2020': the field 'title' holds a list, not text" in result.stderr
    assert counted_checks == [1, 1]


@pytest.mark.parametrize("content", [b"", b"garbage", b"[]", b'{"x": 1}'])
def test_a_broken_memory_of_checks_is_no_error(run, store_path, tmp_path, counted_checks, content):
    store_path.write_text(json.dumps(GOOD))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "checked-stores.json").write_bytes(content)
    assert run("list").exit_code == 0
    assert run("list").exit_code == 0
    assert counted_checks == [1]  # checked, then remembered anew


def test_a_small_store_is_checked_each_time_without_a_memory(run, store_path, tmp_path, counted_checks, monkeypatch):
    from citetool.library import Library

    monkeypatch.setattr(Library, "REMEMBER_CHECKS_FROM", 1000)
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0 and run("list").exit_code == 0
    assert counted_checks == [1, 1]
    assert not (tmp_path / "cache" / "checked-stores.json").exists()


def test_a_fifo_or_a_link_in_place_of_the_memory_is_never_read_or_followed(run, store_path, tmp_path, counted_checks):
    store_path.write_text(json.dumps(GOOD))
    memory = tmp_path / "cache" / "checked-stores.json"
    memory.parent.mkdir()
    os.mkfifo(memory)
    assert run("list").exit_code == 0  # no wait on the FIFO; replaced by a file
    assert memory.is_file() and not memory.is_symlink()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    memory.unlink()
    memory.symlink_to(victim)
    assert run("list").exit_code == 0
    assert victim.read_text() == "mine" and not memory.is_symlink()


def test_a_process_whose_sources_changed_remembers_no_check(run, store_path, tmp_path, counted_checks, monkeypatch):
    from citetool import fingerprint

    monkeypatch.setattr(fingerprint, "_fingerprint", "")  # what code_fingerprint finds then
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0 and run("list").exit_code == 0
    assert counted_checks == [1, 1]
    assert not (tmp_path / "cache" / "checked-stores.json").exists()


def _memory(tmp_path) -> dict:
    path = tmp_path / "cache" / "checked-stores.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_store_add_wrote_is_not_checked_again(run, store_path, tmp_path, counted_checks, crossref):
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0  # checked, and remembered sound
    assert run("add", "10.1002/jor.1100150407").exit_code == 0  # read as known; its one new reference checked
    listed = run("list")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 2
    assert counted_checks == [1]  # the file add wrote was not checked all again
    assert list(_memory(tmp_path)) == [os.path.realpath(store_path)]


def test_an_edit_that_keeps_the_files_status_is_told_by_its_content(run, store_path, tmp_path, counted_checks):
    """A write within one tick of the file system's clock can leave a file's
    times as they were: the memory also holds the content's checksum."""
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0
    bad = json.dumps(GOOD).replace('"A title"', '["A tit"]')
    store_path.write_text(bad)
    memory_file = tmp_path / "cache" / "checked-stores.json"
    memory = json.loads(memory_file.read_text())
    st = os.stat(store_path)
    memory[os.path.realpath(store_path)][:5] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    memory_file.write_text(json.dumps(memory))  # as if the edit had left the status remembered
    result = run("list")
    assert result.exit_code == 4
    assert "the field 'title' holds a list" in result.stderr


def test_a_number_orjson_would_misread_is_read_by_json_every_time(run, store_path, tmp_path, counted_checks, crossref):
    big = 123456789012345678901234567890  # beyond 64 bits: orjson would read a float
    store = {**GOOD, "references": [{**GOOD["references"][0], "x-count": big}]}
    store_path.write_text(json.dumps(store))
    for _ in range(2):
        shown = run("show", "a2020", "--json")
        assert shown.exit_code == 0 and str(big) in shown.stdout
        assert run("list").exit_code == 0
    assert counted_checks == [1, 1, 1, 1] and _memory(tmp_path) == {}  # each show and list checks: never remembered
    assert run("add", "10.1002/jor.1100150407").exit_code == 0  # written by json: not remembered either
    assert str(big) in run("show", "a2020", "--json").stdout and _memory(tmp_path) == {}


def test_a_store_written_by_another_command_is_checked(run, store_path, tmp_path, counted_checks):
    store_path.write_text(json.dumps(GOOD))
    assert run("list").exit_code == 0
    assert run("edit", "a2020", "--set", "title=Another title").exit_code == 0  # no memory of what an edit wrote
    assert run("list").exit_code == 0
    assert counted_checks == [1, 1]  # the list before it, and the list after it


def test_a_store_whose_path_is_not_utf8_is_read_and_checked_each_time(run, tmp_path, monkeypatch, counted_checks):
    """A file name is bytes on POSIX (a folder copied from an old Latin-1 system:
    b"r\\xe9f.json"): the memory, JSON, cannot name it; it is no error, the store is checked."""
    path = tmp_path / os.fsdecode(b"r\xe9f\xff.json")
    path.write_text(json.dumps(GOOD))
    monkeypatch.setenv("CITETOOL_STORE", str(path))
    for _ in range(2):
        listed = run("list")
        assert listed.exit_code == 0, listed.stderr
        assert "a2020" in listed.stdout
    assert counted_checks == [1, 1]


def test_a_store_is_read_where_no_thread_can_be_started(run, store_path, counted_checks, monkeypatch):
    """The CRC-32 is made on another thread only where one can be started: a
    container at its limit of processes refuses (RuntimeError, as Python raises
    it then), and the checksum is made in this thread instead."""
    import threading

    def refused(self):
        raise RuntimeError("can't start new thread")

    store_path.write_text(json.dumps(GOOD))
    monkeypatch.setattr(threading.Thread, "start", refused)
    for _ in range(2):
        listed = run("list")
        assert listed.exit_code == 0, listed.stderr
        assert "a2020" in listed.stdout
    assert run("edit", "a2020", "--set", "title=Another title").exit_code == 0
    assert "Another title" in store_path.read_text()
    assert counted_checks == [1]  # remembered sound after the first read, as with a thread


def test_add_does_not_vouch_for_references_changed_unchecked_before_it(run, store_path, tmp_path, crossref):
    """add remembers the file it wrote as sound only when the references it did
    not place were known sound: a Python caller's own change in an earlier
    transaction of the same Library (no shape check) is checked by the next read."""
    from citetool.library import Library

    store_path.write_text(json.dumps(GOOD))
    lib = Library()
    with lib.transaction() as placer:
        placer.records["a2020"]["title"] = ["A list, not text"]
    assert lib.add(["10.1002/jor.1100150407"])[0].ok
    listed = run("list")
    assert listed.exit_code == 4
    assert "reference 'a2020': the field 'title' holds a list, not text" in listed.stderr
