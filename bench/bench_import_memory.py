"""Peak memory of `citetool import` of an N-entry .bib into a new store.

    python bench/bench_import_memory.py [N]      # default 100000 (goal, issue #25: at most 400 MB)
    python bench/bench_import_memory.py --hostile [MB]   # default 50: made-up files of that size

The .bib is citetool's BibTeX export of N bench records (recorded Crossref
works cycled, each with its own DOI, title and key: bench/_data.py). The peak
is the resident set of the import process (``ru_maxrss``), next to that of a
fresh ``python`` that calls ``Library.import_files`` on the file's text (the
Python API, without the command line), and of one that reads the store the
import wrote with orjson (the parsed references themselves, which the import
no longer holds all at once).

``--hostile`` imports two made-up files instead (hand-made here, not real
libraries): one entry whose abstract is MB megabytes of words, and a file of
MB megabytes of the smallest entries (``@misc{k1,}``, 16 bytes each), and
prints each import's peak and time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Runs a command and prints its peak resident set in kB (Linux: ru_maxrss is in kB).
PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if code == 0 else -code)")
FLOOR = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"
API = ("import sys; from citetool.library import Library; "
       "Library(sys.argv[2]).import_files([(sys.argv[1], open(sys.argv[1], encoding='utf-8-sig').read())])")


def peak_mb(command: list[str], env: dict) -> float:
    kilobytes = int(subprocess.run([sys.executable, "-c", PEAK, *command], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    if kilobytes < 0:
        sys.exit(f"{command} failed (exit {-kilobytes})")
    return kilobytes / 1024


def hostile(megabytes: int) -> None:
    import time

    words = "lorem ipsum dolor sit amet "
    files = {
        "one huge entry": "@article{huge,\n  title = {A huge entry},\n  author = {Doe, Jane},\n  year = {2020},\n"
                          "  abstract = {" + words * (megabytes * 1_000_000 // len(words)) + "}\n}\n",
        "the smallest entries": "".join(f"@misc{{k{i},}}\n" for i in range(megabytes * 1_000_000 // 16)),
    }
    for what, text in files.items():
        with tempfile.TemporaryDirectory() as folder:
            bib_file = Path(folder) / "hostile.bib"
            bib_file.write_text(text, encoding="utf-8")
            env = {**os.environ, "CITETOOL_CACHE_DIR": f"{folder}/cache"}
            start = time.perf_counter()
            peak = peak_mb([sys.executable, "-m", "citetool", "--store", f"{folder}/store.json", "import",
                            str(bib_file)], env)
            print(f"{what} ({bib_file.stat().st_size / 1e6:.0f} MB, {text.count('@'):,} entries): citetool import "
                  f"peak {peak:.0f} MB in {time.perf_counter() - start:.1f} s")


def main() -> None:
    if sys.argv[1:2] == ["--hostile"]:
        hostile(int(sys.argv[2]) if len(sys.argv) > 2 else 50)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    from _data import many_records

    from citetool.formats.bibtex import render_bibtex

    bib = render_bibtex(list(many_records(n).values()))
    with tempfile.TemporaryDirectory() as folder:
        bib_file = Path(folder) / "bench.bib"
        bib_file.write_text(bib, encoding="utf-8")
        del bib
        store = Path(folder) / "store.json"
        env = {**os.environ, "CITETOOL_CACHE_DIR": f"{folder}/cache"}
        ours = peak_mb([sys.executable, "-m", "citetool", "--store", str(store), "import", str(bib_file)], env)
        api = peak_mb([sys.executable, "-c", API, str(bib_file), str(Path(folder) / "api.json")], env)
        floor = peak_mb([sys.executable, "-c", FLOOR, str(store)], env)
        print(f"{n:,} entries ({bib_file.stat().st_size / 1e6:.0f} MB of BibTeX, a {store.stat().st_size / 1e6:.0f} MB "
              f"store): citetool import peak {ours:.0f} MB (goal: at most 400); Library.import_files {api:.0f} MB; "
              f"orjson reading the store {floor:.0f} MB")


if __name__ == "__main__":
    main()
