"""What a reader hands to ``citetool import``: one entry of a user's file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from citetool.record import Record


@dataclass
class Imported:
    key: str | None  # the entry's own citation key, if the file has one
    record: Record
    line: int  # where the entry starts in its file (1-based), for messages
    notes: list[str] = field(default_factory=list)  # warnings about it (a field given twice)


def unreadable(where: str, exc: BaseException, what: str = "an entry") -> str:
    """The one-line problem (``where``: "refs.bib:12") for an entry whose conversion raised ``exc``: every
    reader turns any exception while converting ONE entry into this, so only
    that entry is skipped (a name bibtexparser cannot split, a value nested too
    deeply...)."""
    reason = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split()) or type(exc).__name__
    if len(reason) > 200:
        reason = reason[:197] + "..."
    return f"{where}: skipped {what} that cannot be read ({reason})"


_SKIPPED = re.compile(r"\bskipped\b")


def skipped_entries(problems: list[str]) -> int:
    """How many of an import's problems are entries left out (every reader says
    "skipped" of those, and only of those: a value left out of an imported entry
    is not a failed entry)."""
    return sum(bool(_SKIPPED.search(problem)) for problem in problems)
