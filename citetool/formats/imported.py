"""What a reader hands to ``citetool import``: one entry of a user's file."""

from __future__ import annotations

from dataclasses import dataclass

from citetool.record import Record


@dataclass
class Imported:
    key: str | None  # the entry's own citation key, if the file has one
    record: Record
    line: int  # where the entry starts in its file (1-based), for messages
