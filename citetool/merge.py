"""The one merge engine: decide which stored reference a new record belongs to,
and merge it field by field, keeping per-field provenance.

Rules (README, "How references are merged"):

1. A field the user set (``citetool edit``) is never overwritten by a source.
2. Otherwise the more authoritative source wins: ``crossref`` > ``doi.org`` >
   ``econpapers`` > ``repec-handle`` > ``import``; a source refreshing its own
   field replaces it.
3. A source never erases a value with an empty one.
4. A value from a less authoritative source that disagrees is kept, visibly,
   under the reference's ``citetool.conflicts``.

Provenance lives under the record's ``citetool`` field: ``fields`` maps each
field to the source that gave its value, ``sources`` maps each source to what
was asked of it and when.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from citetool.record import META, Record

USER = "user"
SOURCE_RANK = {
    USER: 100,
    "crossref": 50,
    "doi.org": 45,
    "econpapers": 40,
    "repec-handle": 30,
    "import": 20,
}


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def bibliographic_fields(record: Record) -> dict:
    return {k: v for k, v in record.items() if k not in ("id", META)}


def identity_keys(record: Record) -> set[str]:
    """Identifiers that make two records the same work."""
    keys = set()
    doi = record.get("DOI")
    if isinstance(doi, str) and doi:
        keys.add("doi:" + doi.lower())
    return keys


def build_index(records: dict[str, Record]) -> dict[str, str]:
    """identity key -> citation key."""
    index: dict[str, str] = {}
    for key, rec in records.items():
        for ident in identity_keys(rec):
            index.setdefault(ident, key)
    return index


def find_match(index: dict[str, str], record: Record) -> str | None:
    for ident in sorted(identity_keys(record)):
        if ident in index:
            return index[ident]
    return None


def _rank(source: str | None) -> int:
    return SOURCE_RANK.get(source or "", 0)


def new_reference(incoming: Record, source: str, asked: str, when: str | None = None) -> Record:
    """A fresh stored reference (without ``id``) from one source's record."""
    when = when or now_iso()
    rec = copy.deepcopy(bibliographic_fields(incoming))
    rec[META] = {
        "added": when,
        "fields": {field: source for field in rec},
        "sources": {source: {"id": asked, "fetched": when}},
    }
    return rec


def merge_into(existing: Record, incoming: Record, source: str, asked: str,
               when: str | None = None) -> list[str]:
    """Merge ``incoming`` (from ``source``) into ``existing`` in place; returns the
    names of the fields whose value changed."""
    when = when or now_iso()
    info = existing.setdefault(META, {})
    provenance = info.setdefault("fields", {})
    conflicts = info.get("conflicts", {})
    changed: list[str] = []
    for field, value in bibliographic_fields(incoming).items():
        if value in (None, "", [], {}):
            continue  # rule 3
        current = existing.get(field)
        owner = provenance.get(field)
        if current == value:
            if _rank(source) >= _rank(owner) and owner != USER:
                provenance[field] = source
            conflicts.get(field, {}).pop(source, None)
            continue
        if current in (None, "", [], {}) or (owner != USER and _rank(source) >= _rank(owner)):
            existing[field] = copy.deepcopy(value)
            provenance[field] = source
            conflicts.get(field, {}).pop(source, None)
            changed.append(field)
        else:
            conflicts.setdefault(field, {})[source] = copy.deepcopy(value)
    conflicts = {f: c for f, c in conflicts.items() if c and f in existing}
    if conflicts:
        info["conflicts"] = conflicts
    else:
        info.pop("conflicts", None)
    info.setdefault("sources", {})[source] = {"id": asked, "fetched": when}
    return changed
