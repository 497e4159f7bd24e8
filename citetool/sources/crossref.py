"""Crossref REST API (``/works/{doi}``, ``/works?filter=...`` list queries), and
the mapping of a Crossref work to the internal CSL-JSON record.

Date rule (documented in the README): a journal article printed in an issue
takes the year of ``published-print`` (the year that goes with its volume and
issue); everything else takes the first of ``issued``, ``published``,
``published-print``, ``published-online``, ``posted``, ``approved``,
``content-created`` that has a year. ``[[null]]`` dates are skipped.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

from citetool.errors import LookupFailed, NotFound, SourceUnavailable
from citetool.findings import FOUND_NEWS
from citetool.identifiers import doi_route, doi_url
from citetool.record import META, Record
from citetool.sources.crossref_news import findings
from citetool.text import clean_paragraphs, clean_text

SOURCE = "crossref"

# Crossref work type -> CSL item type.
CSL_TYPE = {
    "journal-article": "article-journal",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "proceedings": "book",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "book-track": "chapter",
    "reference-entry": "entry-encyclopedia",
    "proceedings-article": "paper-conference",
    "posted-content": "article",
    "report": "report",
    "report-series": "report",
    "report-component": "report",
    "dataset": "dataset",
    "database": "dataset",
    "dissertation": "thesis",
    "peer-review": "review",
    "standard": "standard",
    "journal": "periodical",
    "journal-issue": "periodical",
    "journal-volume": "periodical",
    "component": "document",
    "grant": "document",
    "other": "document",
}

_DATE_FALLBACK = ("issued", "published", "published-print", "published-online",
                  "posted", "approved", "content-created")


def _parts(value: Any) -> list[int]:
    if not isinstance(value, dict):
        return []
    rows = value.get("date-parts") or []
    first = rows[0] if rows and isinstance(rows[0], list) else []
    out = []
    for p in first:
        if p is None:
            break
        try:
            out.append(int(p))
        except (TypeError, ValueError):
            break
    return out


def choose_date(work: dict) -> list[int]:
    """The date parts citetool stores as ``issued`` (see the module docstring)."""
    if work.get("type") == "journal-article" and (work.get("volume") or work.get("issue")):
        printed = _parts(work.get("published-print"))
        if printed:
            return printed
    for key in _DATE_FALLBACK:
        parts = _parts(work.get(key))
        if parts:
            return parts
    return []


def _name(person: dict) -> dict | None:
    out: dict[str, str] = {}
    if person.get("family") or person.get("given"):
        for src, dst in (("family", "family"), ("given", "given"), ("suffix", "suffix")):
            value = clean_text(person.get(src))
            if value:
                out[dst] = value
        if "family" not in out:  # a given name alone: keep it as the family name
            out["family"] = out.pop("given")
    elif person.get("name"):
        out["literal"] = clean_text(person["name"])
    else:
        return None
    orcid = person.get("ORCID")
    if orcid:
        out["ORCID"] = "https://orcid.org/" + orcid.rstrip("/").rsplit("/", 1)[-1]
    return out


def _names(people: Any) -> list[dict]:
    if not isinstance(people, list):
        return []
    return [n for n in (_name(p) for p in people if isinstance(p, dict)) if n]


def _first(value: Any) -> str:
    if isinstance(value, list):
        for v in value:
            text = clean_text(v) if isinstance(v, str) else ""
            if text:
                return text
        return ""
    return clean_text(value) if isinstance(value, str) else ""


def _unique(values: Any) -> list[str]:
    seen: list[str] = []
    for v in values or []:
        if isinstance(v, str) and v.strip() and v.strip() not in seen:
            seen.append(v.strip())
    return seen


# The shape of the parts of a Crossref work citetool reads (Crossref's schema).
_TEXT_FIELDS = ("type", "subtype", "DOI", "URL", "page", "publisher", "publisher-location", "abstract", "language")
_NUMBER_FIELDS = ("volume", "issue", "article-number")  # text, or a number
_TEXTS_FIELDS = ("title", "subtitle", "short-title", "container-title", "short-container-title", "degree",
                 "ISSN", "ISBN")  # lists of text (one text accepted)
_PEOPLE_FIELDS = ("author", "editor", "translator")
_PERSON_PARTS = ("given", "family", "name", "suffix", "ORCID")
_UPDATE_FIELDS = ("updated-by", "update-to")


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _institutions(work: dict) -> Any:
    """The work's institutions, as Crossref's schema has them (a list). Some
    records (bioRxiv preprints, OSTI reports, APA datasets) carry one object
    instead of a list of one: a harmless odd shape, read as that list."""
    institutions = work.get("institution")
    return [institutions] if isinstance(institutions, dict) else institutions


def work_problem(work: Any) -> str | None:
    """The first part of a Crossref work of the wrong shape ("container-title",
    "author[2].given"), None when every part citetool reads has its shape."""
    if not isinstance(work, dict):
        return "the work"
    for name in _TEXT_FIELDS:
        if not _is_text(work.get(name)):
            return name
    for name in _NUMBER_FIELDS:
        value = work.get(name)
        if not (_is_text(value) or (isinstance(value, (int, float)) and not isinstance(value, bool))):
            return name
    for name in _TEXTS_FIELDS:
        value = work.get(name)
        if not (_is_text(value) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            return name
    for name in _PEOPLE_FIELDS:
        people = work.get(name)
        if people is None:
            continue
        if not isinstance(people, list):
            return name
        for n, person in enumerate(people, start=1):
            if not isinstance(person, dict):
                return f"{name}[{n}]"
            part = next((p for p in _PERSON_PARTS if not _is_text(person.get(p))), None)
            if part:
                return f"{name}[{n}].{part}"
    institutions = _institutions(work)
    if institutions is not None and not (isinstance(institutions, list) and all(
            isinstance(i, dict) and _is_text(i.get("name")) for i in institutions)):
        return "institution"
    event = work.get("event")
    if event is not None and not (isinstance(event, dict) and _is_text(event.get("name"))
                                  and _is_text(event.get("location"))):
        return "event"
    for name in _DATE_FALLBACK:
        date = work.get(name)
        if date is not None and not (isinstance(date, dict) and isinstance(date.get("date-parts", []), list)):
            return name
    for name in _UPDATE_FIELDS:
        entries = work.get(name)
        if entries is not None and not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
            return name
    relation = work.get("relation")
    if relation is not None:
        if not isinstance(relation, dict):
            return "relation"
        for name, entries in relation.items():
            if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
                return f"relation.{name}"
    return None


def wrong_shape(work: Any, part: str) -> SourceUnavailable:
    doi = work.get("DOI") if isinstance(work, dict) else None
    what = doi if isinstance(doi, str) else "a work"
    return SourceUnavailable(f"Crossref answered {what} of the wrong shape: {part}")


def check_work(work: Any) -> dict:
    """``work`` when each part citetool reads has Crossref's shape; else
    SourceUnavailable naming the part (that work fails, the others go on)."""
    part = work_problem(work)
    if part:
        raise wrong_shape(work, part)
    return work


def work_to_record(work: dict) -> Record:
    """Map a Crossref ``message`` (one work) to a CSL-JSON record (without ``id``);
    SourceUnavailable for a work of the wrong shape (see :func:`work_problem`)."""
    check_work(work)
    try:
        return _work_to_record(work)
    except (TypeError, AttributeError, ValueError) as exc:  # a shape work_problem does not know yet
        raise wrong_shape(work, f"{type(exc).__name__}: {exc}") from None


def _work_to_record(work: dict) -> Record:
    ctype = work.get("type") or "other"
    rec: Record = {"type": CSL_TYPE.get(ctype, "document")}

    title = _first(work.get("title"))
    subtitle = _first(work.get("subtitle"))
    if subtitle and subtitle.lower() not in title.lower():
        title = f"{title}: {subtitle}" if title else subtitle
    if title:
        rec["title"] = title
    short = _first(work.get("short-title"))
    if short and short != title:
        rec["title-short"] = short

    for role in ("author", "editor", "translator"):
        people = _names(work.get(role))
        if people:
            rec[role] = people

    containers = [clean_text(c) for c in work.get("container-title") or [] if isinstance(c, str)]
    containers = [c for c in containers if c]
    if containers:
        rec["container-title"] = containers[0]
        if len(containers) > 1 and rec["type"] in ("chapter", "paper-conference", "book"):
            rec["collection-title"] = containers[1]
    short_container = _first(work.get("short-container-title"))
    if short_container and short_container != rec.get("container-title"):
        rec["container-title-short"] = short_container

    for src in ("volume", "issue"):
        value = clean_text(str(work[src])) if work.get(src) else ""
        if value:
            rec[src] = value
    page = clean_text(work.get("page")) if isinstance(work.get("page"), str) else ""
    if page:
        rec["page"] = page.replace("\u2013", "-")
    if work.get("article-number"):
        rec["number"] = clean_text(str(work["article-number"]))

    parts = choose_date(work)
    if parts:
        rec["issued"] = {"date-parts": [parts]}

    publisher = clean_text(work.get("publisher")) if isinstance(work.get("publisher"), str) else ""
    institutions = [i.get("name") for i in _institutions(work) or [] if isinstance(i, dict)]
    institutions = [clean_text(i) for i in institutions if i]
    if ctype in ("dissertation", "report", "posted-content") and institutions:
        # CSL keeps the degree-granting / issuing institution (or preprint server) in `publisher`.
        rec["publisher"] = institutions[0]
    elif publisher:
        rec["publisher"] = publisher
    place = work.get("publisher-location")
    if isinstance(place, str) and clean_text(place):
        rec["publisher-place"] = clean_text(place)
    if ctype == "dissertation":
        degree = _first(work.get("degree"))
        rec["genre"] = degree or "Thesis"
    if ctype == "posted-content" and work.get("subtype") == "preprint":
        rec["genre"] = "Preprint"
    event = work.get("event")
    if isinstance(event, dict) and event.get("name"):
        rec["event-title"] = clean_text(event["name"])
        if event.get("location"):
            rec["event-place"] = clean_text(event["location"])

    issn = _unique(work.get("ISSN"))
    if issn:
        rec["ISSN"] = ", ".join(issn)
    isbn = _unique(work.get("ISBN"))
    if isbn:
        rec["ISBN"] = ", ".join(isbn)

    doi = work.get("DOI")
    if isinstance(doi, str) and doi:
        rec["DOI"] = doi.lower()
        rec["URL"] = doi_url(rec["DOI"])
    elif isinstance(work.get("URL"), str):
        rec["URL"] = work["URL"]

    abstract = clean_paragraphs(work.get("abstract")) if isinstance(work.get("abstract"), str) else ""
    if abstract:
        rec["abstract"] = abstract
    language = work.get("language")
    if isinstance(language, str) and language.strip():
        rec["language"] = language.strip()
    return rec


CACHE_MAX_AGE = 7 * 24 * 3600  # a week: CITETOOL_CACHE_MAX_AGE overrides
MAX_URL = 4000  # characters in one list query's URL: a length every proxy accepts
MAX_BATCH = 100  # DOIs in one list query
RETRIES = 5
RETRY_ON = (429, 500, 502, 503, 504)
MAX_WORK_BYTES = 10 * 1024 * 1024  # one work (a few have thousands of references)
MAX_LIST_BYTES = 100 * 1024 * 1024  # a list of up to 100 works
SERVICE = "Crossref"


class CrossrefClient:
    """Fetches works from the Crossref REST API, through the shared HTTP session.

    * One DOI: ``/works/{doi}``, the DOI quoted (SICI DOIs hold ``<>;()[]:``).
    * Many DOIs: ``/works?filter=doi:A,doi:B,...&rows=N`` list queries, each URL
      under ``MAX_URL`` characters, a bounded number in flight, then single
      look-ups for whatever a batch did not return.
    * Limits: the polite pool's (10 single and 3 list requests a second, 3 in
      flight) with ``CITETOOL_MAILTO``, the public pool's (5, 1, 1) without;
      tightened by the server's ``x-rate-limit-*``/``x-concurrency-limit``
      headers; 429 answered by a shared pause (``Retry-After`` or exponential
      back-off with jitter); 429 and 5xx retried a bounded number of times.
    * Answers are cached on disk (one file per DOI), so adding again makes no
      request; ``offline`` uses the cache alone, ``fresh`` bypasses it.
    """

    def __init__(self, settings, cache=None, http=None):
        from citetool.ratelimit import Limiter
        from citetool.sources.http import Http

        self.settings = settings
        self.cache = cache
        self.http = http or Http(settings)
        polite = bool(settings.mailto)
        concurrency = settings.crossref_concurrency or (3 if polite else 1)
        self.singles = Limiter(settings.crossref_rate or (10 if polite else 5), 1.0, concurrency)
        self.lists = Limiter(settings.crossref_list_rate or (3 if polite else 1), 1.0, concurrency)

    # --- the cache -------------------------------------------------------------

    def _cached(self, doi: str, any_age: bool = False) -> dict | None:
        if self.cache is None:
            return None
        text = self.cache.get("work:" + doi.lower(), any_age=any_age)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    def remember(self, message: dict, *asked: str) -> None:
        """Cache a work (under its DOI and the spellings it was asked by)."""
        if self.cache is None:
            return
        text = json.dumps(message, ensure_ascii=False)
        for doi in {d.lower() for d in asked + (message["DOI"],)}:
            self.cache.put("work:" + doi, text)

    # --- one DOI -----------------------------------------------------------------

    def fetch(self, doi: str, offline: bool = False, fresh: bool = False) -> dict:
        """The Crossref ``message`` for ``doi``; raises NotFound or SourceUnavailable."""
        cached = None if fresh and not offline else self._cached(doi, any_age=offline)
        if cached is not None:
            return cached
        if offline:
            raise SourceUnavailable(f"{doi} is not in the cache (offline)")
        message = self._fetch_one(doi)
        self.remember(message, doi)
        return message

    def _fetch_one(self, doi: str) -> dict:
        url = doi_route(f"{self.settings.crossref_url}/works", doi)
        answer = self.http.get(url, service=SERVICE, what=doi, max_bytes=MAX_WORK_BYTES,
                               limiter=self.singles, retry_on=RETRY_ON, retries=RETRIES)
        if answer.status == 404:
            raise NotFound(f"not found in Crossref: {doi}")
        if answer.status != 200:
            raise answer.failed()
        envelope = answer.json()
        message = envelope.get("message") if isinstance(envelope, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("DOI"), str):
            raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {doi}")
        return message

    # --- many DOIs ---------------------------------------------------------------

    def batches(self, dois: list[str]) -> list[list[str]]:
        """Split ``dois`` so each list query stays under MAX_URL characters and MAX_BATCH DOIs."""
        base = len(self.settings.crossref_url) + len("/works?rows=100&filter=")
        out: list[list[str]] = []
        current: list[str] = []
        length = base
        for doi in dois:
            cost = len(quote("doi:" + doi, safe="")) + 3  # the comma, encoded
            if current and (length + cost > MAX_URL or len(current) >= MAX_BATCH):
                out.append(current)
                current, length = [], base
            current.append(doi)
            length += cost
        if current:
            out.append(current)
        return out

    def _fetch_list(self, batch: list[str]) -> dict[str, dict]:
        """One list query: {doi lower: message} for the works Crossref returned."""
        params = {"filter": ",".join("doi:" + d for d in batch), "rows": str(len(batch))}
        items = self.query_list(params)
        return {i["DOI"].lower(): i for i in items if isinstance(i, dict) and isinstance(i.get("DOI"), str)}

    def query_list(self, params: dict, strict: bool = False, what: str = "a list query") -> list[dict]:
        """The items of one ``/works`` list query (never cached). When it fails:
        [] (callers fall back), or SourceUnavailable with ``strict``."""
        try:
            answer = self.http.get(self.settings.crossref_url + "/works", service=SERVICE, what=what, params=params,
                                   max_bytes=MAX_LIST_BYTES, limiter=self.lists, retry_on=RETRY_ON, retries=RETRIES)
            if answer.status != 200:
                raise answer.failed()
            try:
                items = answer.json()["message"]["items"]
            except (KeyError, TypeError):
                raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {what}") from None
            if not isinstance(items, list):
                raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {what}")
        except LookupFailed as exc:
            if strict:
                raise SourceUnavailable(f"Crossref list query failed: {exc}") from None
            return []
        return [i for i in items if isinstance(i, dict)]

    def fetch_many(self, dois: list[str], offline: bool = False, fresh: bool = False, on_result=None) -> dict:
        """{doi: message or LookupFailed} for every DOI; ``on_result(doi, value)`` as each arrives."""
        from concurrent.futures import ThreadPoolExecutor

        results: dict = {}
        lock = threading.Lock()

        def done(doi, value):
            with lock:
                results[doi] = value
            if on_result:
                on_result(doi, value)

        remaining = []
        for doi in dois:
            cached = None if fresh and not offline else self._cached(doi, any_age=offline)
            if cached is not None:
                done(doi, cached)
            elif offline:
                done(doi, SourceUnavailable(f"{doi} is not in the cache (offline)"))
            else:
                remaining.append(doi)
        if not remaining:
            return results

        def one(doi):
            try:
                done(doi, self.fetch(doi, fresh=fresh))
            except LookupFailed as exc:
                done(doi, exc)

        workers = max(self.lists.concurrency, self.singles.concurrency)
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            leftovers: list[str] = []
            if len(remaining) > 1:
                def batch_job(batch):
                    found = self._fetch_list(batch)
                    for doi in batch:
                        message = found.get(doi.lower())
                        if message is None:
                            leftovers.append(doi)
                        else:
                            self.remember(message, doi)
                            done(doi, message)

                list(pool.map(batch_job, self.batches(remaining)))
            else:
                leftovers = remaining
            list(pool.map(one, leftovers))
        except BaseException:  # Ctrl-C: stop asking, keep what arrived
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        return results

    def close(self) -> None:
        self.http.close()


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
        from citetool.cache import Cache

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
