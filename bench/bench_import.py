"""Importing a 5,000-entry .bib: citetool import against bibtexparser's own parse.

    python bench/bench_import.py [N]

Prints wall times (best of 3) and the ratio; both run in this process, on the
same file, so the ratio is what to compare across machines.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def best_of(n, func):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    import bibtexparser
    from _data import many_records

    from citetool.formats.bibtex import render_bibtex
    from citetool.library import Library

    bib = render_bibtex(list(many_records(n).values()))
    parse = best_of(3, lambda: bibtexparser.parse_string(bib))

    def citetool_import():
        with tempfile.TemporaryDirectory() as folder:
            lib = Library(Path(folder) / "store.json")
            outcomes, problems = lib.import_files([("bench.bib", bib)])
            assert len(outcomes) == n and not problems, problems[:3]

    ours = best_of(3, citetool_import)
    print(f"entries: {n} ({len(bib) / 1e6:.1f} MB of BibTeX)")
    print(f"bibtexparser.parse_string:        {parse:7.2f} s")
    print(f"citetool import (parse+merge+save): {ours:7.2f} s")
    print(f"ratio citetool/bibtexparser:      {ours / parse:7.2f}x")


if __name__ == "__main__":
    main()
