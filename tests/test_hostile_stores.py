"""Co-authors' stores and hand edits (issue 23: B9, B12, B15, B19): a key
from outside never escapes its entry, an alias never shadows a key, a huge
integer is a clean error, a bad export-cache entry is a miss. Through the CLI."""

from __future__ import annotations

import json
import time

from test_gitmerge import ARTICLE, BOOK, merge, reference, write

from citetool.errors import ExitCode

EVIL_KEY = "evil,\n  note = {\\input{/etc/hostname}}"


def store_text(*records) -> str:
    return json.dumps({"format": "citetool-store", "version": 1, "references": list(records)})


def test_a_stored_key_that_breaks_out_of_its_entry_is_never_exported(run, store_path):
    store_path.write_text(store_text({"id": EVIL_KEY, "type": "book", "title": "Evil"},
                                     {"id": "good", "type": "book", "title": "Good"}), encoding="utf-8")
    for fmt in ("bibtex", "biblatex", "ris", "csl-json"):
        result = run("export", "-f", fmt)
        assert result.exit_code == ExitCode.STORE and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "\\input" not in result.stdout
        assert "cannot be cited: its key holds ','" in result.stderr and "doctor --repair" in result.stderr
    checked = run("doctor")
    assert checked.exit_code == ExitCode.STORE
    assert "reference #1 has no usable key ('evil,\\n" in checked.stdout
    assert all(not line.startswith("  note") for line in checked.stdout.splitlines())  # no forged line
    assert run("doctor", "--repair").exit_code == 0
    exported = run("export", "-f", "bibtex")
    assert exported.exit_code == 0 and "\\input" not in exported.stdout and "{good," in exported.stdout


def test_a_co_authors_store_with_a_hostile_key_or_alias_is_not_merged(run, tmp_path):
    good = reference("doe2020merging", ARTICLE)
    for hostile in (dict(reference(EVIL_KEY, BOOK)),
                    dict(reference("roe2019book", BOOK), citetool={"aliases": ["x}\n@misc{y"]})):
        ours = write(tmp_path / "ours.json", good)
        before = (tmp_path / "ours.json").read_bytes()
        theirs = tmp_path / "theirs.json"
        theirs.write_text(store_text(good, hostile), encoding="utf-8")
        result = run("merge-driver", write(tmp_path / "base.json", good), ours, str(theirs), "citetool.json")
        assert result.exit_code == ExitCode.STORE, result.stderr
        assert result.stderr.startswith("citetool: error: cannot merge theirs: cannot read store")
        assert result.stderr.count("\n") == 1
        assert (tmp_path / "ours.json").read_bytes() == before


def test_rekey_takes_every_key_bibtex_takes_and_refuses_the_others(run, store_path):
    store_path.write_text(store_text({"id": "a", "type": "book", "title": "A"}), encoding="utf-8")
    for bad, why in (("x,y", "holds ','"), ("x y", "holds white space (' ')"), ("x}", "holds '}'"),
                     ('x"', "holds '\"'"), ("x\x1b", "holds a control character ('\\x1b')"), ("", "is empty")):
        result = run("rekey", "a", bad)
        assert result.exit_code == ExitCode.USAGE
        assert result.stderr == f"citetool: error: not a usable citation key: {bad!r} {why}\n"
    assert run("rekey", "a", "O'Neil:2020/ключ+1.2-3").exit_code == 0
    assert "@book{O'Neil:2020/ключ+1.2-3," in run("export", "-f", "biblatex", "--unicode").stdout


def test_an_alias_never_shadows_another_references_key(run, tmp_path, store_path):
    """Ours has A as x and C as y; theirs has A as y: citing y must not silently change meaning."""
    ours = [reference("x", ARTICLE), reference("y", BOOK)]
    result, merged = merge(run, tmp_path, [], ours, [reference("y", ARTICLE)])
    assert result.exit_code == ExitCode.MERGE_CONFLICT, result.stderr
    assert ("conflict: y is the key of y (A book about merging) and was also a key of x (Merging stores without "
            "markers): y stays y's; citations of y meant for x must become x") in result.stderr
    for key, rec in merged.items():
        for alias in rec.get("citetool", {}).get("aliases", []):
            assert alias.lower() not in {k.lower() for k in merged}, (key, alias)
    store_path.write_text((tmp_path / "ours.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert run("show", "y").stdout.startswith("key: y\n")
    assert "Roe" in run("show", "y").stdout  # y is still C (the book)
    assert run("doctor").exit_code == 0


def test_doctor_drops_a_hand_made_alias_that_shadows_a_key(run, store_path):
    a = dict(reference("x", ARTICLE))
    a["citetool"] = dict(a["citetool"], aliases=["Y"])
    store_path.write_text(store_text(a, reference("y", BOOK)), encoding="utf-8")
    checked = run("doctor")
    assert checked.exit_code == ExitCode.STORE
    assert "x: its alias 'Y' is the key of y, so citing Y gives y" in checked.stdout
    assert run("doctor", "--repair").exit_code == 0
    assert run("doctor").exit_code == 0


def test_an_integer_of_over_4300_digits_is_a_clean_error(run, tmp_path, store_path):
    """Issue 23, B15: Python refuses to read such an integer; that was an internal error (exit 1)."""
    huge = "9" * 5000
    store_path.write_text(store_text({"id": "a", "type": "book", "title": "A"})[:-2]
                          + f', {{"id": "b", "type": "book", "title": "B", "volume": {huge}}}]}}', encoding="utf-8")
    listed = run("list")
    assert listed.exit_code == ExitCode.STORE
    assert listed.stderr == (f"citetool: error: cannot read store {store_path}: it holds a number of more than "
                             "4,300 digits, which no field can hold; the file was left untouched\n")
    ours = write(tmp_path / "ours.json", reference("doe2020merging", ARTICLE))
    merged = run("merge-driver", ours, ours, str(store_path), "citetool.json")
    assert merged.exit_code == ExitCode.STORE and merged.stderr.startswith("citetool: error: cannot merge theirs:")
    assert "more than 4,300 digits" in merged.stderr
    doctor = run("doctor")
    assert doctor.exit_code == ExitCode.STORE and "Traceback" not in doctor.stdout + doctor.stderr
    items = tmp_path / "items.json"
    items.write_text(f'[{{"type": "book", "title": "B", "issued": {{"date-parts": [[{huge}]]}}}}]', encoding="utf-8")
    imported = run("-s", str(tmp_path / "other.json"), "import", str(items))
    assert imported.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert imported.stderr == f"citetool: {items}: cannot be read: it holds a number of more than 4,300 digits\n"


def test_ris_records_whose_generated_keys_collide_import_in_linear_time(run, tmp_path, store_path):
    """Issue 23, B6: 8,000 records with one generated key took 30 s (each new key tried every suffix)."""
    ris = tmp_path / "untitled.ris"
    ris.write_text("\n".join(f"TY  - GEN\nTI  - Untitled\nN1  - record {i}\nER  - \n" for i in range(8000)),
                   encoding="utf-8")
    started = time.monotonic()
    result = run("import", str(ris))
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    keys = result.stdout.split()
    assert len(keys) == len(set(k.lower() for k in keys)) == 8000
    assert keys[1:3] == [keys[0] + "a", keys[0] + "b"] and keys[-1] == keys[0] + "kuq"  # every suffix in turn
    assert seconds < 20, f"{seconds:.1f} s"
