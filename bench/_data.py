"""Shared by the benchmarks: realistic records made from the recorded Crossref fixtures."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "crossref" / "works"


def fixture_records() -> list[dict]:
    from citetool.sources.crossref_mapping import work_to_record

    return [work_to_record(json.loads(p.read_text(encoding="utf-8"))["message"]) for p in sorted(FIXTURES.glob("*.json"))]


def many_records(n: int) -> dict[str, dict]:
    """``n`` distinct references (fixtures cycled, with distinct DOIs, titles and keys)."""
    base = fixture_records()
    out = {}
    for i in range(n):
        rec = copy.deepcopy(base[i % len(base)])
        rec["DOI"] = f"{rec['DOI']}.{i}"
        rec["title"] = f"{rec.get('title', 'Untitled')} (part {i})"
        rec["id"] = f"ref{i:06d}"
        rec["citetool"] = {"fields": {k: "crossref" for k in rec if k != "id"}}
        out[rec["id"]] = rec
    return out


def wall(func) -> float:
    """Seconds ``func()`` takes."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start
