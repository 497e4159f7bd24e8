"""The per-entry cost of the BibTeX and biblatex renders, in one process (no
fork, no store read, no file written): what each worker of a first export, or
of an export with the cache off, spends on one entry.

    python bench/bench_render_entries.py [N] [ROUNDS]    # defaults: 10000 5

Two sets of references, each loaded as the export loads them
(``Store(path).load()``): N realistic references as bench_large.py builds them
(the recorded Crossref fixtures, cycled), and the 6,852 genuine works of
tests/fixtures/crossref_longtail (non-ASCII, odd material), through citetool's
Crossref mapping. For each dialect it prints the microseconds an entry of
``[render_entry(r, biblatex, unicode) for r in records]``: the first pass (in
the first line of each set, every remembered word, name, line and character
still to learn, as in a worker of a first export; later lines share the words
and characters learnt) and the best of ROUNDS passes after it. The machine is shared and noisy: compare the best
of several runs; ``valgrind --tool=callgrind`` counts are steadier still.
The garbage collector is off, as in the CLI.
"""

from __future__ import annotations

import gc
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _data import many_records  # noqa: E402

from citetool.formats.bibtex import render_entry  # noqa: E402
from citetool.sources.crossref_mapping import work_to_record  # noqa: E402
from citetool.store import Store, dump_bytes  # noqa: E402

LONGTAIL = HERE.parent / "tests" / "fixtures" / "crossref_longtail"
DIALECTS = (("bibtex", False, False), ("biblatex", False, True), ("bibtex --unicode", True, False),
            ("biblatex --unicode", True, True))


def longtail_records() -> dict[str, dict]:
    records = {}
    for path in sorted(LONGTAIL.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                rec = work_to_record(json.loads(line)["work"])
                rec["id"] = f"longtail{len(records):05d}"
                rec["citetool"] = {"fields": {k: "crossref" for k in rec if k != "id"}}
                records[rec["id"]] = rec
    return records


def loaded(records: dict[str, dict], folder: Path, name: str) -> list[dict]:
    path = folder / name
    path.write_bytes(dump_bytes(records))
    return list(Store(path).load().values())


def per_entry(records: list[dict], unicode: bool, biblatex: bool) -> float:
    """Microseconds an entry, one pass."""
    start = time.perf_counter()
    [render_entry(rec, biblatex, unicode) for rec in records]
    return (time.perf_counter() - start) / len(records) * 1e6


def main() -> None:
    gc.disable()  # as the CLI does (citetool.cli.main): the collector would walk the loaded records
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        sets = {f"bench {count}": loaded(many_records(count), Path(tmp), "bench.json"),
                "crossref_longtail": loaded(longtail_records(), Path(tmp), "longtail.json")}
    print(f"{'references':<26} {'dialect':<20} {'first pass':>12} {'best of ' + str(rounds):>12}   (µs an entry)")
    for label, records in sets.items():
        for dialect, unicode, biblatex in DIALECTS:
            first = per_entry(records, unicode, biblatex)
            best = min(per_entry(records, unicode, biblatex) for _ in range(rounds))
            print(f"{label + ' (' + str(len(records)) + ')':<26} {dialect:<20} {first:>12.1f} {best:>12.1f}")


if __name__ == "__main__":
    main()
