"""``check`` and ``upgrade``: what happened to the stored works since they were
published (retractions, expressions of concern, corrections, new versions,
a preprint's published version), and turning a preprint into its published
version.

What a check learns is stored in the reference's ``citetool`` field, so that
``show``, ``list --flagged`` and the retraction warning of ``export`` need no
request::

    "citetool": {"updates": {"source": "crossref", "found": "2026-11-23T10:00:00Z",
                             "findings": [{"kind": "retraction", "doi": "10.…", "date": "2010-02-06",
                                           "source": "retraction-watch", "type": "retraction", ...}]}}

Only references with findings carry ``updates``; ``found`` is when the current
findings were first seen (a check that learns nothing new writes nothing).
An upgraded preprint keeps its old DOI under ``citetool.relations``::

    "relations": [{"type": "preprint", "DOI": "10.1101/097196"}]
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from citetool.errors import CitetoolError
from citetool.findings import RELATIONS, SERIOUS, UPDATES, stored_findings
from citetool.identifiers import Identifier
from citetool.record import META, Record, relations

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from citetool.lookup import Lookup
    from citetool.sources import Sources
    from citetool.store import Store

Progress = Callable[[int, int], None] | None  # progress(done, total)


class Library(Protocol):
    """What checking and upgrading use of :class:`citetool.library.Library`
    (named here, not imported: the engine does not import the API above it)."""

    sources: Sources
    store: Store
    records: dict[str, Record]

    def select(self, keys: list[str] | None = None) -> list[Record]: ...

    def transaction(self, save: bool = True, reindex: bool = False) -> AbstractContextManager: ...

    def lookup(self) -> Lookup: ...

# --- check ---------------------------------------------------------------------


@dataclass
class CheckResult:
    """What a check found for one reference."""

    key: str
    doi: str | None
    status: str  # "flagged" | "ok" | "unchecked"
    findings: list[dict] = field(default_factory=list)
    reason: str | None = None  # why it was not checked

    @property
    def serious(self) -> bool:
        return any(f.get("kind") in SERIOUS for f in self.findings)

    def as_dict(self) -> dict:
        out = {"key": self.key, "doi": self.doi, "status": self.status, "findings": self.findings}
        if self.reason:
            out["reason"] = self.reason
        return out


def _ask(lib: Library, records: list[Record], progress: Progress = None,
         ) -> tuple[dict[str, list[dict]], set[str], list[str]]:
    dois = [r["DOI"] for r in records if r.get("DOI")]
    if not dois:
        return {}, set(), []
    return lib.sources.news(dois, progress)


def _store_findings(lib: Library, answers: dict[str, list[dict]], keys: list[str]) -> None:
    """Record the findings (under the lock, on a fresh read); write only if something changed."""
    from citetool.merge import now_iso  # start-up: loaded only when needed

    with lib.transaction(save=False, reindex=True) as placer:
        if _note_findings(placer.records, answers, keys, now_iso()):
            lib.store.save(placer.records)


def _note_findings(records: dict[str, Record], answers: dict[str, list[dict]], keys: list[str], when: str) -> bool:
    """Put the findings on the references ``keys`` of ``records``; whether anything changed."""
    from citetool.sources import NEWS_SOURCE  # start-up: loaded only when needed

    changed = False
    for key in keys:
        rec = records.get(key)
        doi = (rec or {}).get("DOI")
        if not doi or doi.lower() not in answers:
            continue
        found = answers[doi.lower()]
        if stored_findings(rec) == found:
            continue
        meta = rec.setdefault(META, {})
        if found:
            meta[UPDATES] = {"source": NEWS_SOURCE, "found": when, "findings": copy.deepcopy(found)}
        else:
            meta.pop(UPDATES, None)
        changed = True
    return changed


def check(lib: Library, keys: list[str] | None = None,
          progress: Progress = None) -> tuple[list[CheckResult], list[str]]:
    """Ask Crossref again about the stored DOIs (all, or ``keys``): one
    ``filter=doi:`` list query per 100 DOIs, never the cache. Stores what it
    learns. Returns (one result per reference, problems: list queries that failed);
    ``progress(done, total)`` counts the DOIs asked about."""
    records = lib.select(keys)
    answers, unasked, problems = _ask(lib, records, progress)
    _store_findings(lib, answers, [r["id"] for r in records])
    results = []
    for rec in records:
        doi = rec.get("DOI")
        if not doi:
            results.append(CheckResult(rec["id"], None, "unchecked", reason="no DOI"))
        elif doi.lower() not in answers:
            reason = "Crossref could not be asked" if doi.lower() in unasked else "not in Crossref"
            results.append(CheckResult(rec["id"], doi, "unchecked", reason=reason))
        else:
            found = answers[doi.lower()]
            results.append(CheckResult(rec["id"], doi, "flagged" if found else "ok", found))
    return results, problems


# --- upgrade -------------------------------------------------------------------


@dataclass
class Upgrade:
    """What ``upgrade`` did (or, with --dry-run, would do) to one reference."""

    key: str
    preprint: str
    published: str | None = None
    status: str = "upgraded"  # "upgraded" | "would-upgrade" | "failed"
    changes: list[tuple[str, object, object]] = field(default_factory=list)  # (field, before, after)
    error: str | None = None

    def as_dict(self) -> dict:
        out = {"key": self.key, "status": self.status, "preprint": self.preprint, "published": self.published,
               "changed": [c[0] for c in self.changes]}
        if self.error:
            out["error"] = self.error
        return out


def upgraded_record(old: Record, published: Record, source: str, asked: str, when: str) -> Record:
    """``old`` (a preprint or working paper) become its published version:
    the published work's metadata, the same key, the user's own fields (and
    their edit time, aliases and any other citetool data) kept, the old DOI
    (and RePEc handle) kept as a ``preprint`` relation."""
    from citetool.merge import USER, new_reference  # start-up: loaded only when needed

    new = new_reference(published, source, asked, when)
    new["id"] = old["id"]
    old_meta = old.get(META, {})
    meta = new[META]
    for fld, owner in old_meta.get("fields", {}).items():
        if owner != USER or fld == "DOI":  # a DOI the user gave the preprint is the relation now
            continue
        meta["fields"][fld] = USER
        if fld in old:
            new[fld] = copy.deepcopy(old[fld])
        else:  # the user had removed it: stays removed
            new.pop(fld, None)
    for name, value in old_meta.items():
        if name not in ("fields", "sources", "conflicts", "ids", UPDATES, RELATIONS, "added"):
            meta.setdefault(name, copy.deepcopy(value))
    meta["added"] = old_meta.get("added", when)
    relation = {"type": "preprint", "DOI": old["DOI"]}
    handle = old_meta.get("ids", {}).get("repec")
    if handle:
        relation["repec"] = handle
    kept = [r for r in relations(old) if r.get("DOI") != old["DOI"]]
    meta[RELATIONS] = kept + [relation]
    return new


def _changes(old: Record, new: Record) -> list[tuple[str, object, object]]:
    from citetool.merge import bibliographic_fields  # start-up: loaded only when needed

    before, after = bibliographic_fields(old), bibliographic_fields(new)
    return [(f, before.get(f), after.get(f)) for f in sorted(set(before) | set(after)) if before.get(f) != after.get(f)]


def upgrade(lib: Library, keys: list[str] | None = None, dry_run: bool = False,
            progress: Progress = None) -> tuple[list[Upgrade], list[str]]:
    """Preprints (and working papers) whose Crossref record says
    ``is-preprint-of`` become their published version (see :func:`upgraded_record`).
    Asks Crossref about the selected DOIs as ``check`` does (and stores what it
    learns, unless ``dry_run``), then fetches each published DOI. Returns
    (one plan per preprint found, problems: list queries that failed);
    ``progress(done, total)`` counts the DOIs asked about, then the published
    versions fetched."""
    from citetool.merge import now_iso  # start-up: loaded only when needed

    records = lib.select(keys)
    asked = sum(1 for r in records if r.get("DOI"))
    answers, _, problems = _ask(lib, records, progress)
    stored_dois = {(r.get("DOI") or "").lower(): r["id"] for r in lib.records.values() if r.get("DOI")}
    plans: list[Upgrade] = []
    for rec in records:
        doi = (rec.get("DOI") or "").lower()
        published = next((f["doi"] for f in answers.get(doi, []) if f.get("kind") == "published-version"), None)
        if published:
            plans.append(Upgrade(rec["id"], rec["DOI"], published))
    when = now_iso()
    new_records: dict[str, tuple] = {}
    for fetched, plan in enumerate(plans):
        if progress:
            progress(asked + fetched, asked + len(plans))
        if plan.published in stored_dois:
            plan.status, plan.error = "failed", (
                f"{plan.key}: its published version {plan.published} is already stored as {stored_dois[plan.published]}")
            continue
        try:
            source, asked, record = lib.lookup().one(Identifier("doi", plan.published, plan.published))[0]
        except CitetoolError as exc:
            plan.status, plan.error = "failed", f"{plan.key}: cannot fetch its published version: {exc}"
            continue
        got = (record.get("DOI") or "").lower()
        if got == plan.preprint.lower():
            plan.status, plan.error = "failed", f"{plan.key}: Crossref's published version of it is itself ({got})"
            continue
        if stored_dois.get(got, plan.key) != plan.key:  # the published record's own DOI is stored already
            plan.status, plan.error = "failed", (
                f"{plan.key}: its published version {got} is already stored as {stored_dois[got]}")
            continue
        new = upgraded_record(lib.records[plan.key], record, source, asked, when)
        plan.changes = _changes(lib.records[plan.key], new)
        plan.status = "would-upgrade" if dry_run else "upgraded"
        new_records[plan.key] = (source, asked, record)
        stored_dois[plan.published] = stored_dois[got] = plan.key  # two preprints of one article: the first becomes it
    if not dry_run:
        # One write, once everything was fetched: what was learnt and the upgrades (a reference
        # whose upgrade failed is left as it was: its findings come again with the next try).
        failed = {p.key for p in plans if p.status == "failed"}
        preprint_of = {p.key: p.preprint.lower() for p in plans}
        with lib.transaction(save=False, reindex=True) as placer:
            records_now = placer.records
            changed = _note_findings(records_now, answers, [r["id"] for r in records if r["id"] not in failed], when)
            for key, (source, asked, record) in new_records.items():
                # on the fresh read (unless another process changed that reference's DOI meanwhile,
                # or stored the published version under another key: one DOI, one reference)
                published = (record.get("DOI") or "").lower()
                elsewhere = any((r.get("DOI") or "").lower() == published for k, r in records_now.items() if k != key)
                if (records_now.get(key, {}).get("DOI") or "").lower() == preprint_of[key] and not elsewhere:
                    records_now[key] = upgraded_record(records_now[key], record, source, asked, when)
                    changed = True
            if changed:
                lib.store.save(records_now)
    return plans, problems
