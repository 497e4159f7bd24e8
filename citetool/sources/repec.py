"""RePEc: a record from a handle and RePEc's own series/archive tables
(offline), and from the EconPapers page of the handle (online).

EconPapers is asked politely: a descriptive User-Agent, at most one request
every ``CITETOOL_REPEC_INTERVAL`` seconds (default 1), a bounded back-off on
503 (honouring ``Retry-After``), and pages cached on disk for 30 days.
Its ``citation_*`` meta tags give title, authors, journal, volume, issue,
pages, year, DOI, abstract and publisher.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import threading
import time
from functools import cache
from importlib import resources

from citetool.errors import NotFound, SourceUnavailable
from citetool.record import META, Record, parse_date, parse_name
from citetool.repec import Handle
from citetool.text import clean_paragraphs, clean_text

HANDLE_SOURCE = "repec-handle"
PAGE_SOURCE = "econpapers"
PAGE_MAX_AGE = 30 * 24 * 3600
RETRIES_503 = 3

# RePEc template type -> CSL type.
CSL_TYPE = {"article": "article-journal", "paper": "report", "book": "book", "chapter": "chapter",
            "software": "software"}


@cache
def _table(name: str) -> dict[str, dict]:
    raw = resources.files("citetool").joinpath("data", name).read_bytes()
    rows = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")), delimiter="\t")
    key = "series_handle" if "series" in name else "archive_handle"
    return {row[key].lower(): row for row in rows}


def series_info(handle: Handle) -> dict | None:
    """{name, type, provider, issn} of the handle's series, from RePEc's 2017 tables."""
    return _table("repec-series-2017.tsv.gz").get(handle.series_handle.lower())


def archive_name(handle: Handle) -> str | None:
    row = _table("repec-archives-2017.tsv.gz").get(f"repec:{handle.archive}")
    return row["name"] if row else None


def kind_of(handle: Handle) -> str:
    """article, paper, book, chapter or software: what the URL said, then what
    the item's shape says for sure, then RePEc's series table, then guesses."""
    if handle.kind_hint:
        return handle.kind_hint
    info = series_info(handle) or {}
    table = info.get("type") if info.get("type") in CSL_TYPE else None
    series = handle.series.lower()
    if handle.volume or handle.year:
        return "chapter" if table == "chapter" or series.endswith(("chp", "chap")) else "article"
    if re.search(r"vol\.?_", handle.item, re.IGNORECASE) and re.search(r"no\.?_", handle.item, re.IGNORECASE):
        return "article"  # pjd_2005_vol._xxxii_no._2-c
    if handle.archive == "boc":
        return "software"  # Boston College: SSC components and Stata datasets
    if table:
        return table
    if series.endswith(("chp", "chap")):
        return "chapter"
    if handle.isbn and not handle.chapter:
        return "book"
    return "paper"


def handle_record(handle: Handle) -> Record:
    """What the handle and the tables alone say (``--offline``). Every value is
    a hint: real metadata from any other source overrides it."""
    kind = kind_of(handle)
    info = series_info(handle) or {}
    rec: Record = {"type": CSL_TYPE[kind], "URL": handle.persistent_link}
    series_name = info.get("name")
    provider = info.get("provider") or archive_name(handle)
    if kind == "article":
        if series_name:
            rec["container-title"] = series_name
        for key, value in (("volume", handle.volume), ("issue", handle.issue), ("page", handle.pages),
                           ("number", handle.article_number)):
            if value:
                rec[key] = value
        if info.get("issn"):
            rec["ISSN"] = info["issn"]
    else:
        if series_name:
            rec["collection-title"] = series_name
        if kind in ("paper", "software") and handle.number:
            rec["number"] = handle.number
        if kind == "paper":
            rec["genre"] = "Working paper"
        if handle.isbn:
            rec["ISBN"] = handle.isbn
        if handle.chapter:
            rec["chapter-number"] = handle.chapter
    if provider:
        rec["publisher"] = provider
    if handle.year:
        rec["issued"] = {"date-parts": [[handle.year]]}
    if handle.doi:
        rec["DOI"] = handle.doi.lower()
    rec[META] = {"ids": _ids(handle)}
    return rec


def _ids(handle: Handle) -> dict:
    ids = {"repec": handle.text}
    if handle.rebuilt:
        ids["repec-rebuilt"] = "from an IDEAS URL: colons and case restored by rule"
    return ids


# --- the EconPapers page -------------------------------------------------------------

def page_record(html: str, handle: Handle) -> Record:
    """Map an EconPapers (or IDEAS) abstract page's ``citation_*`` tags to a record."""
    from citetool.sources.webpage import meta_tags

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
    from citetool.identifiers import normalise_doi

    doi = normalise_doi(one.get("citation_doi") or "")
    if doi:
        rec["DOI"] = doi.lower()
    abstract = clean_paragraphs(one.get("citation_abstract"))
    if abstract:
        rec["abstract"] = abstract
    if kind == "paper":
        rec.setdefault("genre", "Working paper")
    rec[META] = {"ids": _ids(handle)}
    return rec


class EconPapersClient:
    """Fetches EconPapers persistent-link pages, politely, through the cache."""

    _lock = threading.Lock()
    _last_request = 0.0

    def __init__(self, settings, cache):
        self.settings = settings
        self.cache = cache

    def url(self, handle: Handle) -> str:
        return f"{self.settings.repec_url}/{handle.text}"

    def _wait_turn(self) -> None:
        with EconPapersClient._lock:
            wait = EconPapersClient._last_request + self.settings.repec_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            EconPapersClient._last_request = time.monotonic()

    def fetch(self, handle: Handle, fresh: bool = False) -> str:
        """The page's HTML (from the cache unless ``fresh``); raises NotFound or SourceUnavailable."""
        import requests

        url = self.url(handle)
        cached = None if fresh else self.cache.get(url)
        if cached is not None:
            return cached
        headers = {"User-Agent": self.settings.user_agent}
        for attempt in range(RETRIES_503 + 1):
            self._wait_turn()
            try:
                response = requests.get(url, headers=headers, timeout=self.settings.timeout)
            except requests.Timeout:
                raise SourceUnavailable(
                    f"EconPapers did not answer within {self.settings.timeout:g}s for {handle.text}") from None
            except requests.RequestException as exc:
                raise SourceUnavailable(f"cannot reach EconPapers for {handle.text}: {type(exc).__name__}") from None
            if response.status_code == 503 and attempt < RETRIES_503:
                time.sleep(self._retry_after(response, attempt))
                continue
            break
        if response.status_code == 404:
            raise NotFound(f"not found on EconPapers: {handle.text}")
        if response.status_code != 200:
            raise SourceUnavailable(f"EconPapers answered HTTP {response.status_code} for {handle.text}")
        response.encoding = response.encoding or "utf-8"
        text = response.text
        self.cache.put(url, text)
        return text

    def _retry_after(self, response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return min(float(header), 60.0)
        return max(self.settings.repec_interval, 0.05) * (2 ** attempt)
