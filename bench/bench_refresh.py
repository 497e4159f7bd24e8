"""`refresh` of N references against the `add` that stored them, over the
local fake Crossref (bench/fake_crossref.py), which enforces the polite pool's
limits (10 single and 3 list requests a second, 3 in flight; 429 beyond).

    python bench/bench_refresh.py [N] [LATENCY] [ROUNDS]     # defaults: 475 0.1 3

Each round adds the N DOIs to an empty store (a fresh cache), then refreshes
them all; the figure is the median over the rounds of refresh / add (goal: at
most 2), with the requests each made and the 429s the server answered.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_crossref import FakeCrossref, bench_doi  # noqa: E402

# Seconds between two commands: the server counts requests per second across
# processes, and each process's limiter knows only its own.
QUIET = 1.1


def _run(args: list[str], env: dict, stdin: str = "") -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "citetool", *args], input=stdin, capture_output=True, text=True,
                          env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"citetool {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return elapsed, proc


def one_round(fake: FakeCrossref, dois: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CITETOOL_CROSSREF_URL": fake.url, "CITETOOL_STORE": f"{folder}/store.json",
               "CITETOOL_CACHE_DIR": f"{folder}/cache", "CITETOOL_MAILTO": "bench@example.org"}
        for name in ("CITETOOL_CROSSREF_RATE", "CITETOOL_CROSSREF_LIST_RATE", "CITETOOL_CROSSREF_CONCURRENCY"):
            env.pop(name, None)
        time.sleep(QUIET)
        before = dict(fake.stats)
        add, added = _run(["add", "-"], env, "\n".join(dois))
        time.sleep(QUIET)
        middle = dict(fake.stats)
        refresh, refreshed = _run(["refresh"], env)
        after = dict(fake.stats)
    stored = len(added.stdout.split())
    if stored != len(dois) or len(refreshed.stdout.split()) != len(dois):
        sys.exit(f"not every DOI was stored and refreshed: {added.stderr[-300:]} {refreshed.stderr[-300:]}")

    def requests(start: dict, end: dict) -> str:
        return (f"{end['single'] - start['single']} single + {end['list'] - start['list']} list, "
                f"{end['429'] - start['429']} × 429")

    return {"add": add, "refresh": refresh, "add requests": requests(before, middle),
            "refresh requests": requests(middle, after), "summary": refreshed.stderr.strip().splitlines()[-1]}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 475
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    dois = [bench_doi(i) for i in range(n)]
    print(f"{n} DOIs, {latency * 1000:.0f} ms latency, server limits: 10 single + 3 list requests/s, 3 in flight; "
          f"{rounds} rounds of add then refresh")
    results = []
    with FakeCrossref(latency=latency) as fake:
        for number in range(rounds):
            result = one_round(fake, dois)
            results.append(result)
            print(f"round {number + 1}: add {result['add']:6.2f} s ({result['add requests']}), "
                  f"refresh {result['refresh']:6.2f} s ({result['refresh requests']}; {result['summary']}), "
                  f"ratio {result['refresh'] / result['add']:.2f}")
    ratio = statistics.median(r["refresh"] / r["add"] for r in results)
    print(f"refresh / add, median of {rounds} rounds: {ratio:.2f}  (goal: at most 2)")


if __name__ == "__main__":
    main()
