"""A large store: every command against the floor it cannot beat, in one run.

    python bench/bench_large.py [N ...]      # default 10000; e.g. 1000 10000 100000

For each size N it builds a store of N realistic references (the recorded
Crossref fixtures, cycled: abstracts, many authors, non-ASCII) and times the
real commands (``python -m citetool``, a fresh process each: start-up, read,
work, write) against floors measured in the same run, each command just after
its own floor, so that a noisy, shared machine slows both alike:

* ``T``: a fresh Python process that reads the store and parses it with orjson
  (nothing can show or list a JSON store faster);
* ``R+W``: a fresh process that does that, then writes the same references
  back atomically (orjson, temporary file, fsync, rename, fsync of the folder):
  the least any command that changes the store must do.

Seconds are the best of the rounds; a ratio is the median, over the rounds, of
the command's time over the time of the floor run just before it (a machine
whose speed changes from minute to minute gave best-of ratios 30 % apart from
one run to the next). The ratio is what to compare across machines. Goals (issue #14), for 10,000 references and more:
show <= 1.3 T, list <= 1.5 T, export (bibtex, biblatex, ris) <= 3 T,
add <= 1.5 R+W, memory <= 1 GB.
With several sizes, a last table gives the cost per 1,000 references, which
stays flat when the cost is linear.
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

from _data import many_records  # noqa: E402
from fake_crossref import FakeCrossref, bench_doi  # noqa: E402

READ_FLOOR = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"
READ_WRITE_FLOOR = """
import os, sys, tempfile, orjson
path = sys.argv[1]
data = orjson.loads(open(path, 'rb').read())
out = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
folder = os.path.dirname(path)
fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
with os.fdopen(fd, 'wb') as fh:
    fh.write(out)
    fh.flush()
    os.fsync(fh.fileno())
os.replace(tmp, path)
dir_fd = os.open(folder, os.O_RDONLY)
os.fsync(dir_fd)
os.close(dir_fd)
"""

# (label, floor, goal ratio or None). An export is timed three ways: as it runs
# again (entries from the export cache, what a Makefile does before each build),
# first (the cache empty: every entry rendered, then remembered) and with the
# cache off (CITETOOL_EXPORT_CACHE=off: every entry rendered, nothing written).
GOALS = {
    "show KEY": ("T", 1.3),
    "list": ("T", 1.5),
    "export -f bibtex": ("T", 3.0),
    "  first (cache empty)": ("T", 3.0),
    "  cache off": ("T", 3.0),
    "export -f biblatex": ("T", 3.0),
    "  first (cache empty) ": ("T", 3.0),
    "  cache off ": ("T", 3.0),
    "export -f ris": ("T", 3.0),
    "  cache off  ": ("T", 3.0),
    "export -f csl-json": ("T", None),
    "export -f html": ("T", None),
    "export -f text": ("T", None),
    "add <1 DOI>": ("R+W", 1.5),
}
FIRST = {"  first (cache empty)": "bibtex", "  first (cache empty) ": "biblatex"}
OFF = {"  cache off": "bibtex", "  cache off ": "biblatex", "  cache off  ": "ris"}


def run(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident memory (MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {stderr.decode()[-800:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def keep_best(best: dict, label: str, measured: tuple[float, float, float]) -> None:
    old = best.get(label, (float("inf"), float("inf"), 0.0))
    best[label] = (min(old[0], measured[0]), min(old[1], measured[1]), max(old[2], measured[2]))


def bench_size(n: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    from citetool.store import dump_bytes

    records = many_records(n)
    key = sorted(records)[n // 2]
    with tempfile.TemporaryDirectory() as folder, FakeCrossref(latency=0.0) as fake:
        store = Path(folder) / "store.json"
        store.write_bytes(dump_bytes(records))
        del records
        scratch = Path(folder) / "scratch.json"
        size_mb = store.stat().st_size / 1e6
        # As an installed citetool runs: bytecode compiled once (this workspace may set
        # PYTHONDONTWRITEBYTECODE), no user store, cache in the scratch folder.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(CITETOOL_STORE=str(store), CITETOOL_CACHE_DIR=f"{folder}/cache", CITETOOL_CROSSREF_URL=fake.url)
        citetool = [sys.executable, "-m", "citetool"]
        commands = {
            "show KEY": citetool + ["show", key],
            "list": citetool + ["list"],
            **{f"export -f {fmt}": citetool + ["export", "-f", fmt, "-o", f"{folder}/out"]
               for fmt in ("bibtex", "biblatex", "ris", "csl-json", "html", "text")},
        }
        subprocess.run(citetool + ["--version"], env=env, capture_output=True, check=True)  # compile bytecode
        off_env = {**env, "CITETOOL_EXPORT_CACHE": "off"}
        best: dict[str, tuple[float, float, float]] = {}
        pairs: dict[str, list[tuple[float, float]]] = {label: [] for label in GOALS}

        def measure(label: str, cmd: list[str], cmd_env: dict) -> None:
            """The command, just after its floor: a noisy machine slows both alike."""
            floor_label = GOALS[label][0]
            if floor_label == "R+W":
                scratch.write_bytes(store.read_bytes())
            floor = run(floors[floor_label], env)
            keep_best(best, floor_label, floor)
            measured = run(cmd, cmd_env)
            keep_best(best, label, measured)
            pairs[label].append((measured[0] / floor[0], measured[1] / floor[1]))

        floors = {"T": [sys.executable, "-c", READ_FLOOR, str(store)],
                  "R+W": [sys.executable, "-c", READ_WRITE_FLOOR, str(scratch)]}
        for round_number in range(rounds):
            for label, cmd in commands.items():
                measure(label, cmd, env)
            for label, fmt in FIRST.items():
                Path(f"{folder}/cache/exports/{fmt}.json").unlink(missing_ok=True)  # (the run remembers it again)
                measure(label, citetool + ["export", "-f", fmt, "-o", f"{folder}/out"], env)
            for label, fmt in OFF.items():
                measure(label, citetool + ["export", "-f", fmt, "-o", f"{folder}/out"], off_env)
            # add: one new DOI each round (the fake Crossref answers at once)
            measure("add <1 DOI>", citetool + ["add", bench_doi(10**7 + round_number)], env)
    print(f"\n{n:,} references, store {size_mb:.1f} MB, {rounds} rounds; seconds: the best of them")
    print("  (ratio: the median over the rounds of the command's wall time over its floor's, measured")
    print("   just before it; cpu ratio: the same of CPU times)")
    print(f"  {'':22}{'seconds':>9}{'cpu s':>8}{'floor':>7}{'ratio':>7}{'cpu ratio':>10}{'goal':>6}{'peak MB':>9}")
    for label in ("T", "R+W"):
        seconds, cpu, peak = best[label]
        print(f"  {'floor ' + label:22}{seconds:9.3f}{cpu:8.3f}{'':7}{'':7}{'':10}{'':6}{peak:9.0f}")
    for label, (floor, goal) in GOALS.items():
        seconds, cpu, peak = best[label]
        ratio = statistics.median(wall for wall, _ in pairs[label])
        cpu_ratio = statistics.median(cpu for _, cpu in pairs[label])
        # The goals are for large stores; below 10,000 references the fixed
        # start-up (Python, typer: ~0.05 s) weighs on every ratio.
        verdict = "" if goal is None or n < 10000 else ("  ok" if ratio <= goal else "  MISSED")
        print(f"  {label.rstrip():22}{seconds:9.3f}{cpu:8.3f}{floor:>7}{ratio:7.2f}{cpu_ratio:10.2f}"
              f"{'' if goal is None else goal:>6}{peak:9.0f}{verdict}")
    return best


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10000]
    results = {}
    for n in sizes:
        rounds = 5 if n <= 20000 else 2
        results[n] = bench_size(n, rounds)
    if len(sizes) > 1:
        print("\nms per 1,000 references (flat = linear)")
        print(f"  {'':22}" + "".join(f"{n:>12,}" for n in sizes))
        for label in ["T", "R+W", *GOALS]:
            print(f"  {label.rstrip():22}" + "".join(f"{results[n][label][0] / n * 1e6:12.1f}" for n in sizes))
        print("peak memory, MB")
        for label in ["T", *GOALS]:
            print(f"  {label.rstrip():22}" + "".join(f"{results[n][label][2]:12.0f}" for n in sizes))


if __name__ == "__main__":
    main()
