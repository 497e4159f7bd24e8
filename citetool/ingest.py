"""Placing records into the store's references, inside one transaction of
:class:`~citetool.library.Library`: a record joins the reference of the same
work (merged field by field, see :mod:`citetool.merge`) or becomes a new
reference under a fresh key. Pure: no I/O, no lock; the caller holds both.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from citetool.findings import FOUND_NEWS, SERIOUS, UPDATES, retraction_notes
from citetool.keys import base_key, is_citable_key, keys_in_use, unique_key
from citetool.merge import (
    IMPORT,
    USER,
    clearly_another_work,
    find_match,
    fold_ascii,
    identity_keys,
    merge_import,
    merge_into,
    new_reference,
    shared_identifier,
)
from citetool.outcome import Outcome
from citetool.record import META, Record, aliases, names, year
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

    def __init__(self, records: dict[str, Record], index: dict[str, str], when: str, make_key=base_key):
        self.records = records
        self.index = index
        self.taken = keys_in_use(records)  # keys and aliases, lower case
        self.suffix_hints: dict[str, int] = {}  # (keys.unique_key: self.taken only grows)
        self.when = when
        self.make_key = make_key  # a new reference's key before any suffix (citetool.keypattern)
        self.placed: dict[str, set[str]] = {}  # file -> keys of the references an entry of it made or joined
        self.touched: set[str] = set()  # keys of the references :meth:`found` made or changed

    def _new(self, stored: Record, wanted: str | None = None, claim_identity: bool = True) -> str:
        """Store a new reference under ``wanted`` if free, else a fresh key; with
        ``claim_identity`` False, its identifiers keep pointing at the references
        that had them (a second work that shares a DOI by mistake)."""
        free = wanted and wanted.lower() not in self.taken
        key = wanted if free else unique_key(wanted or self.make_key(stored), self.taken, self.suffix_hints)
        stored["id"] = key
        self.records[key] = stored
        self.touched.add(key)
        self.taken.add(key.lower())
        for ident in identity_keys(stored):
            if claim_identity or self.index.get(ident) is None:
                self.index[ident] = key
        return key

    def _merge(self, key: str, found: list[Found], changed: list[str] | None = None) -> list[str]:
        if hasattr(self.index, "complete"):
            self.index.complete()  # before a stored record changes (see merge.IdentityIndex)
        changed = list(changed or [])
        self.touched.add(key)
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
            return self._with_news(Outcome(raw, "updated" if changed else "present", key=match, changed=changed), found)
        source, asked, record = found[0]
        combined = new_reference(record, source, asked, self.when)
        for source, asked, record in found[1:]:
            merge_into(combined, record, source, asked, self.when)
        key = self._new(combined)
        self.index[ident_key] = key
        return self._with_news(Outcome(raw, "added", key=key), found)

    def _with_news(self, outcome: Outcome, found: list[Found]) -> Outcome:
        """A source's answer that says the work was retracted (or has an expression
        of concern) is kept on the reference as ``check`` keeps it, unless a check
        already stored findings, and said in the outcome's notes."""
        stored = self.records[outcome.key]
        self.touched.add(outcome.key)
        news = next((r[META][FOUND_NEWS] for _, _, r in found if FOUND_NEWS in r.get(META, {})), None)
        serious = news is not None and any(f.get("kind") in SERIOUS for f in news["findings"])
        if serious and UPDATES not in stored.get(META, {}):
            stored.setdefault(META, {})[UPDATES] = {"source": news["source"], "findings": news["findings"],
                                                    "found": self.when}
        outcome.notes = [*outcome.notes, *retraction_notes([stored])]
        return outcome

    def imported(self, name: str, entry, enriched: list[Found]) -> Outcome:
        """One entry of an imported file (``name``), with what the sources say
        of its DOI (``enriched``, with ``import --resolve``). The entry's key is
        kept as it is unless no paper could cite it or another work has it; a
        key that joins a stored reference becomes one of its aliases."""
        label = f"{name}:{entry.line}" + (f" ({entry.key})" if entry.key else "")
        record, own_key = entry.record, entry.key
        match = find_match(self.index, record, self.records)
        for _, _, source_record in enriched:
            match = match or find_match(self.index, source_record, self.records)
        notes = list(getattr(entry, "notes", []))
        if match is not None and clearly_another_work(record, self.records[match]):
            shared = shared_identifier(record, self.records[match])
            notes.append(f"{label}: shares {shared} with {match!r}, but its title, year and authors are "
                         f"another work's: stored apart (see `citetool doctor`)")
            match, enriched = None, []
        match = match or self._same_entry_again(own_key, record)
        if match is None:
            if enriched:
                source, asked, first = enriched[0]
                stored = new_reference(first, source, asked, self.when)
                for source, asked, other in enriched[1:]:
                    merge_into(stored, other, source, asked, self.when)
                merge_import(stored, record, name, self.when)
            else:
                stored = new_reference(record, IMPORT, name, self.when)
            citable = bool(own_key) and is_citable_key(own_key)
            key = self._new(stored, own_key if citable else None, claim_identity=not notes)
            self.placed.setdefault(name, set()).add(key)
            if own_key and key != own_key:  # a .tex citing the file's key must hear of the change
                # an uncitable key is not kept as an alias: every key the store holds follows the one key rule
                why = ("taken by another reference" if citable
                       else "no paper can cite it: a space, control character or one of , { } % # \\ ~ \"")
                notes.append(f"{label}: key {own_key!r} stored as {key!r} ({why})")
            self._own_ids(key, record)
            return Outcome(label, "added", key=key, notes=notes)
        changed = self._merge(match, enriched)
        again = match in self.placed.get(name, ())  # one work entered twice in this file: each key keeps its entry
        changed += [f for f in merge_import(self.records[match], record, name, self.when, another_entry=again)
                    if f not in changed]
        self.placed.setdefault(name, set()).add(match)
        self.index.update({k: match for k in identity_keys(self.records[match])})
        if own_key and own_key.lower() != match.lower():
            if self._alias(match, own_key):
                notes.append(f"{label}: the same work as {match!r}: its key {own_key!r} is kept as an alias")
            elif own_key.lower() not in (a.lower() for a in aliases(self.records[match])):
                notes.append(f"{label}: the same work as {match!r}; its key {own_key!r} is another "
                             f"reference's, so cite it as {match!r}")
        self._own_ids(match, record)
        return Outcome(label, "updated" if changed else "present", key=match, changed=changed, notes=notes)

    def _own_ids(self, key: str, record: Record) -> None:
        """biblatex's ``ids`` of the imported entry (its other keys) become aliases."""
        written = ((record.get(META) or {}).get("bibtex") or {}).get("fields", {}).get("ids")
        if isinstance(written, str):
            for alias in written.strip("{}\"").split(","):
                if alias.strip() and is_citable_key(alias.strip()) and alias.strip().lower() != key.lower():
                    self._alias(key, alias.strip())

    def _alias(self, key: str, alias: str) -> bool:
        """Make ``alias`` one more key of ``key``'s reference, if it follows the one key
        rule and no reference answers to it yet."""
        if alias.lower() in self.taken or not is_citable_key(alias):
            return False
        self.records[key].setdefault(META, {}).setdefault("aliases", []).append(alias)
        self.taken.add(alias.lower())
        return True

    def _same_entry_again(self, own_key: str | None, record: Record) -> str | None:
        """The stored reference an entry imported again is (a short title, or none,
        is no identity to :func:`find_match`, yet re-importing a file must not make
        ``keya``): the one under the entry's own key when it is the same work by
        its type, year, first author and title; for an entry without a key (RIS),
        the one under the key citetool makes of it, only if it holds every value
        of the entry as the entry has it (8,000 untitled records that differ in a
        note are 8,000 works)."""
        if own_key is None:
            key = self.make_key(record)
            stored = self.records.get(key)
            same = stored is not None and all(stored.get(name) == value for name, value in record.items()
                                              if name not in ("id", META))
            return key if same else None
        if own_key not in self.records:
            return None

        def what(rec: Record) -> tuple:
            people = names(rec, "author") or names(rec, "editor")
            first = people[0] if people else {}
            return (rec.get("type"), year(rec), fold_ascii(first.get("family") or first.get("literal") or ""),
                    fold_ascii(str(rec.get("title") or "")))

        return own_key if what(self.records[own_key]) == what(record) else None

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
