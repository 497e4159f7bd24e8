"""The merge driver on a large store, against the floor it cannot beat, in one run.

    python bench/bench_gitmerge.py [N ...]      # default 1000 10000

For each size N: a common ancestor of N realistic references (the recorded
Crossref fixtures, cycled), and two branches that each edit 50 references
(user edits, a few on the same references as the other side), add 50 (20 of
them the same works under other keys), remove 10 and rename 5. Timed, each a
fresh process (``python -m citetool merge-driver``, as git runs it):

* ``M``: the merge driver: start-up, read the three versions, merge, write;
* ``F``: the floor: a fresh Python process that parses the three versions
  with orjson and writes one of them back atomically (temporary file, fsync,
  rename): the least a three-way merge of JSON files must do.

Rounds are interleaved so that a noisy, shared machine slows both alike; each
figure is the best of the rounds and the ratio M/F is what to compare. With
several sizes, the last column (milliseconds per 1,000 references) stays flat
when the cost is linear.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _data import many_records  # noqa: E402

from citetool.merge import new_reference, set_user_field  # noqa: E402
from citetool.store import dumps  # noqa: E402

ROUNDS = 5
FLOOR = """
import os, sys, tempfile, orjson
versions = [orjson.loads(open(p, 'rb').read()) for p in sys.argv[1:4]]
out = orjson.dumps(versions[1], option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(sys.argv[2]) or '.', suffix='.tmp')
with os.fdopen(fd, 'wb') as fh:
    fh.write(out)
    fh.flush()
    os.fsync(fh.fileno())
os.replace(tmp, sys.argv[2])
"""


def branches(n: int) -> tuple[dict, dict, dict]:
    """(base, ours, theirs) records: each side edits, adds, removes and renames."""
    base = {}
    for key, rec in many_records(n).items():
        stored = new_reference(rec, "crossref", rec["DOI"], "2026-01-01T00:00:00Z")
        stored["id"] = key
        base[key] = stored
    keys = sorted(base)
    extra = many_records(n + 60)
    new_works = [extra[k] for k in sorted(extra)[n:]]
    sides = []
    for side, offset in (("ours", 0), ("theirs", 1)):
        records = copy.deepcopy(base)
        for i in range(50):  # user edits; every tenth on a reference the other side edits too
            key = keys[(i * 7 + (0 if i % 10 == 0 else offset * 3 + 1)) % n]
            set_user_field(records[key], "note", f"{side} note {i}")
        for i, work in enumerate(new_works[offset * 30: offset * 30 + 50]):  # 20 shared with the other side
            rec = new_reference(work, "crossref", work["DOI"], "2026-02-01T00:00:00Z")
            rec["id"] = f"{side}{i:03d}"
            records[rec["id"]] = rec
        for key in keys[n // 2 + offset * 20: n // 2 + offset * 20 + 10]:
            records.pop(key, None)
        for key in keys[n // 3 + offset * 10: n // 3 + offset * 10 + 5]:
            rec = records.pop(key)
            rec["id"] = f"{key}-{side}"
            records[rec["id"]] = rec
        sides.append(records)
    return base, sides[0], sides[1]


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return elapsed


def main(sizes: list[int]) -> None:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rows = []
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix="bench-gitmerge-"))
        try:
            base, ours, theirs = branches(n)
            texts = {name: dumps(recs) for name, recs in (("base", base), ("ours", ours), ("theirs", theirs))}
            paths = {name: folder / f"{name}.json" for name in texts}
            for name, text in texts.items():
                paths[name].write_text(text, encoding="utf-8")
            args = [str(paths["base"]), str(paths["ours"]), str(paths["theirs"])]
            merge_times, floor_times = [], []
            for _ in range(ROUNDS):
                paths["ours"].write_text(texts["ours"], encoding="utf-8")
                merge_times.append(timed([sys.executable, "-m", "citetool", "merge-driver", *args], env))
                paths["ours"].write_text(texts["ours"], encoding="utf-8")
                floor_times.append(timed([sys.executable, "-c", FLOOR, *args], env))
            size_mb = len(texts["ours"].encode("utf-8")) / 1e6
            rows.append((n, size_mb, min(merge_times), min(floor_times)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{'N':>8} {'store MB':>9} {'M (s)':>8} {'F (s)':>8} {'M/F':>6} {'M ms/1k':>8}")
    for n, size_mb, merge, floor in rows:
        print(f"{n:>8} {size_mb:>9.1f} {merge:>8.3f} {floor:>8.3f} {merge / floor:>6.2f} {merge * 1e6 / n:>8.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
