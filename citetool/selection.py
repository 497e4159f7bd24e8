"""What ``list`` and ``export`` select: CSL types, a year range, a search text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from citetool.errors import UsageError
from citetool.record import Record, names, year
from citetool.text import fold


@dataclass
class Filters:
    """What ``list`` and ``export`` select: CSL types, a year range, a search text."""

    types: list[str] = field(default_factory=list)
    year: str | None = None  # "2021", "2019-2021", "2019-", "-2020"
    search: str | None = None
    flagged: bool = False  # only references a `check` found news about (citetool.updates)

    def __post_init__(self) -> None:
        from citetool.record import CSL_TYPES

        unknown = [t for t in self.types if t not in CSL_TYPES]
        if unknown:  # a typo would select nothing: an empty export, exit 0
            raise UsageError(f"--type {unknown[0]!r} is not a CSL type; choose among: {', '.join(sorted(CSL_TYPES))}")

    def year_range(self) -> tuple[int, int] | None:
        if not self.year:
            return None
        m = re.fullmatch(r"\s*(\d{4})?\s*(-)?\s*(\d{4})?\s*", self.year)
        if not m or not (m.group(1) or m.group(3)) or (m.group(1) and m.group(3) and not m.group(2)):
            raise UsageError(f"--year takes YEAR or FROM-TO (e.g. 2019-2021), not {self.year!r}")
        low = int(m.group(1)) if m.group(1) else 0
        high = int(m.group(3)) if m.group(3) else (9999 if m.group(2) else low)
        return low, high

    def matches(self, rec: Record, span: tuple[int, int] | None = None) -> bool:
        """Whether ``rec`` passes; ``span`` is :meth:`year_range`, worked out
        once by callers that test many records."""
        if self.types and rec.get("type") not in self.types:
            return False
        if self.flagged:
            from citetool.updates import is_flagged

            if not is_flagged(rec):
                return False
        span = span or self.year_range()
        if span and not (year(rec) and span[0] <= year(rec) <= span[1]):
            return False
        if self.search:
            people = names(rec, "author") + names(rec, "editor")
            haystack = " ".join([rec.get("title") or "", str(rec.get("keyword") or "")] + [
                " ".join(str(v) for v in p.values()) for p in people])
            if fold(self.search) not in fold(haystack):
                return False
        return True


def sorted_keys(keys: Iterable[str]) -> list[str]:
    """The order of references everywhere (the store file, list, export): by key
    ignoring case, then by key (``Smith2020`` before ``smith2020``). Sorted by
    key, then stably by key in lower case: two sorts in C, no Python key."""
    return sorted(sorted(keys), key=str.lower)
