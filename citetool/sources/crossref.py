"""The Crossref source: DOIs (batched list queries) and ISBNs (the ``isbn``
filter, the whole book rather than a chapter) answered by the client
(:mod:`citetool.sources.crossref_client`) and mapped to records
(:mod:`citetool.sources.crossref_mapping`)."""

from __future__ import annotations

from citetool.errors import LookupFailed, NotFound
from citetool.findings import FOUND_NEWS
from citetool.record import META, Record
from citetool.sources.crossref_client import CACHE_MAX_AGE, CrossrefClient
from citetool.sources.crossref_mapping import work_to_record
from citetool.sources.crossref_news import findings

SOURCE = "crossref"


BOOK_TYPES = ("book", "monograph", "edited-book", "reference-book")


def pick_book(items: list[dict], isbn: str) -> dict | None:
    """The whole book (not one of its chapters) among Crossref's works for an ISBN."""
    import re

    for item in items:
        listed = item.get("ISBN")
        isbns = {re.sub(r"[^0-9Xx]", "", i) for i in (listed if isinstance(listed, list) else [listed])
                 if isinstance(i, str)}
        if item.get("type") in BOOK_TYPES and isbn in isbns:
            return item
    return None


class CrossrefSource:
    """DOIs (batched) and books by ISBN (Crossref's ``isbn`` filter, the whole book)."""

    name = SOURCE

    def __init__(self, settings, http):
        from citetool.cache import Cache  # start-up: loaded only when needed

        age = settings.cache_max_age if settings.cache_max_age is not None else CACHE_MAX_AGE
        self.client = CrossrefClient(settings, Cache(settings.cache_path(), "crossref", age), http)

    def found(self, message: dict, asked: str):
        """The work as a record; what Crossref's answer says happened to the work
        (``updated-by``: a retraction...) rides along as findings under
        :data:`citetool.findings.FOUND_NEWS` (the placer reads it; it is never stored)."""
        record = work_to_record(message)
        news = findings(message) if message.get("updated-by") else []
        if news:
            record.setdefault(META, {})[FOUND_NEWS] = {"source": SOURCE, "findings": news}
        return [(SOURCE, asked, record)]

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        dois = {i.value: i for i in idents if i.kind == "doi"}

        def arrived(doi, value):
            if not isinstance(value, LookupFailed):
                try:
                    found = self.found(value, doi)
                except LookupFailed as exc:  # a work of the wrong shape: that DOI fails, the batch goes on
                    value = exc
                else:
                    on_result(dois[doi], found=found)
                    return
            on_result(dois[doi], error=value)

        if dois:
            self.client.fetch_many(list(dois), offline=offline, fresh=fresh, on_result=arrived)
        for ident in (i for i in idents if i.kind == "isbn"):
            if offline:
                on_result(ident, error=LookupFailed(f"cannot look up ISBN {ident.value} offline"))
                continue
            items = self.client.query_list({"filter": f"isbn:{ident.value}", "rows": "20"}, what=f"ISBN {ident.value}")
            book = pick_book(items, ident.value)
            if book is None:
                on_result(ident, error=NotFound(f"ISBN {ident.value} not found in Crossref"))
                continue
            try:
                found = self.found(book, book["DOI"] if isinstance(book.get("DOI"), str) else ident.value)
            except LookupFailed as exc:
                on_result(ident, error=exc)
            else:
                on_result(ident, found=found)

    def refetch(self, asked: str) -> Record:
        return work_to_record(self.client.fetch(asked, fresh=True))

    def refetch_many(self, asked: list[str], on_answer=None) -> dict:
        """DOIs again as ``add`` asks for them (list queries, then single
        look-ups for what a list left out), never from the cache."""
        answers: dict = {}

        def arrived(doi, value):
            if not isinstance(value, LookupFailed):
                try:
                    value = work_to_record(value)
                except LookupFailed as exc:  # a work of the wrong shape: that DOI fails
                    value = exc
            answers[doi] = value
            if on_answer:
                on_answer()

        self.client.fetch_many(sorted(set(asked)), fresh=True, on_result=arrived)
        return answers
