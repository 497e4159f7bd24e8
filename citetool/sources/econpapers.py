"""EconPapers, the page of a RePEc handle: its ``citation_*`` meta tags give
title, authors, journal, volume, issue, pages, year, DOI, abstract and publisher.

EconPapers is asked politely: at most one request every
``CITETOOL_REPEC_INTERVAL`` seconds (default 1), a bounded back-off on 503
(honouring ``Retry-After``), pages cached on disk for 30 days. When the page
cannot be had, the handle source still gives a reference, and a note says so.
"""

from __future__ import annotations

import threading
import time

from citetool.errors import LookupFailed, NotFound
from citetool.identifiers import normalise_doi
from citetool.identifiers.repec import Handle, parse_handle
from citetool.record import META, Record
from citetool.record_input import parse_date, parse_name
from citetool.sources.repec_handle import CSL_TYPE, handle_ids, kind_of
from citetool.text import clean_paragraphs, clean_text

SOURCE = "econpapers"
PAGE_MAX_AGE = 30 * 24 * 3600
RETRIES_503 = 3
MAX_BYTES = 5 * 1024 * 1024


def page_record(html: str, handle: Handle) -> Record:
    """Map an EconPapers (or IDEAS) abstract page's ``citation_*`` tags to a record."""
    from citetool.sources.webpage import meta_tags  # start-up: loaded only when needed

    tags = meta_tags(html)
    one = {}
    for name, content in tags:
        one.setdefault(name, content)
    kind = kind_of(handle)
    rec: Record = {"type": CSL_TYPE[kind], "URL": handle.persistent_link}
    title = clean_text(one.get("citation_title"))
    if title:
        rec["title"] = title
    people = [clean_text(c) for n, c in tags if n == "citation_author"]
    if not people and one.get("citation_authors"):
        people = [clean_text(p) for p in one["citation_authors"].split(";")]
    authors = [parse_name(p) for p in people if p]
    if any(authors):
        rec["author"] = [a for a in authors if a]
    container = clean_text(one.get("citation_journal_title"))
    if container:
        rec["container-title" if kind == "article" else "collection-title"] = container
    for tag, field in (("citation_volume", "volume"), ("citation_issue", "issue"),
                       ("citation_publisher", "publisher"), ("citation_issn", "ISSN"),
                       ("citation_isbn", "ISBN"), ("dc.language", "language"),
                       ("citation_technical_report_number", "number"), ("wp-number", "number")):
        value = clean_text(one.get(tag))
        if value and field not in rec:
            rec[field] = value
    first, last = clean_text(one.get("citation_firstpage")), clean_text(one.get("citation_lastpage"))
    if first:
        rec["page"] = f"{first}-{last}" if last and last != first else first
    date = parse_date(one.get("citation_publication_date") or one.get("citation_date") or one.get("citation_year") or "")
    if date:
        rec["issued"] = date

    doi = normalise_doi(one.get("citation_doi") or "")
    if doi:
        rec["DOI"] = doi.lower()
    abstract = clean_paragraphs(one.get("citation_abstract"))
    if abstract:
        rec["abstract"] = abstract
    if kind == "paper":
        rec.setdefault("genre", "Working paper")
    rec[META] = {"ids": handle_ids(handle)}
    return rec


class EconPapersSource:
    """Fetches EconPapers persistent-link pages, politely, through the cache."""

    name = SOURCE
    _lock = threading.Lock()
    _last_request = 0.0  # shared by every instance: one polite pace per process

    def __init__(self, settings, http):
        from citetool.cache import Cache  # start-up: loaded only when needed

        self.settings = settings
        self.http = http
        self.cache = Cache(settings.cache_path(), "econpapers", PAGE_MAX_AGE)

    def url(self, handle: Handle) -> str:
        return f"{self.settings.repec_url}/{handle.text}"

    def _wait_turn(self) -> None:
        with EconPapersSource._lock:
            wait = EconPapersSource._last_request + self.settings.repec_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            EconPapersSource._last_request = time.monotonic()

    def fetch(self, handle: Handle, fresh: bool = False) -> str:
        """The page's HTML (from the cache unless ``fresh``); raises NotFound or SourceUnavailable."""
        url = self.url(handle)
        cached = None if fresh else self.cache.get(url)
        if cached is not None:
            return cached
        answer = self.http.get(url, service="EconPapers", what=handle.text, max_bytes=MAX_BYTES,
                               retry_on=(503,), retries=RETRIES_503, pace=self._wait_turn,
                               backoff_base=max(self.settings.repec_interval, self.settings.retry_base))
        if answer.status == 404:
            raise NotFound(f"not found on EconPapers: {handle.text}")
        if answer.status != 200:
            raise answer.failed()
        text = answer.text()
        self.cache.put(url, text)
        return text

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            handle = ident.handle
            if offline:
                cached = self.cache.get(self.url(handle), any_age=True)
                on_result(ident, found=[(SOURCE, handle.text, page_record(cached, handle))] if cached else [])
                continue
            try:
                on_result(ident, found=[(SOURCE, handle.text, page_record(self.fetch(handle, fresh), handle))])
            except LookupFailed as exc:  # no page: the handle alone makes no reference (see citetool.lookup)
                on_result(ident, error=exc)

    def refetch(self, asked: str) -> Record:
        handle = parse_handle(asked)
        return page_record(self.fetch(handle, fresh=True), handle)
