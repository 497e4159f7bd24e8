"""The streamed import (an entry at a time, references packed, the store written in
pieces) gives the very bytes, outcomes and problems of the import that reads every
entry first and holds every reference as a dict, on real .bib files."""

import json
import shutil
from pathlib import Path

import bibtexparser
import pytest

import citetool.merge
from citetool.formats import bibtex_split, read, sniff
from citetool.formats.bibtex_split import _split, split_plan
from citetool.library import Library, _shaped_entries
from citetool.packed import PackedRecords
from citetool.store import Store, _streamed, dump_bytes, loads

FIXTURES = Path(__file__).parent / "fixtures"
BIBS = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.bib"))
EXISTING_STORE = FIXTURES / "speed" / "store.json"  # 95 references, real Crossref works


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch, tmp_path):
    monkeypatch.setattr(citetool.merge, "now_iso", lambda: "2026-01-01T00:00:00Z")
    monkeypatch.setenv("CITETOOL_CACHE_DIR", str(tmp_path / "cache"))


def _texts(names):
    return [(name, (FIXTURES / name).read_text(encoding="utf-8-sig")) for name in names]


def _store(tmp_path, folder, existing):
    store = tmp_path / folder / "store.json"
    store.parent.mkdir()
    if existing:
        shutil.copy(EXISTING_STORE, store)
    return store


def import_streamed(store: Path, names):
    outcomes, problems = Library(store).import_files(_texts(names))
    return store.read_bytes() if store.exists() else None, [o.as_dict() for o in outcomes], problems


def import_held(store: Path, names):
    """The import as it was: every file read into a list of entries first, then placed
    into the store's references as dicts, the store written by dump_bytes."""
    library = Library(store)
    problems, macros, readings = [], {}, []
    for name, text in _texts(names):
        found, trouble = read(name, text, macros)
        readings.append((name, sniff(name, text) == "csl-json", iter(found), trouble))
    entries = list(_shaped_entries(readings, problems))
    with library.transaction(save=bool(entries)) as placer:
        assert not isinstance(placer.records, PackedRecords)
        outcomes = [placer.imported(name, entry, []) for name, entry in entries]
    return store.read_bytes() if store.exists() else None, [o.as_dict() for o in outcomes], problems


SCENARIOS = {f"{name} alone": [name] for name in BIBS}
SCENARIOS["all together"] = BIBS  # @string macros across files, the same works in several files
SCENARIOS["all twice"] = BIBS + BIBS  # every entry met again: merges, aliases, "present"


# into a new store, and into a store of 95 references: the files that share works with it, and all files;
# each as a small import and as a large one reads and holds them: no entry read before its turn, the
# references packed
CASES = [(scenario, existing, large) for large in (False, True) for scenario in SCENARIOS for existing in (False, True)
         if not existing or scenario.startswith("speed/") or not scenario.endswith("alone")]


@pytest.mark.parametrize(("scenario", "existing", "large"), CASES,
                         ids=[f"{s}, {'into a store of 95' if e else 'new store'}{', as a large import' if g else ''}"
                              for s, e, g in CASES])
def test_streamed_import_is_the_held_import(tmp_path, monkeypatch, scenario, existing, large):
    names = SCENARIOS[scenario]
    with monkeypatch.context() as large_import:
        if large:
            large_import.setattr(bibtex_split, "HELD_BELOW", 0)
            large_import.setattr(Library, "PACK_IMPORT_FROM", 0)
        streamed = import_streamed(_store(tmp_path, "streamed", existing), names)
    held = import_held(_store(tmp_path, "held", existing), names)  # each file's entries read in one pass
    assert streamed[1] == held[1]  # the outcomes: status, key, notes
    assert streamed[2] == held[2]  # the problems, in order
    assert streamed[0] == held[0]  # the store, byte for byte


@pytest.mark.parametrize(("keys", "duplicate"), [
    (["Ab", "Ab"], True), (["Ab", "aB"], False), (["Ab", "aB", "Ab"], True), (["Ab", "aB", "AB", "AB"], True),
    (["Ab", "aB", "AB"], False)])
def test_a_duplicate_key_is_told_apart_from_one_in_another_case(keys, duplicate):
    """bibtexparser fails the block of a key given twice, exactly; keys that differ in case are
    two entries. (Hand-made: a few entries that differ only in their keys.)"""
    text = "".join(f"@misc{{{key},\n  title = {{Entry {i}}}\n}}\n" for i, key in enumerate(keys))
    assert bool(bibtexparser.parse_string(text).failed_blocks) == duplicate
    entries = _split(text, {})
    assert (entries is None) == duplicate  # (then bibtexparser reads the file, and says which block failed)
    if not duplicate:
        assert [e.key for e in entries] == keys


def test_the_scenarios_cover_both_readers_crossref_and_merges(tmp_path):
    """The comparison above is worth something only if the files exercise the paths."""
    _, outcomes, problems = import_streamed(_store(tmp_path, "s", False), SCENARIOS["all twice"])
    assert {o["status"] for o in outcomes} >= {"added", "present"}
    assert any("alias" in note for o in outcomes for note in o.get("notes", []))
    assert any("malformed" in p or "skipped" in p for p in problems)
    texts = dict(_texts(BIBS))
    assert any(split_plan(t, {}) is None for t in texts.values())  # read by bibtexparser
    assert any(split_plan(t, {}) is not None and "crossref" in t.lower() for t in texts.values())


def _packed_copy(records: dict) -> PackedRecords:
    packed = PackedRecords({})
    for key, record in records.items():
        packed[key] = json.loads(json.dumps(record))
    packed.settle()
    return packed


def test_packed_records_write_what_dump_bytes_writes():
    records = loads(EXISTING_STORE.read_bytes())
    packed = _packed_copy(records)
    assert all(type(v) is bytes for v in packed._data.values())  # every one packed
    assert sum(v[0] == 0x78 for v in packed._data.values()) > len(records) / 2  # most of them compressed
    assert b"".join(_streamed(packed)) == dump_bytes(records)
    assert dict(packed.items()) == records and list(packed.values()) == [records[k] for k in records]


def test_a_packed_reference_asked_for_by_key_is_changed_in_place_until_settled():
    records = loads(EXISTING_STORE.read_bytes())
    packed = _packed_copy(records)
    key = next(iter(records))
    packed[key]["note"] = "changed"
    assert packed[key]["note"] == "changed"  # live until settled
    packed.settle()
    assert type(packed._data[key]) is bytes and packed[key]["note"] == "changed"
    packed.settle()
    next(iter(packed.values()))["note"] = "lost"  # values() are for reading
    assert packed[key]["note"] == "changed"
    other = sorted(records)[1]
    before = packed._data[other]
    assert packed[other] == records[other]  # given out, read, not changed
    packed.settle()
    assert packed._data[other] is before  # its packed bytes kept, not packed again
    del packed[key]
    assert key not in packed and len(packed) == len(records) - 1


def test_a_reference_orjson_cannot_write_is_written_as_dump_bytes_writes_it(tmp_path):
    """An integer beyond 64 bits (a hand edit): json writes the whole store, as dump_bytes does."""
    records = loads(EXISTING_STORE.read_bytes())
    key = sorted(records)[40]
    records[key]["note"] = 2 ** 70
    packed = _packed_copy({k: v for k, v in records.items() if k != key})
    packed[key] = records[key]
    packed.settle()  # stays live: orjson cannot pack it
    assert type(packed._data[key]) is dict
    store = Store(tmp_path / "s.json")
    store.save(packed)
    assert store.path.read_bytes() == dump_bytes(records)


def test_after_a_large_import_the_library_reads_the_store_again(tmp_path, monkeypatch):
    monkeypatch.setattr(Library, "PACK_IMPORT_FROM", 0)
    store = _store(tmp_path, "s", True)
    library = Library(store)
    before = len(library.records)
    settled = []
    settle = PackedRecords.settle
    monkeypatch.setattr(PackedRecords, "settle", lambda self: settled.append(len(self)) or settle(self))
    outcomes, _ = library.import_files(_texts(["adopt/zotero-apa/sample.bib"]))
    assert settled  # the import held its references packed
    assert isinstance(library.records, dict)  # not the import's packed references
    assert len(library.records) == before + sum(o.status == "added" for o in outcomes)
    assert library.records == loads(store.read_bytes())
    assert "now holds" in library.store.saved_summary()
