"""The Python API: a :class:`Library` is a store plus the operations on it.

Everything the command line does goes through here, so the same behaviour is
available to Python code (``from citetool import Library``). Network look-ups
happen before the store is locked; merging and saving happen under the lock,
on a fresh read of the store, in one atomic write per command.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from citetool.config import Settings, resolve_store_path
from citetool.errors import CitetoolError, IdentifierError, KeyNotInStore, LookupFailed, NotFound, UsageError
from citetool.record import META, Record, names, year
from citetool.record import aliases as record_aliases
from citetool.store import Store

if TYPE_CHECKING:
    from citetool.identifiers import Identifier

# Commands that only read (list, show, export) must start fast: the identifier,
# key and merge machinery is imported inside the methods that write.

# (source name, what was asked, the source's record)
Found = tuple[str, str, Record]


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


@dataclass
class Filters:
    """What ``list`` and ``export`` select: CSL types, a year range, a search text."""

    types: list[str] = field(default_factory=list)
    year: str | None = None  # "2021", "2019-2021", "2019-", "-2020"
    search: str | None = None
    flagged: bool = False  # only references a `check` found news about (citetool.updates)

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
            haystack = " ".join([rec.get("title") or ""] + [
                " ".join(str(v) for v in p.values()) for p in people])
            if _fold(self.search) not in _fold(haystack):
                return False
        return True


def _fold(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def _sort_key(key: str) -> tuple[str, str]:
    return (key.lower(), key)


class Library:
    def __init__(self, path: str | Path | None = None, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.store = Store(resolve_store_path(path), self.settings.lock_timeout)
        self._records: dict[str, Record] | None = None
        self._crossref_client = None
        self._econpapers_client = None
        self._doi_org_client = None
        self._index: tuple[dict, dict[str, str]] | None = None  # (records it indexes, index)

    @classmethod
    def open(cls, path: str | Path | None = None, settings: Settings | None = None) -> Library:
        return cls(path, settings)

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
        """The stored key equal to ``key``, ignoring case, else the reference
        that has ``key`` among its aliases (``citetool.aliases``: its other
        keys, e.g. from a git merge); KeyNotInStore if none."""
        records = self.records if records is None else records
        if key in records:
            return key
        lowered = key.lower()
        for existing in records:
            if existing.lower() == lowered:
                return existing
        for existing, rec in records.items():
            if any(alias.lower() == lowered for alias in self.aliases(rec)):
                return existing
        raise KeyNotInStore(f"no reference with key {key!r} in {self.path}")

    aliases = staticmethod(record_aliases)  # a reference's other keys

    def get(self, key: str) -> Record:
        return self.records[self.resolve_key(key)]

    def select(self, keys: Iterable[str] | None = None, filters: Filters | None = None) -> list[Record]:
        """The references named (all if none) that pass ``filters``, sorted by key."""
        keys = list(keys or [])
        records = self.records
        chosen = sorted({self.resolve_key(k) for k in keys} if keys else records, key=_sort_key)
        filters = filters or Filters()
        span = filters.year_range()  # validates even when the store is empty
        if filters == Filters():  # no filter: nothing to test
            return [records[k] for k in chosen]
        return [records[k] for k in chosen if filters.matches(records[k], span)]

    def export(self, fmt: str, keys: Iterable[str] | None = None, filters: Filters | None = None,
               style: str | None = None, unicode: bool = False) -> str:
        """Render references; ``style`` (a CSL style name or .csl file) for html and text;
        ``unicode``: bibtex and biblatex in UTF-8 as is (for biber, LuaLaTeX, pandoc)."""
        return self.render(fmt, self.select(keys, filters), style, unicode=unicode)

    @staticmethod
    def render(fmt: str, records: list[Record], style: str | None = None, unicode: bool = False) -> str:
        """Render ``records`` as they are (in this order, under their ``id``)."""
        if style:
            if fmt not in ("html", "text"):
                raise UsageError("--style goes with --format html or text")
            from citetool.formats import styles

            render_styled = styles.render_html if fmt == "html" else styles.render_text
            return render_styled(records, style)
        from citetool.formats import render

        return render(fmt, records, unicode=unicode)

    # --- sources -----------------------------------------------------------

    def _crossref(self):
        from citetool.cache import Cache
        from citetool.sources.crossref import CACHE_MAX_AGE, CrossrefClient

        if self._crossref_client is None:
            age = self.settings.cache_max_age if self.settings.cache_max_age is not None else CACHE_MAX_AGE
            self._crossref_client = CrossrefClient(self.settings, Cache(self.settings.cache_path(), "crossref", age))
        return self._crossref_client

    def _doi_org(self):
        from citetool.cache import Cache
        from citetool.sources.doi_org import CACHE_MAX_AGE, DoiOrgClient

        if self._doi_org_client is None:
            age = self.settings.cache_max_age if self.settings.cache_max_age is not None else CACHE_MAX_AGE
            self._doi_org_client = DoiOrgClient(self.settings, Cache(self.settings.cache_path(), "doi.org", age))
        return self._doi_org_client

    def _other_agency(self, doi: str, offline: bool) -> Found:
        """A DOI Crossref does not know (DataCite, mEDRA, JaLC...), from doi.org."""
        from citetool.sources.doi_org import SOURCE, csl_to_record

        return (SOURCE, doi, csl_to_record(self._doi_org().fetch(doi, offline=offline)))

    def _econpapers(self):
        from citetool.cache import Cache
        from citetool.sources.repec import PAGE_MAX_AGE, EconPapersClient

        if self._econpapers_client is None:
            cache = Cache(self.settings.cache_path(), "econpapers", PAGE_MAX_AGE)
            self._econpapers_client = EconPapersClient(self.settings, cache)
        return self._econpapers_client

    def _look_up(self, ident: Identifier, index: dict[str, str], offline: bool = False) -> tuple[list[Found], list[str]]:
        """Every source's record for one identifier, most authoritative first,
        and notes for the user. Raises LookupFailed when nothing could be had.
        (``add`` sends DOIs through the batch path; this serves one at a time.)"""
        if ident.kind == "doi":
            return [self._doi_record(ident.value, offline)], []
        if ident.kind == "url":
            return self._look_up_page(ident.value, index, offline)
        if ident.kind == "isbn":
            return self._look_up_isbn(ident.value, offline)
        return self._look_up_handle(ident.handle, index, offline)

    def _look_up_page(self, url: str, index, offline: bool) -> tuple[list[Found], list[str]]:
        """A web page: what it says about itself, and its DOI's record if it names one."""
        from citetool.sources import webpage

        if offline:
            raise LookupFailed(f"cannot fetch the web page {url} offline")
        page = webpage.page_record(webpage.WebClient(self.settings).fetch(url), url)
        results: list[Found] = [(webpage.SOURCE, url, page)]
        notes: list[str] = []
        doi = page.get("DOI")
        if doi and "doi:" + doi not in index:
            try:
                results.insert(0, self._doi_record(doi))
            except LookupFailed as exc:
                notes.append(f"the page names DOI {doi}, but: {exc}")
        return results, notes

    def _look_up_isbn(self, isbn: str, offline: bool) -> tuple[list[Found], list[str]]:
        """A book: Crossref's isbn filter first, then Open Library."""
        from citetool.sources import books
        from citetool.sources.crossref import SOURCE, work_to_record

        if offline:
            raise LookupFailed(f"cannot look up ISBN {isbn} offline")
        book = books.pick_crossref_book(self._crossref().query_list({"filter": f"isbn:{isbn}", "rows": "20"}), isbn)
        if book is not None:
            return [(SOURCE, book["DOI"], work_to_record(book))], []
        data = books.OpenLibraryClient(self.settings).fetch(isbn)
        return [(books.SOURCE, isbn, books.openlibrary_record(data, isbn))], []

    def _doi_record(self, doi: str, offline: bool = False) -> Found:
        """Crossref's record for a DOI, else doi.org's (DataCite, mEDRA...)."""
        from citetool.sources.crossref import SOURCE, work_to_record

        try:
            return (SOURCE, doi, work_to_record(self._crossref().fetch(doi, offline=offline)))
        except NotFound:
            return self._other_agency(doi, offline)

    def _look_up_handle(self, handle, index, offline: bool) -> tuple[list[Found], list[str]]:
        """RePEc: the handle and tables; the EconPapers page; Crossref for its DOI."""
        from citetool.sources import repec

        results: list[Found] = [(repec.HANDLE_SOURCE, handle.text, repec.handle_record(handle))]
        notes: list[str] = []
        client = self._econpapers()
        if offline:
            cached = client.cache.get(client.url(handle), any_age=True)
            if cached is not None:
                results.insert(0, (repec.PAGE_SOURCE, handle.text, repec.page_record(cached, handle)))
            return results, notes
        try:
            page = repec.page_record(client.fetch(handle), handle)
            results.insert(0, (repec.PAGE_SOURCE, handle.text, page))
        except LookupFailed as exc:
            notes.append(f"{exc}; kept what the handle and RePEc's tables say")
        doi = next((r["DOI"] for _, _, r in results if r.get("DOI")), None)
        if doi and "doi:" + doi.lower() not in index:
            try:
                results.insert(0, self._doi_record(doi, offline))
            except LookupFailed as exc:
                notes.append(str(exc))
        return results, notes

    def _refetch(self, source: str, asked: str) -> Record | None:
        """A source's record again, for ``refresh``; None for sources that cannot be asked again."""
        if source == "crossref":
            from citetool.sources.crossref import work_to_record

            return work_to_record(self._crossref().fetch(asked))
        if source == "doi.org":
            return self._other_agency(asked, offline=False)[2]
        if source == "openlibrary":
            from citetool.sources import books

            return books.openlibrary_record(books.OpenLibraryClient(self.settings).fetch(asked), asked)
        if source == "web":
            from citetool.sources import webpage

            return webpage.page_record(webpage.WebClient(self.settings).fetch(asked), asked)
        if source in ("econpapers", "repec-handle"):
            from citetool.repec import parse_handle
            from citetool.sources import repec

            handle = parse_handle(asked)
            if source == "repec-handle":
                return repec.handle_record(handle)
            return repec.page_record(self._econpapers().fetch(handle, fresh=True), handle)
        return None

    # --- writing -----------------------------------------------------------

    SAVE_EVERY = 2.0  # seconds: a long batch run saves as it goes

    def add(self, inputs: Iterable[str], refresh: bool = False, offline: bool = False,
            progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
        """Resolve identifiers and store their references.

        An identifier already stored costs no request unless ``refresh``; DOIs
        are fetched in batches (see CrossrefClient). A failed identifier never
        stops the others; successes are saved as the run goes (every couple of
        seconds and at the end), so an interrupted run keeps what was done.
        """
        from citetool.identifiers import parse_identifier
        from citetool.sources.crossref import SOURCE, work_to_record

        inputs = list(inputs)
        outcomes: list[Outcome | None] = [None] * len(inputs)
        parsed: list[tuple[int, Identifier]] = []
        for i, raw in enumerate(inputs):
            try:
                parsed.append((i, parse_identifier(raw)))
            except IdentifierError as exc:
                outcomes[i] = Outcome(raw, "failed", error=str(exc))

        index = self._index_of(self.records)
        first_of: dict[str, int] = {}
        duplicates: list[tuple[int, int]] = []
        jobs: list[tuple[int, Identifier]] = []
        for i, ident in parsed:
            if ident.key in first_of:
                duplicates.append((i, first_of[ident.key]))
                continue
            first_of[ident.key] = i
            match = index.get(ident.key)
            if match and not refresh:
                outcomes[i] = Outcome(inputs[i], "present", key=match)
            else:
                jobs.append((i, ident))

        pending: list[tuple[int, Identifier, list[Found], list[str]]] = []
        lock = threading.Lock()
        state = {"done": 0, "saved_at": time.monotonic()}

        def flush() -> None:  # caller holds `lock`
            if pending:
                self._save_found(pending, inputs, outcomes)
                pending.clear()
            state["saved_at"] = time.monotonic()

        def arrived(i: int, ident: Identifier, results=None, notes=None, error=None) -> None:
            with lock:
                if error is not None:
                    outcomes[i] = Outcome(inputs[i], "failed", error=error)
                else:
                    pending.append((i, ident, results, notes or []))
                state["done"] += 1
                if progress:
                    progress(state["done"], len(jobs))
                if time.monotonic() - state["saved_at"] >= self.SAVE_EVERY:
                    flush()

        dois = [(i, ident) for i, ident in jobs if ident.kind == "doi"]
        others = [(i, ident) for i, ident in jobs if ident.kind != "doi"]
        try:
            if dois:
                by_doi = {ident.value: (i, ident) for i, ident in dois}

                elsewhere: list[tuple[int, Identifier]] = []

                def on_result(doi, value):
                    i, ident = by_doi[doi]
                    if isinstance(value, NotFound):
                        elsewhere.append((i, ident))  # maybe DataCite, mEDRA, JaLC: ask doi.org
                    elif isinstance(value, CitetoolError):
                        arrived(i, ident, error=str(value))
                    else:
                        arrived(i, ident, [(SOURCE, ident.value, work_to_record(value))])

                self._crossref().fetch_many(list(by_doi), offline=offline, fresh=refresh, on_result=on_result)
                for i, ident in sorted(elsewhere):
                    try:
                        arrived(i, ident, [self._other_agency(ident.value, offline)])
                    except CitetoolError as exc:
                        arrived(i, ident, error=str(exc))
            for i, ident in others:
                try:
                    results, notes = self._look_up(ident, index, offline)
                except CitetoolError as exc:
                    arrived(i, ident, error=str(exc))
                    continue
                arrived(i, ident, results, notes)
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
        from citetool.keys import base_key, keys_in_use, unique_key
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
            key = unique_key(base_key(stored), keys_in_use(records))
            stored["id"] = key
            records[key] = stored
            self.store.save(records)
            self._written(records)
        return Outcome(label, "added", key=key)

    def _save_found(self, found, inputs, outcomes) -> None:
        """Merge looked-up records into the store: one locked, atomic write."""
        from citetool.keys import keys_in_use
        from citetool.merge import now_iso
        with self.store.locked():
            records = self.store.load_fresh()  # re-read only if another process wrote meanwhile
            index = self._index_of(records)
            taken = keys_in_use(records)
            when = now_iso()
            for i, ident, results, notes in found:
                outcomes[i] = self._store_found(records, index, taken, inputs[i], ident, results, when)
                outcomes[i].notes = notes
            self.store.save(records)
            self._records = records

    @staticmethod
    def _store_found(records, index, taken, raw, ident: Identifier, results: list[Found], when) -> Outcome:
        from citetool.keys import base_key, unique_key
        from citetool.merge import find_match, identity_keys, merge_into, new_reference
        match = index.get(ident.key)
        for _, _, record in results:
            match = match or find_match(index, record, records)
        if match:
            changed: list[str] = []
            for source, asked, record in results:
                changed += [f for f in merge_into(records[match], record, source, asked, when) if f not in changed]
            index.update({k: match for k in identity_keys(records[match])})
            return Outcome(raw, "updated" if changed else "present", key=match, changed=changed)
        source, asked, record = results[0]
        combined = new_reference(record, source, asked, when)
        for source, asked, record in results[1:]:
            merge_into(combined, record, source, asked, when)
        key = unique_key(base_key(combined), taken)
        combined["id"] = key
        records[key] = combined
        taken.add(key.lower())
        index.update({k: key for k in identity_keys(combined)})
        index[ident.key] = key
        return Outcome(raw, "added", key=key)

    def refresh(self, keys: Iterable[str] | None = None) -> list[Outcome]:
        """Fetch each reference again from the sources that produced it and merge;
        the user's fields are never touched."""
        from citetool.merge import merge_into, now_iso
        targets = [r["id"] for r in self.select(keys)]
        fetched: dict[str, list[Found]] = {}
        outcomes: dict[str, Outcome] = {}
        for key in targets:
            results = []
            for source, info in sorted(self.records[key].get(META, {}).get("sources", {}).items()):
                try:
                    record = self._refetch(source, info.get("id", ""))
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
                when = now_iso()
                for key, results in fetched.items():
                    if key not in records:
                        outcomes[key] = Outcome(key, "failed", key=key, error=f"{key}: removed meanwhile")
                        continue
                    changed: list[str] = []
                    for source, asked, record in results:
                        changed += [f for f in merge_into(records[key], record, source, asked, when) if f not in changed]
                    outcomes[key] = Outcome(key, "updated" if changed else "present", key=key, changed=changed)
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
        from citetool.keys import is_valid_key, keys_in_use
        if not is_valid_key(new):
            raise UsageError(f"not a usable citation key: {new!r} (letters, digits and _:.+- only)")
        with self.store.locked():
            records = self.store.load_fresh()
            old = self.resolve_key(old, records)
            if new.lower() in keys_in_use({k: r for k, r in records.items() if k != old}):
                raise UsageError(f"key {new!r} is already used in {self.path} (as a key or an alias)")
            rec = records.pop(old)
            rec["id"] = new
            records[new] = rec
            self.store.save(records)
            self._written(records)
        return old

    def resolve_conflict(self, key: str, field: str, take: str) -> tuple[str, object]:
        """Settle the conflict a git merge left on ``field`` of ``key``: ``take``
        is "ours", "theirs" or a value (see :func:`citetool.gitmerge.settle`).
        Returns (key, the value kept; None if the field is now absent)."""
        from citetool.gitmerge import settle
        with self.store.locked():
            records = self.store.load_fresh()
            key = self.resolve_key(key, records)
            value = settle(records[key], field, take)
            self.store.save(records)
            self._written(records)
        return key, value

    def import_files(self, files: Iterable[tuple[str, str]], resolve: bool = False) -> tuple[list[Outcome], list[str]]:
        """Import ``(name, text)`` files (BibTeX, RIS, CSL-JSON). Every entry goes
        through the merge engine; a malformed entry is reported and skipped.
        With ``resolve``, entries carrying a DOI are enriched from Crossref first
        (the file's own values still count as the user's where they differ).
        Returns (one outcome per entry, problems)."""
        from citetool.formats import read
        from citetool.keys import base_key, is_valid_key, keys_in_use, unique_key
        from citetool.merge import (
            IMPORT,
            find_match,
            identity_keys,
            merge_import,
            merge_into,
            new_reference,
            now_iso,
        )

        entries = []
        problems: list[str] = []
        for name, text in files:
            found, trouble = read(name, text)
            entries += [(name, e) for e in found]
            problems += trouble
        enriched: dict[int, Record] = {}
        if resolve:
            from citetool.sources.crossref import work_to_record

            wanted = {entry.record["DOI"] for _, entry in entries if entry.record.get("DOI")}
            answers = self._crossref().fetch_many(sorted(wanted)) if wanted else {}
            for n, (name, entry) in enumerate(entries):
                answer = answers.get(entry.record.get("DOI"))
                if isinstance(answer, CitetoolError):
                    problems.append(f"{name}:{entry.line}: not enriched: {answer}")
                elif answer is not None:
                    enriched[n] = work_to_record(answer)
        outcomes = []
        with self.store.locked():
            records = self.store.load_fresh()
            index = self._index_of(records)
            taken = keys_in_use(records)
            when = now_iso()
            for n, (name, entry) in enumerate(entries):
                label = f"{name}:{entry.line}" + (f" ({entry.key})" if entry.key else "")
                match = find_match(index, entry.record, records)
                if n in enriched:
                    match = match or find_match(index, enriched[n], records)
                if match is None:
                    if n in enriched:
                        stored = new_reference(enriched[n], "crossref", enriched[n]["DOI"], when)
                        merge_import(stored, entry.record, name, when)
                    else:
                        stored = new_reference(entry.record, IMPORT, name, when)
                    own = entry.key if entry.key and is_valid_key(entry.key) else None
                    key = own if own and own.lower() not in taken else unique_key(own or base_key(stored), taken)
                    stored["id"] = key
                    records[key] = stored
                    taken.add(key.lower())
                    index.update({k: key for k in identity_keys(stored)})
                    outcomes.append(Outcome(label, "added", key=key))
                    continue
                changed = []
                if n in enriched:
                    changed += merge_into(records[match], enriched[n], "crossref", enriched[n]["DOI"], when)
                changed += [f for f in merge_import(records[match], entry.record, name, when) if f not in changed]
                index.update({k: match for k in identity_keys(records[match])})
                outcomes.append(Outcome(label, "updated" if changed else "present", key=match, changed=changed))
            if entries:
                self.store.save(records)
            self._written(records)
        return outcomes, problems
