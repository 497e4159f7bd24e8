"""The store file: format, git-friendly diffs, atomic saves, locking, parallel writers."""

import difflib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ALL_WORKS, SEED_DOI
from hypothesis import given
from hypothesis import strategies as st

from citetool.errors import StoreError, StoreLocked
from citetool.store import FORMAT, VERSION, Store, _holds_19_digits, dumps, loads


def test_format_is_sorted_indented_utf8_with_final_newline():
    records = {"b": {"id": "b", "title": "Ünal’s"}, "A": {"id": "A", "type": "book"}}
    text = dumps(records)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert [r["id"] for r in data["references"]] == ["A", "b"]
    assert "Ünal’s" in text  # UTF-8, not \u escapes
    assert loads(text) == records
    assert dumps(loads(text)) == text


def _diff(before, after):
    diff = list(difflib.ndiff(before, after))
    return ([d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")])


def _block(store_path, doi):
    new = next(r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"] if r["DOI"] == doi)
    return [line.strip() for line in json.dumps(new, ensure_ascii=False, indent=2, sort_keys=True).splitlines()]


def test_the_fast_writer_writes_what_json_would(crossref, run, store_path):
    """The store is written with orjson; its text must be exactly json.dumps's."""
    assert run("add", "-", input="\n".join(sorted(ALL_WORKS))).exit_code == 0
    text = store_path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("doi", ["10.1038/hdy.2013.26", "10.1038/srep16696"])  # middle, end
def test_adding_one_reference_changes_only_its_own_lines(crossref, run, store_path, doi):
    assert run("add", SEED_DOI, "10.1038/ng.3834").exit_code == 0
    before = store_path.read_text(encoding="utf-8").splitlines()
    assert run("add", doi).exit_code == 0
    removed, added = _diff(before, store_path.read_text(encoding="utf-8").splitlines())
    block = _block(store_path, doi)
    # The only line that may change is the previous last reference's "}" gaining
    # a comma; everything else is the new reference's own lines.
    assert [line.strip() for line in removed] in ([], ["}"])
    expected = block[:-1] + ["},"] if not removed else block + ["},"]
    assert sorted(line.strip() for line in added) == sorted(expected)


def test_a_failed_write_leaves_the_old_store_and_no_temp_file(tmp_path, monkeypatch):
    store = Store(tmp_path / "s.json")
    store.save({"a": {"id": "a"}})
    before = store.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError, match="No space left on device; the old store is unchanged"):
        store.save({"a": {"id": "a"}, "b": {"id": "b"}})
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_the_lock_times_out_with_a_message(tmp_path):
    from filelock import FileLock

    store = Store(tmp_path / "s.json", lock_timeout=0.2)
    with FileLock(str(store.lock_path)), pytest.raises(StoreLocked, match="locked by another citetool process"), store.locked():
        pass


def test_duplicate_keys_and_keyless_references_are_refused():
    body = {"format": FORMAT, "version": 1, "references": [{"id": "a"}, {"id": "a"}]}
    with pytest.raises(StoreError, match="appears twice"):
        loads(json.dumps(body))
    body["references"] = [{"title": "x"}]
    with pytest.raises(StoreError, match="no citation key"):
        loads(json.dumps(body))


def test_parallel_processes_lose_nothing(crossref, store_path):
    """12 citetool processes add different DOIs to one store at the same time."""
    dois = sorted(ALL_WORKS)[:36]
    env = {**os.environ, "CITETOOL_STORE": str(store_path)}
    chunks = [dois[i::12] for i in range(12)]

    def add(chunk):
        return subprocess.run([sys.executable, "-m", "citetool", "add", *chunk],
                              capture_output=True, text=True, env=env, timeout=120)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(add, chunks))
    for r in results:
        assert r.returncode == 0, r.stderr
    data = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert sorted(r["DOI"] for r in data) == sorted(d.lower() for d in dois)
    keys = [r["id"].lower() for r in data]
    assert len(keys) == len(set(keys))


_DIGIT_RUN_BYTES = st.lists(st.sampled_from([b"0", b"7", b"9", b" ", b"\n", b"-", b".", b"a", b'"']), max_size=90).map(b"".join)


@given(st.lists(_DIGIT_RUN_BYTES | st.integers(min_value=0, max_value=10**25).map(lambda n: str(n).encode()), max_size=8)
       .map(b"".join))
def test_the_sampled_search_for_19_digits_finds_exactly_the_runs_of_19(data):
    """The store's read samples every fourth byte to spot a run of 19 digits (an integer
    orjson would read as a float): the same verdict as a search of every byte."""
    assert _holds_19_digits(data) == (re.search(rb"[0-9]{19}", data) is not None)


def test_a_run_of_digits_is_found_whatever_its_place_among_the_sampled_bytes():
    for before in range(9):
        for length in range(14, 26):
            for after in (b"", b" ", b"a7", b"\n  1"):
                data = b'{"n": ' + b"x" * before + b"1" * length + after
                assert _holds_19_digits(data) == (length >= 19), (before, length, after)
