"""Placing records into the store's references, inside one transaction of
:class:`~citetool.library.Library`: a record joins the reference of the same
work (merged field by field, see :mod:`citetool.merge`) or becomes a new
reference under a fresh key. Pure: no I/O, no lock; the caller holds both.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from citetool.keys import base_key, is_valid_key, keys_in_use, unique_key
from citetool.merge import IMPORT, USER, find_match, identity_keys, merge_import, merge_into, new_reference
from citetool.outcome import Outcome
from citetool.record import Record
from citetool.sources import Found


@contextmanager
def bulk() -> Iterator[None]:
    """Cyclic garbage collection paused while many records are made at once (an
    import): none of them is in a cycle, and the collections that found nothing
    took a sixth of importing 5,000 entries. Reference counting frees as before."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class Placer:
    """Places records into ``records`` (keyed by citation key), keeping the
    identity ``index`` and the set of keys ``taken`` (lower case) up to date."""

    def __init__(self, records: dict[str, Record], index: dict[str, str], when: str):
        self.records = records
        self.index = index
        self.taken = keys_in_use(records)  # keys and aliases, lower case
        self.suffix_hints: dict[str, int] = {}  # (keys.unique_key: self.taken only grows)
        self.when = when

    def _new(self, stored: Record, wanted: str | None = None) -> str:
        """Store a new reference under ``wanted`` if free, else a fresh key."""
        free = wanted and wanted.lower() not in self.taken
        key = wanted if free else unique_key(wanted or base_key(stored), self.taken, self.suffix_hints)
        stored["id"] = key
        self.records[key] = stored
        self.taken.add(key.lower())
        self.index.update({k: key for k in identity_keys(stored)})
        return key

    def _merge(self, key: str, found: list[Found], changed: list[str] | None = None) -> list[str]:
        if hasattr(self.index, "complete"):
            self.index.complete()  # before a stored record changes (see merge.IdentityIndex)
        changed = list(changed or [])
        for source, asked, record in found:
            changed += [f for f in merge_into(self.records[key], record, source, asked, self.when) if f not in changed]
        self.index.update({k: key for k in identity_keys(self.records[key])})
        return changed

    def found(self, raw: str, ident_key: str, found: list[Found]) -> Outcome:
        """Sources' records for one identifier (``ident_key``, e.g. ``doi:10...``)."""
        match = self.index.get(ident_key)
        for _, _, record in found:
            match = match or find_match(self.index, record, self.records)
        if match:
            changed = self._merge(match, found)
            return Outcome(raw, "updated" if changed else "present", key=match, changed=changed)
        source, asked, record = found[0]
        combined = new_reference(record, source, asked, self.when)
        for source, asked, record in found[1:]:
            merge_into(combined, record, source, asked, self.when)
        key = self._new(combined)
        self.index[ident_key] = key
        return Outcome(raw, "added", key=key)

    def imported(self, name: str, entry, enriched: list[Found]) -> Outcome:
        """One entry of an imported file (``name``), with what the sources say
        of its DOI (``enriched``, with ``import --resolve``)."""
        label = f"{name}:{entry.line}" + (f" ({entry.key})" if entry.key else "")
        record, own_key = entry.record, entry.key
        match = find_match(self.index, record, self.records)
        for _, _, source_record in enriched:
            match = match or find_match(self.index, source_record, self.records)
        if match is None:
            if enriched:
                source, asked, first = enriched[0]
                stored = new_reference(first, source, asked, self.when)
                for source, asked, other in enriched[1:]:
                    merge_into(stored, other, source, asked, self.when)
                merge_import(stored, record, name, self.when)
            else:
                stored = new_reference(record, IMPORT, name, self.when)
            usable = own_key if own_key and is_valid_key(own_key) else None
            key = self._new(stored, usable)
            notes = []
            if own_key and key != own_key:  # a .tex citing the file's key must hear of the change
                why = ("taken by another reference" if usable else
                       "not a valid key: letters, digits and _ : . + - only, starting with a letter or digit")
                notes.append(f"{label}: key {own_key!r} stored as {key!r} ({why})")
            return Outcome(label, "added", key=key, notes=notes)
        changed = self._merge(match, enriched)
        changed += [f for f in merge_import(self.records[match], record, name, self.when) if f not in changed]
        self.index.update({k: match for k in identity_keys(self.records[match])})
        return Outcome(label, "updated" if changed else "present", key=match, changed=changed)

    def manual(self, label: str, record: Record) -> Outcome:
        """A reference typed in by the user: every field is theirs."""
        match = find_match(self.index, record, self.records)
        if match:
            return Outcome(label, "present", key=match)
        return Outcome(label, "added", key=self._new(new_reference(record, USER, "manual entry", self.when)))

    def refreshed(self, key: str, found: list[Found]) -> Outcome:
        """A stored reference asked again of its sources."""
        changed = self._merge(key, found)
        return Outcome(key, "updated" if changed else "present", key=key, changed=changed)


class Arrivals:
    """``add``'s results as they arrive from the sources (on any thread):
    failures noted at once, records placed by ``transaction()`` (a context
    giving a :class:`Placer`) every ``every`` seconds and at ``flush()``."""

    def __init__(self, inputs: list[str], jobs: dict, outcomes: dict[int, Outcome], transaction,
                 every: float, progress=None):
        self.inputs, self.jobs, self.outcomes = inputs, jobs, outcomes
        self.transaction, self.every, self.progress = transaction, every, progress
        self.pending: list = []
        self.done = 0
        self.saved_at = time.monotonic()
        self.lock = threading.Lock()

    def deliver(self, ident, found: list[Found], notes: list[str]) -> None:
        self._arrived(ident, (found, notes))

    def fail(self, ident, reason: str) -> None:
        self._arrived(ident, reason)

    def _arrived(self, ident, result) -> None:
        with self.lock:
            i = self.jobs[ident]
            if isinstance(result, str):
                self.outcomes[i] = Outcome(self.inputs[i], "failed", error=result)
            else:
                self.pending.append((i, ident, *result))
            self.done += 1
            if self.progress:
                self.progress(self.done, len(self.jobs))
            if time.monotonic() - self.saved_at >= self.every:
                self._flush()

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _flush(self) -> None:  # the caller holds the lock
        if self.pending:
            with self.transaction() as placer:
                for i, ident, found, notes in self.pending:
                    self.outcomes[i] = placer.found(self.inputs[i], ident.key, found)
                    self.outcomes[i].notes = notes
            self.pending.clear()
        self.saved_at = time.monotonic()
