"""The Python API: a :class:`Library` is a store plus its transactions.

Everything the command line does goes through here (``from citetool import
Library``). It names no source: :mod:`citetool.lookup` asks the registry of
:mod:`citetool.sources`; :mod:`citetool.ingest` places records. Look-ups happen
before the store is locked; merging and saving under the lock, on a fresh read
of the store, in one atomic write per transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from citetool.checked_stores import CheckedVersions
from citetool.config import Settings, resolve_store_path
from citetool.errors import KeyNotInStore, UsageError
from citetool.findings import UPDATES, retraction_notes
from citetool.formats import read_entries, render, sniff
from citetool.keys import invalid_key_reason, keys_in_use, nearest_keys, sorted_keys, unique_key
from citetool.outcome import Outcome
from citetool.record import META, Record, date_notes, indefinite, plainly_dated
from citetool.record import aliases as record_aliases
from citetool.selection import Filters
from citetool.store import Store

if TYPE_CHECKING:  # commands that only read start fast: what writes is imported where it is used
    from citetool.bibliography import Bibliography
    from citetool.lookup import Answer
    from citetool.updates import CheckResult, Upgrade


@dataclass
class Exported:
    """What an export made: the text, the references in it (in order), and the
    warnings for the user (retracted works, conflicts a merge left, dates that
    are not dates), one line each."""

    text: str
    records: list[Record]
    warnings: list[str]


def warnings_about(records: list[Record], dates: bool = True, retracted: list[str] | None = None) -> list[str]:
    """What a user must hear about references being written, the same for
    ``export`` and ``bib``: retracted works or of concern (from the stored check;
    ``retracted``: those notes, if the caller has them already), conflicts a git
    merge left (ours is written), and dates that are not dates (``dates``: when
    the references are written at all)."""
    from citetool.merge_conflicts import UNRESOLVED, unresolved_problems  # start-up: loaded only when needed

    def may_warn(rec: Record) -> bool:  # a cheap test: most references have nothing to warn of
        meta = rec.get(META)
        if meta is not None and (type(meta) is not dict or UPDATES in meta or UNRESOLVED in meta):
            return True
        return not plainly_dated(rec)

    records = [rec for rec in records if may_warn(rec)]  # the notes are those of these alone, in order
    retracted = retraction_notes(records) if retracted is None else retracted
    return (retracted + [f"{p} (ours is exported)" for p in unresolved_problems(records)]
            + ([note for rec in records for note in date_notes(rec)] if dates else []))


class Library:
    def __init__(self, path: str | Path | None = None, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        memory = CheckedVersions(lambda: self.settings.cache_path() / "checked-stores.json", self.REMEMBER_CHECKS_FROM)
        self.store = Store(resolve_store_path(path), self.settings.lock_timeout, memory)
        self._records: dict[str, Record] | None = None
        self._sources = None
        self._index: tuple[dict, dict[str, str]] | None = None  # (records it indexes, index)
        self._checked_records: dict[str, Record] | None = None  # the records whose shape was checked last
        # the records known sound as they are now (checked, or known so, and changed since only by
        # transactions that checked what they changed): only from them does add vouch for the file it writes
        self._sound_records: dict[str, Record] | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, settings: Settings | None = None) -> Library:
        return cls(path, settings)

    @property
    def sources(self):
        """The metadata sources (:class:`citetool.sources.Sources`), built on first use."""
        from citetool.sources import Sources  # start-up: loaded only when needed

        self._sources = self._sources or Sources(self.settings)
        return self._sources

    def lookup(self, index: dict[str, str] | None = None, offline: bool = False, fresh: bool = False):
        """A :class:`~citetool.lookup.Lookup` over the sources (``index``: identity keys already stored)."""
        from citetool.lookup import Lookup  # start-up: loaded only when needed

        return Lookup(self.sources, (index or {}).__contains__, offline=offline, fresh=fresh)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def records(self) -> dict[str, Record]:
        """All references by key (loaded once, on first use)."""
        if self._records is None:
            self._records = self._checked(self.store.load_fresh())
        return self._records

    # Bytes of a store file (~1,000 references): a smaller one is checked in less time
    # (~3 µs a reference) than the code fingerprint and the memory of checks take.
    REMEMBER_CHECKS_FROM = 1_000_000

    def _checked(self, records: dict[str, Record]) -> dict[str, Record]:
        """``records`` once their shape is checked (a hand edit: a list for a title, a number for a
        DOI): StoreError (exit 4) naming the reference and the field, before any command trips on it.
        A file known sound (:mod:`citetool.checked_stores`) is not checked again."""
        from citetool.record_shape import check_fields  # start-up: loaded only when needed

        if records is not self._checked_records:  # the same records read again: checked already
            read = self.store.read_version
            if not (self.store.read_known_sound and read is not None and read[0] is records):
                check_fields(records.values())
                self.store.remember_read_sound(records)
            self._checked_records = self._sound_records = records
        return records

    def _index_of(self, records: dict[str, Record]) -> dict[str, str]:
        """The identity index of ``records``, built once per loaded store (writers keep it up to date)."""
        from citetool.merge import IdentityIndex  # start-up: loaded only when needed

        if self._index is None or self._index[0] is not records:
            self._index = (records, IdentityIndex(records))
        return self._index[1]

    def resolve_key(self, key: str, records: dict[str, Record] | None = None) -> str:
        """The stored key equal to ``key`` ignoring case, else the reference having it among its
        aliases (its other keys: from a git merge, an import), else the reference whose DOI
        ``key`` is; KeyNotInStore if none."""
        records = self.records if records is None else records
        if key in records:
            return key
        try:
            return self.key_finder(records)(key)
        except KeyNotInStore as exc:
            closest = self.closest_keys(key, records)
            if closest:
                raise KeyNotInStore(f"{exc.message} (closest: {', '.join(closest)})") from None
            raise

    def key_finder(self, records: dict[str, Record] | None = None) -> Callable[[str], str]:
        """:meth:`resolve_key` for many keys: the keys and aliases of ``records``
        indexed once (a manuscript citing 1,000 keys the store lacks)."""
        records = self.records if records is None else records
        by_key: dict[str, str] = {}
        for key in records:
            by_key.setdefault(key.lower(), key)
        by_alias: dict[str, str] = {}
        for key, rec in records.items():
            for alias in self.aliases(rec):
                by_alias.setdefault(alias.lower(), key)

        def find(key: str) -> str:
            lowered = key.lower()
            found = key if key in records else by_key.get(lowered) or by_alias.get(lowered)
            if found is None and lowered.startswith("10."):  # \cite{10.1257/aer.20161492}: the work with that DOI
                found = self._index_of(records).get("doi:" + lowered)
            if found is None:
                raise KeyNotInStore(f"no reference with key {key!r} in {self.path}")
            return found

        return find

    def closest_keys(self, key: str, records: dict[str, Record] | None = None, n: int = 3) -> list[str]:
        """Stored keys (and aliases) nearest to ``key``, ignoring case and accents."""
        return nearest_keys([key], self.records if records is None else records, n)[0]

    aliases = staticmethod(record_aliases)  # a reference's other keys

    def get(self, key: str) -> Record:
        """One reference, its shape checked (only its own: ``show`` reads one reference of the store)."""
        from citetool.record_shape import check_fields  # start-up: loaded only when needed

        records = self._records if self._records is not None else self.store.load_fresh()
        record = records[self.resolve_key(key, records)]
        check_fields([record])
        return record

    def select(self, keys: Iterable[str] | None = None, filters: Filters | None = None) -> list[Record]:
        """The references named (all if none) that pass ``filters``, sorted by key."""
        keys = list(keys or [])
        records = self.records
        chosen = sorted_keys({self.resolve_key(k) for k in keys} if keys else records)
        filters = filters or Filters()
        span = filters.year_range()  # validates even when the store is empty
        if filters == Filters():  # no filter: nothing to test
            return [records[k] for k in chosen]
        return [records[k] for k in chosen if filters.matches(records[k], span)]

    def export(self, fmt: str, keys: Iterable[str] | None = None, filters: Filters | None = None,
               style: str | None = None, unicode: bool = False,
               progress: Callable[[int, int], None] | None = None) -> Exported:
        """Render references; ``style`` (a CSL style name or .csl file) for html and text;
        ``unicode``: bibtex and biblatex in UTF-8 as is (for biber, LuaLaTeX, pandoc);
        ``progress(done, total)`` while a style formats them."""
        records = self.select(keys, filters)
        return Exported(self.render(fmt, records, style, unicode=unicode, progress=progress), records,
                        warnings_about(records))

    def bib(self, keys: Iterable[str], fmt: str = "bibtex", style: str | None = None, unicode: bool = False,
            offline: bool = False, render: bool = True, progress: Callable[[int, int], None] | None = None) -> Bibliography:
        """The bibliography of a manuscript's cited ``keys`` (see :func:`citetool.bibliography.build`):
        identifier keys looked up and stored, each reference under the key as cited; its
        ``warnings`` are those of :meth:`export` and what citing by these keys brings."""
        from citetool.bibliography import build  # start-up: only `bib` needs it

        result = build(self, keys, fmt=fmt, style=style, unicode=unicode, offline=offline, render=render,
                       progress=progress)
        result.retracted = retraction_notes(result.records)
        result.warnings = result.notes + warnings_about(result.records, dates=result.text is not None,
                                                        retracted=result.retracted)
        return result

    def check(self, keys: Iterable[str] | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[list[CheckResult], list[str]]:
        """Ask Crossref what happened to the stored works since (retractions, corrections,
        published versions) and store what it says (see :func:`citetool.updates.check`).
        Returns (one result per reference, problems: list queries that failed)."""
        from citetool.updates import check  # start-up: only `check` needs it

        return check(self, list(keys) if keys else None, progress=progress)

    def upgrade(self, keys: Iterable[str] | None = None, dry_run: bool = False,
                progress: Callable[[int, int], None] | None = None) -> tuple[list[Upgrade], list[str]]:
        """Preprints whose published version Crossref knows become it (see
        :func:`citetool.updates.upgrade`). Returns (one plan per preprint, problems)."""
        from citetool.updates import upgrade  # start-up: only `upgrade` needs it

        return upgrade(self, list(keys) if keys else None, dry_run=dry_run, progress=progress)

    # References: a smaller export renders in less time than the cache takes to
    # load (its module, the user cache dir, its file: ~5 ms, ~40 µs an entry saved).
    EXPORT_CACHE_FROM = 100
    STYLED_CACHE_FROM = 20  # a CSL style renders ~1 ms a reference

    def render(self, fmt: str, records: list[Record], style: str | None = None, unicode: bool = False,
               progress: Callable[[int, int], None] | None = None) -> str:
        """Render ``records`` as they are (in this order, under their ``id``); entries
        rendered by earlier runs come from the export cache (``settings.export_cache``)
        when there are :attr:`EXPORT_CACHE_FROM` references or more. ``progress(done, total)``
        as a styled bibliography (the slow one: ~1 ms a reference) renders."""
        if style and fmt not in ("html", "text"):
            raise UsageError("--style goes with --format html or text")
        cache = None
        if self.settings.export_cache and len(records) >= (self.STYLED_CACHE_FROM if style else self.EXPORT_CACHE_FROM):
            from citetool.formats.entry_cache import EntryCache  # start-up: loaded only when needed

            stored = self._checked_records or {}
            cache = EntryCache(self.settings.cache_path() / "exports",
                               checked=lambda rec: stored.get(rec.get("id")) is rec)  # the store's own, checked
        if style:
            from citetool.formats import styles  # start-up: loaded only when needed

            return (styles.render_html if fmt == "html" else styles.render_text)(records, style, progress, cache)

        return render(fmt, records, unicode=unicode, cache=cache)

    SAVE_EVERY = 2.0  # seconds: a long batch run saves as it goes
    # Characters of import files from which the references an import places are held
    # packed (citetool.packed: a fifteenth of their memory as dicts, ~40 µs each here): ~10,000 entries.
    PACK_IMPORT_FROM = 8_000_000

    @contextmanager
    def transaction(self, save: bool | Callable[[], bool] = True, reindex: bool = False, packed: bool = False,
                    only_placed: bool = False):
        """Under the lock, a :class:`~citetool.ingest.Placer` over a fresh read, saved atomically at
        the end (``save``: whether, or what says so at the end); ``reindex`` after changes the Placer
        does not index (keys renamed or removed, edits); ``packed``: the Placer's records are a
        :class:`~citetool.packed.PackedRecords` (a large import: see there), dropped at the end;
        ``only_placed``: the references the Placer made or changed (``Placer.touched``) are the
        only ones changed, so when they pass the shape check (and the others were known sound:
        no earlier transaction of this Library changed them unchecked) the file written is
        remembered sound (:mod:`citetool.checked_stores`), and the next command does not check it all."""
        from citetool.ingest import Placer  # start-up: loaded only when needed
        from citetool.keypattern import key_maker  # start-up: loaded only when needed
        from citetool.merge import now_iso  # start-up: loaded only when needed

        with self.store.locked():
            records = self._checked(self.store.load_fresh())  # re-read only if another process wrote meanwhile
            index = self._index_of(records)
            if packed:
                from citetool.packed import PackedRecords  # start-up: loaded only when needed

                records = index.records = PackedRecords(records)  # the index reads them from now on,
                self._index = None  # and is this import's only
            placer = Placer(records, index, now_iso(), key_maker(self.settings.key_pattern))
            sound_before, self._sound_records = self._sound_records is records, None  # (until known sound again)
            yield placer
            if save() if callable(save) else save:
                self.store.save(records)
                if only_placed and not packed and sound_before and _all_shaped(records, placer.touched):
                    self.store.remember_written_sound()
                    self._sound_records = records
            self._records = None if packed else records  # packed: what reads next reads the file
        if reindex or packed:
            self._index = None

    def add(self, inputs: Iterable[str], refresh: bool = False, offline: bool = False,
            progress: Callable[[int, int], None] | None = None, typed: bool = True) -> list[Outcome]:
        """Resolve identifiers (or references written out) and store their references. What is
        stored costs no request unless ``refresh``; DOIs go in batches; a failure never stops the
        others; successes are saved as the run goes, so an interrupted run keeps what was done.
        ``typed=False`` for inputs found in a document: their web addresses must be public."""
        from citetool.lookup import plan  # start-up: loaded only when needed

        inputs = list(inputs)
        index = self._index_of(self.records)
        todo = plan(inputs, index, again=refresh, typed=typed)
        arrived: list[tuple[int, Answer]] = []  # found, not yet placed in the store
        answered: set[int] = set()  # the inputs whose answer (or failure) came
        saved_at, done = time.monotonic(), 0
        try:
            for answer in self.lookup(index, offline, fresh=refresh).answers(list(todo.jobs)):
                position = todo.jobs[answer.ident]
                answered.add(position)
                if answer.error is not None:
                    todo.outcomes[position] = Outcome(inputs[position], "failed", error=answer.error)
                else:
                    arrived.append((position, answer))
                done += 1
                if progress:
                    progress(done, len(todo.jobs))
                if time.monotonic() - saved_at >= self.SAVE_EVERY:
                    waiting = min((i for i in todo.jobs.values() if i not in answered), default=None)
                    self._place(inputs, arrived, todo.outcomes, before=waiting)
                    saved_at = time.monotonic()
        finally:  # also on Ctrl-C: keep what was fetched
            self._place(inputs, arrived, todo.outcomes)
        return todo.in_order(inputs)

    def _place(self, inputs: list[str], arrived: list[tuple[int, Answer]], outcomes: dict[int, Outcome],
               before: int | None = None) -> None:
        """Merge what ``add`` found into the store, in one transaction, in the order of
        the inputs whatever the order of the answers, so the same inputs get the same
        keys (two works that would both be ``anonnd`` get ``anonnd`` and ``anonnda`` by
        their place in the input). ``before``: only the inputs before this position
        (those whose earlier inputs have all been answered); the placed leave ``arrived``."""
        arrived.sort(key=lambda item: item[0])
        ready = [item for item in arrived if before is None or item[0] < before]
        if not ready:
            return
        with self.transaction(only_placed=True) as placer:
            for position, answer in ready:
                outcomes[position] = placer.found(inputs[position], answer.ident.key, answer.found)
                outcomes[position].notes = [*answer.notes, *outcomes[position].notes]
        del arrived[:len(ready)]

    def add_manual(self, record: Record) -> Outcome:
        """Store a reference typed by the user (all fields theirs); refused if its type lacks fields."""
        from citetool.record_input import missing_fields  # start-up: loaded only when needed

        missing = missing_fields(record)
        if missing:
            raise UsageError(f"{indefinite(str(record.get('type')))} needs {', '.join(missing)} "
                             "(give --title, --author, --year or --set FIELD=VALUE)")
        with self.transaction() as placer:
            return placer.manual(record.get("title", "manual entry"), record)

    def refresh(self, keys: Iterable[str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
        """Ask each reference's sources again (never the cache; Crossref in list queries) and merge;
        the user's fields are never touched. Outcomes: "updated" (fields changed), "present"
        (nothing changed), "skipped" (no source made it: imported or typed in, nothing to
        ask), "failed". ``progress(done, total)`` as answers arrive."""
        from citetool.lookup import refetch  # start-up: loaded only when needed

        targets = self.select(keys)
        fetched, failed, unasked = refetch(self.sources, targets, progress)
        outcomes = {key: Outcome(key, "failed", key=key, error=why) for key, why in failed.items()}
        outcomes.update((key, Outcome(key, "skipped", key=key)) for key in unasked)
        if any(fetched.values()):
            with self.transaction() as placer:
                for key, found in fetched.items():
                    outcomes[key] = (placer.refreshed(key, found) if key in placer.records else
                                     Outcome(key, "failed", key=key, error=f"{key}: removed meanwhile"))
        return [outcomes.get(r["id"]) or Outcome(r["id"], "present", key=r["id"]) for r in targets]

    def remove(self, keys: Iterable[str]) -> list[str]:
        """Remove the references named; all must exist (else nothing is removed)."""
        with self.transaction(reindex=True) as placer:
            resolved = [self.resolve_key(k, placer.records) for k in keys]
            for key in resolved:
                placer.records.pop(key, None)
        return resolved

    def edit(self, key: str, values: dict[str, object]) -> tuple[str, list[str]]:
        """Set fields (value None unsets): each becomes the user's, which no
        source will overwrite. Returns (key, changed fields)."""
        from citetool.merge import set_user_field  # start-up: loaded only when needed
        from citetool.record_shape import field_problem  # start-up: loaded only when needed

        for name, value in values.items():  # the user's values enter here: the one shape check, as for a source's
            problem = None if value is None else field_problem(name, value)
            if problem:
                raise UsageError(f"the value given for {name!r} {problem}; nothing changed")
        with self.transaction(save=False, reindex=True) as placer:
            key = self.resolve_key(key, placer.records)
            changed = [f for f, v in values.items() if set_user_field(placer.records[key], f, v)]
            if changed:
                self.store.save(placer.records)
        return key, changed

    def rekey(self, old: str, new: str) -> str:
        """Rename a reference's key; refuses a key in use (ignoring case)."""
        why = invalid_key_reason(new)
        if why:
            raise UsageError(f"not a usable citation key: {new!r} {why}")
        with self.transaction(reindex=True) as placer:
            records = placer.records
            old = self.resolve_key(old, records)
            if new.lower() in keys_in_use({k: r for k, r in records.items() if k != old}):
                raise UsageError(f"key {new!r} is already used in {self.path} (as a key or an alias)")
            records[new] = records.pop(old)
            records[new]["id"] = new
        return old

    def rekey_by_pattern(self, keys: Iterable[str], pattern: str) -> list[tuple[str, str]]:
        """Give the references named the keys ``pattern`` makes (citetool.keypattern), each old
        key kept as an alias (a manuscript citing it still finds the work). Returns (old, new)
        for each reference, in the order named; new is old when the pattern gives it again."""
        from citetool.keypattern import compile_pattern  # start-up: loaded only when needed

        make = compile_pattern(pattern)
        renamed: list[tuple[str, str]] = []
        with self.transaction(reindex=True) as placer:
            records = placer.records
            for old in dict.fromkeys(self.resolve_key(k, records) for k in keys):
                record = records[old]
                taken = keys_in_use({k: r for k, r in records.items() if k != old}) | {a.lower() for a in self.aliases(record)}
                wanted = make(record)
                new = old if wanted.lower() == old.lower() else unique_key(wanted, taken)
                if new != old:
                    meta = record.setdefault(META, {})
                    meta["aliases"] = [*[a for a in self.aliases(record) if a.lower() != new.lower()], old]
                    records[new] = records.pop(old)
                    record["id"] = new
                renamed.append((old, new))
        return renamed

    def resolve_conflict(self, key: str, field: str, take: str) -> tuple[str, object]:
        """Settle the conflict a git merge left on ``field`` of ``key``: ``take``
        is "ours", "theirs" or a value (see :func:`citetool.merge_conflicts.settle`).
        Returns (key, the value kept; None if the field is now absent)."""
        from citetool.merge_conflicts import settle  # start-up: loaded only when needed

        with self.transaction(reindex=True) as placer:
            key = self.resolve_key(key, placer.records)
            return key, settle(placer.records[key], field, take)

    def import_files(self, files: Iterable[tuple[str, str]], resolve: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> tuple[list[Outcome], list[str]]:
        """Import ``(name, text)`` files (BibTeX, RIS, CSL-JSON); a malformed entry
        is reported and skipped. ``resolve``: entries with a DOI are enriched from
        the DOI sources first (``progress(done, total)`` as they are answered).
        Returns (one outcome per entry, problems). Entries are read and placed
        one at a time; a large import holds what it places packed (see
        :mod:`citetool.packed`)."""
        from citetool.ingest import bulk  # start-up: loaded only when needed

        with bulk():  # many records made at once
            return self._import_files(files, resolve, progress)

    def _import_files(self, files: Iterable[tuple[str, str]], resolve: bool,
                      progress: Callable[[int, int], None] | None) -> tuple[list[Outcome], list[str]]:
        problems: list[str] = []
        readings = []
        macros: dict[str, str] = {}  # @string macros: a .bib file may use those of a file before it
        size = 0
        for name, text in files:
            size += len(text)  # every file checked, and its malformed blocks found, before the store is locked
            found, trouble = read_entries(name, text, macros)
            readings.append((name, sniff(name, text) == "csl-json", found, trouble))
        entries = _shaped_entries(readings, problems)
        if resolve:  # every DOI asked at once: the entries are all read first
            entries = list(entries)
            enriched, trouble = self.lookup().dois([e.record["DOI"] for _, e in entries if e.record.get("DOI")],
                                                   progress)
            problems += [f"{name}:{e.line}: not enriched: {trouble[e.record['DOI']]}"
                         for name, e in entries if e.record.get("DOI") in trouble]
            with self.transaction(save=bool(entries)) as placer:
                outcomes = [placer.imported(name, entry, enriched.get(entry.record.get("DOI"), []))
                            for name, entry in entries]
            return outcomes, problems
        outcomes = []
        # an entry at a time; a large import packs each reference once placed: memory near the files' size
        with self.transaction(save=lambda: bool(outcomes), packed=size >= self.PACK_IMPORT_FROM) as placer:
            _place_each(placer, entries, outcomes)
        return outcomes, problems


def _all_shaped(records: dict[str, Record], keys: set[str]) -> bool:
    """Whether the references of ``keys`` pass the checks a store read makes: their shape, their key."""
    from citetool.record_shape import record_problem  # start-up: loaded only when needed

    return all(key in records and invalid_key_reason(key) is None and record_problem(records[key]) is None
               for key in keys)


def _place_each(placer, entries, outcomes: list[Outcome]) -> None:
    """Place each of ``entries`` (file name, entry) as it comes, its outcome added to
    ``outcomes``; packed references: what it made or changed packed at once (nothing holds an entry after)."""
    settle = getattr(placer.records, "settle", None)
    for name, entry in entries:
        outcomes.append(placer.imported(name, entry, []))
        if settle is not None:
            settle()


def _shaped_entries(readings, problems: list[str]):
    """(file name, entry) for each entry of ``readings`` (file name, whether it is CSL-JSON,
    its entries, its problems) that passes the one shape check, as for a source's record
    (a wrong type is never stored); as each file ends, its problems, then those of its
    entries that failed the check, go to ``problems``."""
    from citetool.record_shape import record_problem  # start-up: loaded only when needed

    for name, numbered, found, trouble in readings:
        failed = []
        for e in found:
            problem = record_problem(e.record)
            if problem:  # JSON: the item's number, not a line
                where = f"{name}: entry {e.line}" if numbered else f"{name}:{e.line}"
                failed.append(f"{where}{f' ({e.key})' if e.key else ''}: the field {problem[0]!r} {problem[1]}; "
                              "skipped")
            else:
                yield name, e
        problems += trouble + failed
