"""Speed work changes no byte: the store file and what the read commands print
are pinned to files written by citetool before the speed work (issue #14):
the store, list and show as citetool wrote them before any of it, the
exports as they were before their renderers were made faster.

tests/fixtures/speed/store.json holds the recorded Crossref fixtures (through
citetool's Crossref mapping) and a few hand-built references (their ``note``
says so) with what stresses a writer: keys differing only in case, control
characters, line and paragraph separators, non-breaking spaces, RTL, CJK,
emoji, combining marks, quotes and backslashes, organisations, editors only,
no date. tests/fixtures/speed/out/ holds each command's output.

When a change of output is intended (a fix in a renderer, say), write the
files again with the new code and review the diff before committing it:

    PYTHONPATH=. python tests/test_speed_bytes.py --regenerate
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from citetool import store as storage
from citetool.errors import StoreError
from citetool.store import Store, dumps, loads

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "fixtures" / "speed"
STORE = GOLDEN / "store.json"
OUT = GOLDEN / "out"

# The styles named in the manual, two numeric ones (citation numbers) and one with
# the subsequent-author substitute (MLA).
STYLES = ("apa", "chicago-author-date", "harvard-cite-them-right", "modern-language-association", "ieee",
          "american-medical-association", "nature")

# (output file, command line) run against a copy of STORE.
COMMANDS = {
    "list.tsv": ["list"],
    "list-json.json": ["list", "--json"],
    "list-filtered.tsv": ["list", "--year", "2015-2021", "--type", "article-journal"],
    "list-search.tsv": ["list", "-q", "unal"],
    "list-keys.tsv": ["list", "smith2020", "HAND-CJK"],
    "show-hand-hostile.txt": ["show", "hand-hostile"],
    "show-hand-hostile.json": ["show", "--json", "hand-hostile"],
    "show-smith2020a.txt": ["show", "SMITH2020A"],
    **{f"export.{ext}": ["export", "-f", fmt] for fmt, ext in (
        ("bibtex", "bib"), ("biblatex", "biblatex.bib"), ("ris", "ris"), ("csl-json", "json"), ("html", "html"),
        ("text", "txt"))},
    # styled (citeproc-py): written before the renders were made faster (issue #25)
    **{f"export-{style}.{ext}": ["export", "-f", fmt, "--style", style]
       for style in STYLES for fmt, ext in (("text", "txt"), ("html", "html"))},
    "export-filtered.bib": ["export", "-f", "biblatex", "--year", "2019-", "smith2020", "hand-hostile", "HAND-CJK",
                            "hand-editors-only", "hand-no-date", "Smith2020b"],
}


def _cli(args: list[str], store: Path) -> bytes:
    env = {**os.environ, "CITETOOL_STORE": str(store), "NO_COLOR": "1", "CITETOOL_CACHE_DIR": str(store.parent / "cache")}
    proc = subprocess.run([sys.executable, "-m", "citetool", *args], env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_the_store_file_is_what_json_writes():
    """The golden store's bytes are json.dumps's own (indent 2, sorted keys, UTF-8, final newline)."""
    raw = STORE.read_bytes()
    data = json.loads(raw.decode("utf-8"))
    assert raw == (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def test_loading_then_saving_leaves_every_byte(tmp_path):
    path = tmp_path / "store.json"
    path.write_bytes(STORE.read_bytes())
    store = Store(path)
    records = store.load()
    assert records == {r["id"]: r for r in json.loads(STORE.read_text(encoding="utf-8"))["references"]}
    store.save(records)
    assert path.read_bytes() == STORE.read_bytes()
    assert storage.dump_bytes(records) == STORE.read_bytes()
    assert dumps(records) == STORE.read_text(encoding="utf-8")


def test_an_unsorted_hand_edited_store_is_written_sorted_and_canonical(tmp_path):
    data = json.loads(STORE.read_text(encoding="utf-8"))
    data["references"].reverse()
    path = tmp_path / "store.json"
    path.write_text(json.dumps(data, ensure_ascii=True, indent=4), encoding="utf-8")
    store = Store(path)
    store.save(store.load())
    assert path.read_bytes() == STORE.read_bytes()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_read_commands_print_the_same_bytes(tmp_path, name):
    store = tmp_path / "store.json"
    store.write_bytes(STORE.read_bytes())
    assert _cli(COMMANDS[name], store) == (OUT / name).read_bytes(), (
        f"{name} changed; if intended, regenerate (see this module's docstring) and review the diff")


def test_styled_renders_in_threads_at_once_give_the_pinned_bytes():
    """citeproc-py's style answers are remembered while any render is under way
    (formats/citeproc_memo.py): renders of different styles and formats at once,
    one ending while the others go on, each still prints its pinned bytes."""
    import threading

    from citetool.formats import styles

    records = list(loads(STORE.read_bytes()).values())
    jobs = [(style, fmt) for style in ("apa", "modern-language-association", "ieee") for fmt in ("text", "html")]
    got: dict = {}

    def render(style: str, fmt: str) -> None:
        text = (styles.render_html if fmt == "html" else styles.render_text)(records[: 95 - 20 * (fmt == "html")], style)
        got[style, fmt] = text

    threads = [threading.Thread(target=render, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for style, fmt in jobs:
        alone = (styles.render_html if fmt == "html" else styles.render_text)(records[: 95 - 20 * (fmt == "html")], style)
        assert got[style, fmt] == alone
        if fmt == "text":
            assert got[style, fmt].encode("utf-8") == (OUT / f"export-{style}.txt").read_bytes()


def cycled_store(copies: int) -> bytes:
    """STORE with each reference ``copies`` times (the copies' keys, titles and
    DOIs given a suffix): the same authors and years again and again, which
    author-date styles tell apart with 2020a, 2020b... (the 475-reference corpus
    of issue #25 and of bench/bench_styles.py)."""
    data = json.loads(STORE.read_text(encoding="utf-8"))
    references = []
    for copy_number in range(copies):
        for ref in data["references"]:
            ref = json.loads(json.dumps(ref))
            if copy_number:
                ref["id"] = f"{ref['id']}-{copy_number}"
                for field in ("title", "DOI"):
                    if ref.get(field):
                        ref[field] = f"{ref[field]} ({copy_number})" if field == "title" else f"{ref[field]}.{copy_number}"
            references.append(ref)
    data["references"] = sorted(references, key=lambda ref: ref["id"])
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


# (output file, command line) run against cycled_store(5), gzipped.
CYCLED_COMMANDS = {f"export-475-{style}.txt.gz": ["export", "-f", "text", "--style", style]
                   for style in ("apa", "modern-language-association", "chicago-author-date")}


@pytest.mark.parametrize("name", sorted(CYCLED_COMMANDS))
def test_styled_exports_of_475_references_print_the_same_bytes(tmp_path, name):
    store = tmp_path / "store.json"
    store.write_bytes(cycled_store(5))
    assert _cli(CYCLED_COMMANDS[name], store) == gzip.decompress((OUT / name).read_bytes()), (
        f"{name} changed; if intended, regenerate (see this module's docstring) and review the diff")


def _imported_store(bib: Path, folder: Path) -> bytes:
    """The store an import of ``bib`` makes, its two timestamps made fixed."""
    store = folder / f"imported-{bib.name}.json"
    env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(folder / "cache")}
    if env.get("PYTHONPATH"):  # the child runs elsewhere: PYTHONPATH=. must still mean this checkout
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))
    # Run from the file's folder and name it alone: the import records the name as given,
    # and a golden must not hold the path of the checkout that wrote it.
    proc = subprocess.run([sys.executable, "-m", "citetool", "import", bib.name], env=env, cwd=bib.parent,
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return re.sub(rb'"(added|fetched)": "[0-9T:Z-]+"', rb'"\1": "WHEN"', store.read_bytes())


@pytest.mark.parametrize("name", ["export.bib", "export.biblatex.bib"])
def test_importing_the_exports_makes_the_same_store(tmp_path, name):
    assert _imported_store(OUT / name, tmp_path) == (OUT / f"import-of-{name}.json").read_bytes(), (
        f"importing {name} changed; if intended, regenerate (see this module's docstring) and review the diff")


# --- the parser reads what json reads, or refuses it as json would -------------------------

def _store_text(value: str) -> bytes:
    head = '{"format": "citetool-store", "version": 1, "references": [{"id": "k", "n": '
    return (head + value + "}]}").encode()


@pytest.mark.parametrize("number", [
    "9223372036854775807", "9223372036854775808", "18446744073709551615",  # 64-bit limits: exact
    "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",  # beyond: exact too
    "0.1", "-0.0", "1e-07", "1.7976931348623157e308", "5e-324", "1E5",
])
def test_numbers_are_read_exactly_as_json_reads_them(number):
    value = loads(_store_text(number))["k"]["n"]
    expected = json.loads(number)
    assert type(value) is type(expected) and value == expected and str(value) == str(expected)


def test_an_integer_beyond_64_bits_is_written_back_exactly(tmp_path):
    path = tmp_path / "store.json"
    path.write_bytes(_store_text("123456789012345678901234567890"))
    store = Store(path)
    store.save(store.load())
    assert b'"n": 123456789012345678901234567890' in path.read_bytes()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_what_is_not_a_json_number_is_refused_not_turned_into_null(number):
    with pytest.raises(StoreError, match=r"is not a JSON number; the file was left untouched"):
        loads(_store_text(number))


def test_a_lone_surrogate_orjson_refuses_is_read_as_the_replacement_character():
    # json reads "a\ud800b" as half a character, which no UTF-8 file can hold: U+FFFD
    records = loads(b'{"format": "citetool-store", "version": 1, "references": [{"id": "k", "t": "a\\ud800b"}]}')
    assert records["k"]["t"] == "a\ufffdb"
    paired = loads(b'{"format": "citetool-store", "version": 1, "references": [{"id": "k", "t": "\\ud83c\\udf89"}]}')
    assert paired["k"]["t"] == "\U0001f389"  # a pair is one character, read as it is


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbf" + _store_text("1"),  # a byte-order mark
    b'{"format": "citetool-store",\n "version": 1,\n "references": [}',
    _store_text("1") + b"x",
    _store_text("01"),
    b"",
])
def test_broken_json_gets_the_message_json_gives(raw):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(raw.decode("utf-8"))
    where = f"not valid JSON (line {expected.value.lineno}, column {expected.value.colno})"
    with pytest.raises(StoreError, match=re.escape(where)):
        loads(raw)


def test_a_file_that_is_not_utf8_says_so():
    with pytest.raises(StoreError, match="not UTF-8"):
        loads(_store_text('"cafe"').replace(b"cafe", b"caf\xe9"))


def regenerate() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.json"
        for name, args in COMMANDS.items():
            store.write_bytes(STORE.read_bytes())
            (OUT / name).write_bytes(_cli(args, store))
            print("wrote", OUT / name)
        for name, args in CYCLED_COMMANDS.items():
            store.write_bytes(cycled_store(5))
            (OUT / name).write_bytes(gzip.compress(_cli(args, store), mtime=0))
            print("wrote", OUT / name)
        for name in ("export.bib", "export.biblatex.bib"):
            (OUT / f"import-of-{name}.json").write_bytes(_imported_store(OUT / name, Path(folder)))
            print("wrote", OUT / f"import-of-{name}.json")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit(__doc__)
    regenerate()
