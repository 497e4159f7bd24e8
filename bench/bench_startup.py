"""Start-up: citetool --version and citetool export on a small store, against
`python -c "import typer"` (the floor for any Typer CLI), in one run, with
bytecode caching on, as for an installed citetool.

    python bench/bench_startup.py [RUNS]      # default 20; best of RUNS
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def best(cmd: list[str], env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    from _data import many_records

    from citetool.store import dumps

    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.json"
        store.write_text(dumps(many_records(5)), encoding="utf-8")
        # As an installed citetool runs: pip compiles bytecode at install time, so
        # allow .pyc files (this workspace sets PYTHONDONTWRITEBYTECODE) and warm up.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["CITETOOL_STORE"] = str(store)
        env["CITETOOL_CACHE_DIR"] = str(Path(folder) / "cache")  # never the user's own cache
        for warm in (["--version"], ["export"], ["list"]):
            subprocess.run([sys.executable, "-m", "citetool", *warm], env=env, capture_output=True)
        typer_floor = best([sys.executable, "-c", "import typer"], env, runs)
        version = best([sys.executable, "-m", "citetool", "--version"], env, runs)
        export = best([sys.executable, "-m", "citetool", "export"], env, runs)
        listing = best([sys.executable, "-m", "citetool", "list"], env, runs)
    print(f'python -c "import typer":  {typer_floor * 1000:6.1f} ms')
    print(f"citetool --version:        {version * 1000:6.1f} ms  ratio {version / typer_floor:4.2f} (goal < 1.5)")
    print(f"citetool export (5 refs):  {export * 1000:6.1f} ms  ratio {export / typer_floor:4.2f} (goal < 1.5)")
    print(f"citetool list (5 refs):    {listing * 1000:6.1f} ms  ratio {listing / typer_floor:4.2f}")


if __name__ == "__main__":
    main()
