"""Importing a 5,000-entry .bib: citetool import against bibtexparser's own parse.

    python bench/bench_import.py [N] [--unique]      # default 5000

Two comparisons on the same file, best of 5 interleaved rounds, each printed
with its floor and ratio (of wall and of CPU times) (goal, issue #14: import <= 1.5 x the parse):

* in this process: ``Library.import_files`` (parse, LaTeX decoding, merge,
  key making, the atomic save of a new store) against
  ``bibtexparser.parse_string`` alone;
* as commands: ``citetool import FILE`` into a new store against a fresh
  ``python`` that imports bibtexparser and parses the file.

The bench records cycle 88 recorded Crossref works, so their authors, journals
and publishers recur far more than in a real library; ``--unique`` makes every
person's family name, journal and publisher unique to its entry, to show what
the reader's per-file memory of decoded values is worth.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PARSE_FLOOR = "import bibtexparser, sys; bibtexparser.parse_string(open(sys.argv[1], encoding='utf-8').read())"


ROUNDS = 5


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _unique(records: list[dict]) -> list[dict]:
    """``records`` with every family name, journal and publisher made their entry's own."""
    for i, rec in enumerate(records):
        tag = "".join("abcdefghijklmnopqrstuvwxyz"[int(d)] for d in str(i))  # a name has no digits
        for role in ("author", "editor"):
            for person in rec.get(role, []):
                for part in ("family", "literal"):
                    if part in person:
                        person[part] += tag
        for field in ("container-title", "publisher"):
            if isinstance(rec.get(field), str):
                rec[field] += f" {tag}"
    return records


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--unique"]
    unique = "--unique" in sys.argv[1:]
    n = int(args[0]) if args else 5000
    import bibtexparser
    from _data import many_records, wall

    from citetool.formats.bibtex import render_bibtex
    from citetool.library import Library

    records = list(many_records(n).values())
    bib = render_bibtex(_unique(records) if unique else records)
    with tempfile.TemporaryDirectory() as folder:
        bib_file = Path(folder) / "bench.bib"
        bib_file.write_text(bib, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["CITETOOL_CACHE_DIR"] = f"{folder}/cache"
        subprocess.run([sys.executable, "-m", "citetool", "--version"], env=env, capture_output=True, check=True)
        counter = iter(range(10**6))

        def library_import():
            lib = Library(Path(folder) / f"lib-{next(counter)}.json")
            outcomes, problems = lib.import_files([("bench.bib", bib)])
            assert len(outcomes) == n and not problems, problems[:3]

        def command_import():
            store = Path(folder) / f"cli-{next(counter)}.json"
            subprocess.run([sys.executable, "-m", "citetool", "--store", str(store), "import", str(bib_file)],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def command_parse():
            subprocess.run([sys.executable, "-c", PARSE_FLOOR, str(bib_file)], env=env, check=True)

        rounds = {
            "bibtexparser.parse_string": lambda: bibtexparser.parse_string(bib),
            "Library.import_files": library_import,
            "python: bibtexparser parse": command_parse,
            "citetool import": command_import,
        }
        best = {label: (float("inf"), float("inf")) for label in rounds}
        for _ in range(ROUNDS):
            for label, func in rounds.items():
                cpu = _cpu()
                seconds = wall(func)
                cpu = _cpu() - cpu
                best[label] = (min(best[label][0], seconds), min(best[label][1], cpu))
    print(f"{n:,} entries, {len(bib) / 1e6:.1f} MB of BibTeX, best of {ROUNDS} rounds"
          + (" (every family name, journal and publisher unique)" if unique else ""))
    print("  (ratio: of wall times; cpu ratio: of CPU times, this process's or the command's, steadier on a busy machine)")
    print(f"  {'':30}{'seconds':>9}{'cpu s':>8}{'ratio':>8}{'cpu ratio':>10}   goal 1.5")
    for floor, ours in (("bibtexparser.parse_string", "Library.import_files"),
                        ("python: bibtexparser parse", "citetool import")):
        print(f"  {floor:30}{best[floor][0]:9.2f}{best[floor][1]:8.2f}")
        print(f"  {ours:30}{best[ours][0]:9.2f}{best[ours][1]:8.2f}{best[ours][0] / best[floor][0]:8.2f}"
              f"{best[ours][1] / best[floor][1]:10.2f}")


if __name__ == "__main__":
    main()
