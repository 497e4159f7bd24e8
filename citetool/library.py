"""The Python API: a :class:`Library` is a store plus the operations on it.

Everything the command line does goes through here, so the same behaviour is
available to Python code (``from citetool import Library``). The Library holds
the store's transactions and names no source: looking identifiers up is
:mod:`citetool.lookup` over the registry in :mod:`citetool.sources`; placing
records into the references is :mod:`citetool.ingest`. Network look-ups happen
before the store is locked; merging and saving happen under the lock, on a
fresh read of the store, in one atomic write per command.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from citetool.config import Settings, resolve_store_path
from citetool.errors import CitetoolError, IdentifierError, KeyNotInStore, UsageError
from citetool.ingest import Outcome
from citetool.record import META, Record
from citetool.selection import Filters, sort_key
from citetool.store import Store

if TYPE_CHECKING:
    from citetool.identifiers import Identifier
    from citetool.sources import Found

# Commands that only read (list, show, export) must start fast: the identifier,
# source, key and merge machinery is imported inside the methods that write.
__all__ = ["Filters", "Library", "Outcome"]


class Library:
    def __init__(self, path: str | Path | None = None, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.store = Store(resolve_store_path(path), self.settings.lock_timeout)
        self._records: dict[str, Record] | None = None
        self._sources = None
        self._index: tuple[dict, dict[str, str]] | None = None  # (records it indexes, index)

    @classmethod
    def open(cls, path: str | Path | None = None, settings: Settings | None = None) -> "Library":
        return cls(path, settings)

    @property
    def sources(self):
        """The metadata sources (:class:`citetool.sources.Sources`), built on first use."""
        if self._sources is None:
            from citetool.sources import Sources

            self._sources = Sources(self.settings)
        return self._sources

    def _lookup(self, index: dict[str, str], offline: bool = False, fresh: bool = False):
        from citetool.lookup import Lookup

        return Lookup(self.sources, index.__contains__, offline=offline, fresh=fresh)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def records(self) -> dict[str, Record]:
        """All references by key (loaded once, on first use)."""
        if self._records is None:
            self._records = self.store.load_fresh()
        return self._records

    def _written(self, records: dict[str, Record]) -> None:
        """After a write other than ``add``'s: these are the records now, and
        the identity index (keys, DOIs, titles may have changed) is rebuilt
        when next needed."""
        self._records = records
        self._index = None

    def _index_of(self, records: dict[str, Record]) -> dict[str, str]:
        """The identity index of ``records``, built once per loaded store (the
        writers keep it up to date as they add)."""
        from citetool.merge import build_index

        if self._index is None or self._index[0] is not records:
            self._index = (records, build_index(records))
        return self._index[1]

    # --- reading -----------------------------------------------------------

    def resolve_key(self, key: str, records: dict[str, Record] | None = None) -> str:
        """The stored key equal to ``key``, ignoring case; KeyNotInStore if none."""
        records = self.records if records is None else records
        if key in records:
            return key
        lowered = key.lower()
        for existing in records:
            if existing.lower() == lowered:
                return existing
        raise KeyNotInStore(f"no reference with key {key!r} in {self.path}")

    def get(self, key: str) -> Record:
        return self.records[self.resolve_key(key)]

    def select(self, keys: Iterable[str] | None = None, filters: Filters | None = None) -> list[Record]:
        """The references named (all if none) that pass ``filters``, sorted by key."""
        keys = list(keys or [])
        chosen = {self.resolve_key(k) for k in keys} if keys else set(self.records)
        filters = filters or Filters()
        filters.year_range()  # validate even when the store is empty
        return [self.records[k] for k in sorted(chosen, key=sort_key) if filters.matches(self.records[k])]

    def export(self, fmt: str, keys: Iterable[str] | None = None, filters: Filters | None = None,
               style: str | None = None) -> str:
        """Render references; ``style`` (a CSL style name or .csl file) for html and text."""
        if style:
            if fmt not in ("html", "text"):
                raise UsageError("--style goes with --format html or text")
            from citetool.formats import styles

            render_styled = styles.render_html if fmt == "html" else styles.render_text
            return render_styled(self.select(keys, filters), style)
        from citetool.formats import render

        return render(fmt, self.select(keys, filters))

    # --- writing -----------------------------------------------------------

    SAVE_EVERY = 2.0  # seconds: a long batch run saves as it goes

    def add(self, inputs: Iterable[str], refresh: bool = False, offline: bool = False,
            progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
        """Resolve identifiers (or references written out as text) and store their references.

        An identifier already stored costs no request unless ``refresh``; DOIs
        are fetched in batches. A failed identifier never stops the others;
        successes are saved as the run goes (every couple of seconds and at the
        end), so an interrupted run keeps what was done.
        """
        from citetool.identifiers import parse_line

        inputs = list(inputs)
        outcomes: list[Outcome | None] = [None] * len(inputs)
        index = self._index_of(self.records)
        first_of: dict[str, int] = {}
        duplicates: list[tuple[int, int]] = []
        jobs: dict[Identifier, int] = {}
        for i, raw in enumerate(inputs):
            try:
                ident = parse_line(raw)
            except IdentifierError as exc:
                outcomes[i] = Outcome(raw, "failed", error=str(exc))
                continue
            if ident.key in first_of:
                duplicates.append((i, first_of[ident.key]))
                continue
            first_of[ident.key] = i
            match = index.get(ident.key)
            if match and not refresh:
                outcomes[i] = Outcome(raw, "present", key=match)
            else:
                jobs[ident] = i

        pending: list[tuple[int, Identifier, list[Found], list[str]]] = []
        lock = threading.Lock()
        state = {"done": 0, "saved_at": time.monotonic()}

        def flush() -> None:  # caller holds `lock`
            if pending:
                self._save_found(pending, inputs, outcomes)
                pending.clear()
            state["saved_at"] = time.monotonic()

        def arrived(ident: Identifier, found=None, notes=None, error=None) -> None:
            with lock:
                i = jobs[ident]
                if error is not None:
                    outcomes[i] = Outcome(inputs[i], "failed", error=error)
                else:
                    pending.append((i, ident, found, notes or []))
                state["done"] += 1
                if progress:
                    progress(state["done"], len(jobs))
                if time.monotonic() - state["saved_at"] >= self.SAVE_EVERY:
                    flush()

        try:
            self._lookup(index, offline, fresh=refresh).run(
                list(jobs), deliver=arrived, fail=lambda ident, reason: arrived(ident, error=reason))
        finally:  # also on Ctrl-C: keep what was fetched
            with lock:
                flush()
        for i, first in duplicates:
            original = outcomes[first]
            outcomes[i] = Outcome(inputs[i], "present" if original.ok else "failed",
                                  key=original.key, error=original.error)
        return [o for o in outcomes if o is not None]

    def add_manual(self, record: Record) -> Outcome:
        """Store a reference typed by the user (no identifier): every field is
        theirs. Refused, naming them, when fields its type needs are missing."""
        from citetool.keys import base_key, unique_key
        from citetool.merge import USER, find_match, new_reference, now_iso
        from citetool.record import missing_fields

        missing = missing_fields(record)
        if missing:
            raise UsageError(f"a {record.get('type')} needs {', '.join(missing)} "
                             "(give --title, --author, --year or --set FIELD=VALUE)")
        label = record.get("title", "manual entry")
        with self.store.locked():
            records = self.store.load_fresh()
            index = self._index_of(records)
            match = find_match(index, record, records)
            if match:
                return Outcome(label, "present", key=match)
            stored = new_reference(record, USER, "manual entry", now_iso())
            key = unique_key(base_key(stored), {k.lower() for k in records})
            stored["id"] = key
            records[key] = stored
            self.store.save(records)
            self._written(records)
        return Outcome(label, "added", key=key)

    def _save_found(self, found, inputs, outcomes) -> None:
        """Merge looked-up records into the store: one locked, atomic write."""
        from citetool.ingest import Placer
        from citetool.merge import now_iso

        with self.store.locked():
            records = self.store.load_fresh()  # re-read only if another process wrote meanwhile
            placer = Placer(records, self._index_of(records), now_iso())
            for i, ident, results, notes in found:
                outcomes[i] = placer.found(inputs[i], ident.key, results)
                outcomes[i].notes = notes
            self.store.save(records)
            self._records = records

    def refresh(self, keys: Iterable[str] | None = None) -> list[Outcome]:
        """Ask each reference's sources again (never the cache) and merge; the
        user's fields are never touched. Outcomes: "updated" (with the fields
        changed), "present" (nothing changed) or "failed"."""
        from citetool.ingest import Placer
        from citetool.merge import now_iso

        targets = [r["id"] for r in self.select(keys)]
        fetched: dict[str, list[Found]] = {}
        outcomes: dict[str, Outcome] = {}
        for key in targets:
            results = []
            for source, info in sorted(self.records[key].get(META, {}).get("sources", {}).items()):
                try:
                    record = self.sources.refetch(source, info.get("id", ""))
                except CitetoolError as exc:
                    outcomes[key] = Outcome(key, "failed", key=key, error=f"{key}: {exc}")
                    break
                if record is not None:
                    results.append((source, info.get("id", ""), record))
            else:
                fetched[key] = results
        if any(fetched.values()):
            with self.store.locked():
                records = self.store.load_fresh()
                placer = Placer(records, self._index_of(records), now_iso())
                for key, results in fetched.items():
                    if key not in records:
                        outcomes[key] = Outcome(key, "failed", key=key, error=f"{key}: removed meanwhile")
                    else:
                        outcomes[key] = placer.refreshed(key, results)
                self.store.save(records)
                self._written(records)
        for key in fetched:
            outcomes.setdefault(key, Outcome(key, "present", key=key))
        return [outcomes[k] for k in targets]

    def remove(self, keys: Iterable[str]) -> list[str]:
        """Remove the references named; all must exist (else nothing is removed)."""
        keys = list(keys)
        with self.store.locked():
            records = self.store.load_fresh()
            resolved = [self.resolve_key(k, records) for k in keys]
            for key in resolved:
                records.pop(key, None)
            self.store.save(records)
            self._written(records)
        return resolved

    def edit(self, key: str, values: dict[str, object]) -> tuple[str, list[str]]:
        """Set fields (value None unsets): each becomes the user's, which no
        source will overwrite. Returns (key, changed fields)."""
        from citetool.merge import set_user_field
        with self.store.locked():
            records = self.store.load_fresh()
            key = self.resolve_key(key, records)
            changed = [f for f, v in values.items() if set_user_field(records[key], f, v)]
            if changed:
                self.store.save(records)
            self._written(records)
        return key, changed

    def rekey(self, old: str, new: str) -> str:
        """Rename a reference's key; refuses a key in use (ignoring case)."""
        from citetool.keys import is_valid_key
        if not is_valid_key(new):
            raise UsageError(f"not a usable citation key: {new!r} (letters, digits and _:.+- only)")
        with self.store.locked():
            records = self.store.load_fresh()
            old = self.resolve_key(old, records)
            if new.lower() != old.lower() and any(k.lower() == new.lower() for k in records):
                raise UsageError(f"key {new!r} is already used in {self.path}")
            rec = records.pop(old)
            rec["id"] = new
            records[new] = rec
            self.store.save(records)
            self._written(records)
        return old

    def import_files(self, files: Iterable[tuple[str, str]], resolve: bool = False) -> tuple[list[Outcome], list[str]]:
        """Import ``(name, text)`` files (BibTeX, RIS, CSL-JSON). Every entry goes
        through the merge engine; a malformed entry is reported and skipped.
        With ``resolve``, entries carrying a DOI are enriched from the DOI
        sources first (the file's own values still count as the user's where
        they differ). Returns (one outcome per entry, problems)."""
        from citetool.formats import read
        from citetool.ingest import Placer
        from citetool.merge import now_iso

        entries = []
        problems: list[str] = []
        for name, text in files:
            found, trouble = read(name, text)
            entries += [(name, e) for e in found]
            problems += trouble
        enriched: dict[str, list[Found]] = {}
        if resolve:
            enriched, trouble = self._look_up_dois([e.record["DOI"] for _, e in entries if e.record.get("DOI")])
            problems += [f"{name}:{e.line}: not enriched: {trouble[e.record['DOI']]}"
                         for name, e in entries if e.record.get("DOI") in trouble]
        outcomes = []
        with self.store.locked():
            records = self.store.load_fresh()
            placer = Placer(records, self._index_of(records), now_iso())
            for name, entry in entries:
                label = f"{name}:{entry.line}" + (f" ({entry.key})" if entry.key else "")
                outcomes.append(placer.imported(label, name, entry.record, entry.key,
                                                enriched.get(entry.record.get("DOI"), [])))
            if entries:
                self.store.save(records)
            self._written(records)
        return outcomes, problems

    def _look_up_dois(self, dois: list[str]) -> tuple[dict[str, list[Found]], dict[str, str]]:
        """What the sources say of each DOI (batched): ({doi: found}, {doi: why not})."""
        from citetool.identifiers import Identifier

        found: dict[str, list[Found]] = {}
        failed: dict[str, str] = {}
        idents = [Identifier("doi", doi, doi) for doi in sorted(set(dois))]
        self._lookup({}).run(idents, deliver=lambda ident, got, notes: found.__setitem__(ident.value, got),
                             fail=lambda ident, reason: failed.__setitem__(ident.value, reason))
        return found, failed
