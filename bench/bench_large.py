"""A 10,000-reference store: export in every format, list, one more add, and
import, against bibtexparser writing and parsing the same entries, in one run.

    python bench/bench_large.py [N]      # default 10000

citetool is timed as the real command (a subprocess: start-up, read the store,
work, write); bibtexparser in-process, which flatters it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _data import many_records  # noqa: E402
from fake_crossref import FakeCrossref, bench_doi  # noqa: E402


def timed(func, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    import bibtexparser

    from citetool.formats.bibtex import render_bibtex
    from citetool.store import dumps

    records = many_records(n)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.json"
        store.write_text(dumps(records), encoding="utf-8")
        env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": f"{folder}/cache"}

        def cli(*args, **kw):
            proc = subprocess.run([sys.executable, "-m", "citetool", *args], capture_output=True, text=True,
                                  env={**env, **kw.pop("env", {})}, **kw)
            assert proc.returncode == 0, proc.stderr[-500:]
            return proc

        print(f"{n} references ({store.stat().st_size / 1e6:.1f} MB store)")
        bib_text = render_bibtex(list(records.values()))
        library = bibtexparser.parse_string(bib_text)
        assert len(library.entries) == n
        bp_write = timed(lambda: bibtexparser.write_string(library))
        bp_parse = timed(lambda: bibtexparser.parse_string(bib_text))
        ours = {}
        for fmt in ("bibtex", "biblatex", "ris", "csl-json", "html", "text"):
            ours[fmt] = timed(lambda fmt=fmt: cli("export", "-f", fmt, "-o", f"{folder}/out"))
        listing = timed(lambda: cli("list"))
        with FakeCrossref(latency=0.0) as fake:
            counter = iter(range(10**6))
            add_one = timed(lambda: cli("add", bench_doi(10**6 + next(counter)),
                                        env={"CITETOOL_CROSSREF_URL": fake.url}))
        bib_file = Path(folder) / "all.bib"
        bib_file.write_text(bib_text, encoding="utf-8")

        def fresh_import():
            env_import = {"CITETOOL_STORE": f"{folder}/imported-{time.perf_counter_ns()}.json"}
            cli("import", str(bib_file), env=env_import)

        imported = timed(fresh_import, repeat=1)

    print(f"bibtexparser write_string (in-process): {bp_write:7.2f} s")
    for fmt, t in ours.items():
        extra = f"   ratio to bibtexparser's writer: {t / bp_write:5.2f}" if fmt == "bibtex" else ""
        print(f"citetool export -f {fmt:<9}            {t:7.2f} s{extra}")
    print(f"citetool list (piped)                  {listing:7.2f} s")
    print(f"citetool add <1 DOI> to the store      {add_one:7.2f} s")
    print(f"bibtexparser parse_string (in-process): {bp_parse:7.2f} s")
    print(f"citetool import (all.bib, new store)   {imported:7.2f} s   ratio to bibtexparser's parse: {imported / bp_parse:5.2f}")


if __name__ == "__main__":
    main()
