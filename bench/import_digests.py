"""Digests of imports of every .bib under a folder (store bytes, outcomes, problems), the clock fixed:
run on two commits and diff the output to show an import change gives the same results.

    PYTHONPATH=$PWD python bench/import_digests.py tests/fixtures [existing-store.json]

Scenarios: each file alone into a new store, all files at once, all files twice,
and all files into a copy of ``existing-store.json`` (a path under the folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import citetool.merge

citetool.merge.now_iso = lambda: "2026-01-01T00:00:00Z"

from citetool.library import Library  # noqa: E402 (after the clock is fixed)


def run(folder: Path, files: list[str], store_from: str | None = None) -> list:
    with tempfile.TemporaryDirectory() as work:
        store = Path(work) / "s.json"
        if store_from:
            shutil.copy(folder / store_from, store)
        os.environ["CITETOOL_CACHE_DIR"] = work + "/c"
        texts = [(name, (folder / name).read_text(encoding="utf-8-sig")) for name in files]
        outcomes, problems = Library(store).import_files(texts)
        data = store.read_bytes() if store.exists() else b""
        told = json.dumps([[o.as_dict() for o in outcomes], problems], sort_keys=True).encode()
        return [hashlib.sha256(data).hexdigest(), hashlib.sha256(told).hexdigest(), len(outcomes), len(problems)]


def main() -> None:
    folder = Path(sys.argv[1])
    bibs = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.bib"))
    out = {f"alone {b}": run(folder, [b]) for b in bibs}
    out["all together"] = run(folder, bibs)
    out["all twice"] = run(folder, bibs + bibs)
    if len(sys.argv) > 2:
        out["all into the store"] = run(folder, bibs, sys.argv[2])
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
