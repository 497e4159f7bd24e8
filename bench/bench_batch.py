"""1,000 DOIs against a rate-limited fake Crossref: citetool add against a
naive habanero loop (one DOI at a time) over the same server, in one run.

    python bench/bench_batch.py [N] [LATENCY]      # defaults: 1000 0.1

The fake server enforces the polite pool's limits (10 single and 3 list
requests a second, 3 in flight) and answers 429 beyond them.
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

from fake_crossref import FakeCrossref, bench_doi  # noqa: E402


def naive_habanero(url: str, dois: list[str]) -> tuple[float, int]:
    """What the peers do: one habanero request per DOI, in sequence."""
    from habanero import Crossref

    cr = Crossref(base_url=url, mailto="bench@example.org")
    start = time.perf_counter()
    got = 0
    for doi in dois:
        try:
            cr.works(ids=doi)
            got += 1
        except Exception:
            pass
    return time.perf_counter() - start, got


def citetool_add(url: str, dois: list[str]) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CITETOOL_CROSSREF_URL": url, "CITETOOL_STORE": f"{folder}/store.json",
               "CITETOOL_CACHE_DIR": f"{folder}/cache", "CITETOOL_MAILTO": "bench@example.org"}
        for name in ("CITETOOL_CROSSREF_RATE", "CITETOOL_CROSSREF_LIST_RATE", "CITETOOL_CROSSREF_CONCURRENCY"):
            env.pop(name, None)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "citetool", "add", "-"], input="\n".join(dois),
                              capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
        return elapsed, len(proc.stdout.split()), proc.stderr.strip().splitlines()[-1] if proc.stderr else ""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    dois = [bench_doi(i) for i in range(n)]
    print(f"{n} DOIs, {latency * 1000:.0f} ms latency, server limits: 10 single + 3 list requests/s, 3 in flight")

    with FakeCrossref(latency=latency) as fake:
        ours, stored, summary = citetool_add(fake.url, dois)
        ours_stats = dict(fake.stats)
    with FakeCrossref(latency=latency) as fake:
        naive, got = naive_habanero(fake.url, dois)
        naive_stats = dict(fake.stats)

    print(f"citetool add:          {ours:8.2f} s  requests: {ours_stats['single']} single + "
          f"{ours_stats['list']} list, 429s: {ours_stats['429']}, stored: {stored}/{n}  ({summary})")
    print(f"naive habanero loop:   {naive:8.2f} s  requests: {naive_stats['single']}, 429s: {naive_stats['429']}, "
          f"got: {got}/{n}")
    print(f"citetool / naive:      {ours / naive:8.3f}  (goal: under {1 / 20:.3f})")


if __name__ == "__main__":
    main()
