"""What ``list`` and ``export`` select: CSL types, a year range, a search text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from citetool.errors import UsageError
from citetool.findings import is_flagged
from citetool.record import CSL_TYPES, META, Record, names, year
from citetool.text import fold

# BibTeX and biblatex entry types -> the CSL types they select (``list -t article``).
# ``article`` is also a CSL type (preprints, working papers): it selects those
# as well as the journal, magazine and newspaper articles a BibTeX user means.
BIBTEX_TYPES = {
    "article": ("article-journal", "article-magazine", "article-newspaper", "article"),
    "inproceedings": ("paper-conference",), "conference": ("paper-conference",),
    "incollection": ("chapter",), "inbook": ("chapter",),
    "techreport": ("report",), "phdthesis": ("thesis",), "mastersthesis": ("thesis",),
    "proceedings": ("book",), "collection": ("book",), "mvbook": ("book",),
    "booklet": ("pamphlet",), "unpublished": ("manuscript",), "online": ("webpage", "post", "post-weblog"),
    "misc": ("document",), "manual": ("report",),
}

SORT_ORDERS = ("key", "year", "author", "added")


def sort_records(records: list[Record], by: str = "key") -> list[Record]:
    """``records`` (in key order) by ``year`` (oldest first, undated last), the first
    ``author``'s family name (folded, then year), or when ``added`` to the store
    (oldest first); ties keep key order. ``key``: as they are."""
    if by == "key":
        return records
    if by == "year":
        return sorted(records, key=lambda r: (year(r) is None, year(r) or 0))
    if by == "author":
        def first(r: Record) -> str:
            people = names(r, "author") or names(r, "editor")
            person = people[0] if people else {}
            return fold(person.get("family") or person.get("literal") or person.get("given") or "").casefold()
        return sorted(records, key=lambda r: (first(r) == "", first(r), year(r) or 0))
    if by == "added":
        return sorted(records, key=lambda r: str(r.get(META, {}).get("added") or ""))
    raise UsageError(f"--sort takes one of: {', '.join(SORT_ORDERS)}, not {by!r}")


def tags_of(rec: Record) -> list[str]:
    """A reference's tags: its CSL ``keyword`` field split at commas and
    semicolons, folded (case and accents ignored)."""
    value = rec.get("keyword")
    return [fold(t).strip() for t in re.split(r"[,;]", value) if t.strip()] if isinstance(value, str) else []


@dataclass
class Filters:
    """What ``list`` and ``export`` select: CSL types, a year range, a search text."""

    types: list[str] = field(default_factory=list)
    year: str | None = None  # "2021", "2019-2021", "2019-", "-2020"
    search: str | None = None
    flagged: bool = False  # only references a `check` found news about (citetool.updates)
    tags: list[str] = field(default_factory=list)  # only references with one of these keywords

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in CSL_TYPES and t.lower() not in BIBTEX_TYPES]
        if unknown:  # a typo would select nothing: an empty export, exit 0
            raise UsageError(f"--type {unknown[0]!r} is not a CSL type; choose among: {', '.join(sorted(CSL_TYPES))}; "
                             f"or a BibTeX type: {', '.join(sorted(BIBTEX_TYPES))}")
        wanted: list[str] = []
        for name in self.types:
            aliased = BIBTEX_TYPES.get(name.lower()) if name == "article" or name not in CSL_TYPES else None
            for csl in aliased or (name,):
                if csl not in wanted:
                    wanted.append(csl)
        self.types = wanted

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
        if self.flagged and not is_flagged(rec):
            return False
        if self.tags and not {fold(t).strip() for t in self.tags} & set(tags_of(rec)):
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
