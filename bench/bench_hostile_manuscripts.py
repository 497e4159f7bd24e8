"""How `bib` reads hostile manuscripts as they grow (issue 23): the time for
1 MB and 10 MB of each pattern, and their ratio. Linear scanners give a ratio
near 10; the quadratic ones this replaces gave 100 (350 s for 102 KB of
unclosed \\cite{ before).

Run: PYTHONPATH=$PWD python bench/bench_hostile_manuscripts.py
"""

from __future__ import annotations

import time

from citetool.manuscript import aux_keys, latex_keys, markdown_keys

PATTERNS = {
    "unclosed \\cite{": (latex_keys, "\\cite{"),
    "unclosed \\cite[": (latex_keys, "\\cite["),
    "\\verb, 1,000 distinct delimiters": (latex_keys, "".join(f"\\verb{chr(0x100 + i)}x " for i in range(1000))),
    "unclosed \\lstinline{": (latex_keys, "\\lstinline{"),
    "unclosed \\citation{ (.aux)": (aux_keys, "\\citation{"),
    "Markdown @{ never closed": (markdown_keys, "@{"),
    "Markdown <!-- never closed": (markdown_keys, "<!--"),
    "ordinary Markdown": (markdown_keys, "Some words @key and more [@a; @b] text.\n\n"),
}


def seconds(read, unit: str, size: int) -> float:
    text = unit * (size // len(unit))
    started = time.perf_counter()
    read(text)
    return time.perf_counter() - started


def main() -> None:
    print(f"{'pattern':40} {'1 MB':>8} {'10 MB':>8} {'ratio':>6}")
    for name, (read, unit) in PATTERNS.items():
        small, large = seconds(read, unit, 1_000_000), seconds(read, unit, 10_000_000)
        print(f"{name:40} {small:7.2f}s {large:7.2f}s {large / max(small, 1e-9):6.1f}")


if __name__ == "__main__":
    main()
