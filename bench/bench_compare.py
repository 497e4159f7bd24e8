"""Side by side with what users would otherwise run, on the same N records.

    python bench/bench_compare.py [N]      # default 10000

* ``pandoc -f csljson -t biblatex``, fed citetool's own CSL-JSON export of
  the store, against ``citetool export -f biblatex`` (both whole processes);
* bibtexparser's writer (``bibtexparser.write_string``) on a library holding
  the same entries, timed in this process (which flatters it: no start-up, no
  reading), as is and with the in-place stack bibtexparser advises for large
  libraries, against ``citetool export -f bibtex`` (the whole command).

citetool runs with its export cache off (``CITETOOL_EXPORT_CACHE=off``): every
entry rendered, as the others do; with the cache, a repeated export costs about
half (see bench_large.py).

Best of 3 interleaved rounds; read the ratios (this machine is shared and noisy).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import many_records, wall  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    import bibtexparser

    from citetool.formats.bibtex import render_bibtex
    from citetool.store import dump_bytes

    records = many_records(n)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.json"
        store.write_bytes(dump_bytes(records))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(CITETOOL_STORE=str(store), CITETOOL_CACHE_DIR=f"{folder}/cache", CITETOOL_EXPORT_CACHE="off")
        citetool = [sys.executable, "-m", "citetool"]

        def cli(*args):
            subprocess.run(citetool + list(args), env=env, check=True, stdout=subprocess.DEVNULL)

        cli("export", "-f", "csl-json", "-o", f"{folder}/all.json")
        library = bibtexparser.parse_string(render_bibtex(list(records.values())))
        assert len(library.entries) == n, len(library.entries)
        pandoc = shutil.which("pandoc")
        pandoc_version = subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout.split("\n")[0] if pandoc else None
        in_place = bibtexparser.middlewares.default_unparse_stack(allow_inplace_modification=True)
        logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # its advice ("Writing a library..."), taken above
        best = {}
        for _ in range(3):
            rounds = {
                "citetool export -f biblatex": lambda: cli("export", "-f", "biblatex", "-o", f"{folder}/out.bib"),
                "citetool export -f bibtex": lambda: cli("export", "-f", "bibtex", "-o", f"{folder}/out.bib"),
                "bibtexparser.write_string": lambda: bibtexparser.write_string(library),
                # what bibtexparser advises for large libraries (no copy of the blocks)
                "bibtexparser in place": lambda: bibtexparser.write_string(library, unparse_stack=in_place),
            }
            if pandoc:
                rounds["pandoc -f csljson -t biblatex"] = lambda: subprocess.run(
                    [pandoc, "-f", "csljson", "-t", "biblatex", "-o", f"{folder}/pandoc.bib", f"{folder}/all.json"],
                    check=True)
            for label, func in rounds.items():
                best[label] = min(best.get(label, float("inf")), wall(func))
    print(f"{n:,} references, best of 3 rounds")
    if pandoc:
        ratio = best["citetool export -f biblatex"] / best["pandoc -f csljson -t biblatex"]
        print(f"  pandoc -f csljson -t biblatex   {best['pandoc -f csljson -t biblatex']:7.2f} s   ({pandoc_version})")
        print(f"  citetool export -f biblatex     {best['citetool export -f biblatex']:7.2f} s   ratio to pandoc {ratio:5.2f}")
    else:
        print("  pandoc not installed: skipped")
    ratio = best["citetool export -f bibtex"] / best["bibtexparser.write_string"]
    print(f"  bibtexparser.write_string       {best['bibtexparser.write_string']:7.2f} s   (in-process, {bibtexparser.__version__})")
    print(f"  bibtexparser, in-place stack    {best['bibtexparser in place']:7.2f} s")
    print(f"  citetool export -f bibtex       {best['citetool export -f bibtex']:7.2f} s   ratio to bibtexparser {ratio:5.2f}")


if __name__ == "__main__":
    main()
