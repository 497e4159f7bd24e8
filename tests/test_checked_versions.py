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
