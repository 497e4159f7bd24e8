"""Placing records into the store's references, inside one transaction of
:class:`~citetool.library.Library`: a record joins the reference of the same
work (merged field by field, see :mod:`citetool.merge`) or becomes a new
reference under a fresh key. Pure: no I/O, no lock; the caller holds both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from citetool.keys import base_key, is_valid_key, unique_key
from citetool.merge import IMPORT, find_match, identity_keys, merge_import, merge_into, new_reference
from citetool.record import Record
from citetool.sources import Found


@dataclass
class Outcome:
    """What became of one identifier (or one imported entry, or one refresh)."""

    input: str
    status: str  # "added" | "present" | "updated" | "failed"
    key: str | None = None
    error: str | None = None
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings worth a line on stderr

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_dict(self) -> dict:
        out = {"input": self.input, "status": self.status, "key": self.key}
        if self.error:
            out["error"] = self.error
        if self.changed:
            out["changed"] = self.changed
        if self.notes:
            out["notes"] = self.notes
        return out


class Placer:
    """Places records into ``records`` (keyed by citation key), keeping the
    identity ``index`` and the set of keys ``taken`` (lower case) up to date."""

    def __init__(self, records: dict[str, Record], index: dict[str, str], when: str):
        self.records = records
        self.index = index
        self.taken = {k.lower() for k in records}
        self.when = when

    def _new(self, stored: Record, wanted: str | None = None) -> str:
        """Store a new reference under ``wanted`` if free, else a fresh key."""
        key = wanted if wanted and wanted.lower() not in self.taken else unique_key(wanted or base_key(stored), self.taken)
        stored["id"] = key
        self.records[key] = stored
        self.taken.add(key.lower())
        self.index.update({k: key for k in identity_keys(stored)})
        return key

    def _merge(self, key: str, found: list[Found], changed: list[str] | None = None) -> list[str]:
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

    def imported(self, label: str, name: str, record: Record, own_key: str | None, enriched: list[Found]) -> Outcome:
        """One entry of an imported file (``name``), with what the sources say
        of its DOI (``enriched``, with ``import --resolve``)."""
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
            key = self._new(stored, own_key if own_key and is_valid_key(own_key) else None)
            return Outcome(label, "added", key=key)
        changed = self._merge(match, enriched)
        changed += [f for f in merge_import(self.records[match], record, name, self.when) if f not in changed]
        self.index.update({k: match for k in identity_keys(self.records[match])})
        return Outcome(label, "updated" if changed else "present", key=match, changed=changed)

    def refreshed(self, key: str, found: list[Found]) -> Outcome:
        """A stored reference asked again of its sources."""
        changed = self._merge(key, found)
        return Outcome(key, "updated" if changed else "present", key=key, changed=changed)
