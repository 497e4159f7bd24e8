"""Web pages: fetch a page (through the shared HTTP session: timeouts, a
deadline, a size limit, a polite User-Agent, safe redirects; decoded as the
HTML standard says) and read what it says about itself, best source first:

1. Highwire ``citation_*`` tags (what Google Scholar reads),
2. Dublin Core ``DC.*``/``dcterms.*``,
3. JSON-LD (schema.org Article, NewsArticle, BlogPosting, ScholarlyArticle, Book, WebPage),
4. Open Graph ``og:*`` / ``article:*``,
5. ``<meta name="author">`` and ``<title>`` as the last resort.

The accessed date is recorded. A DOI the page names is returned too, so the
caller can resolve it and merge (Crossref wins for bibliographic fields).
Parsing uses the standard library's HTML parser (tolerant of broken markup)
and the ``json`` module for JSON-LD: no regular expressions over HTML.
"""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser

from citetool.errors import LookupFailed, NotFound, SourceUnavailable
from citetool.identifiers import normalise_doi
from citetool.record import Record
from citetool.record_input import parse_date, parse_name
from citetool.text import clean_paragraphs, clean_text

SOURCE = "web"
MAX_BYTES = 5 * 1024 * 1024
JSONLD_TYPES = {
    "newsarticle": "article-newspaper", "reportagenewsarticle": "article-newspaper",
    "blogposting": "post-weblog", "scholarlyarticle": "article-journal", "book": "book",
    "article": "webpage", "webpage": "webpage", "report": "report", "dataset": "dataset",
}


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.title_parts: list[str] = []
        self.jsonld: list[str] = []
        self.canonical: str | None = None
        self.lang: str | None = None
        self._in_title = False
        self._in_jsonld = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (a.get("name") or a.get("property") or a.get("itemprop") or "").strip().lower()
            content = dict(attrs).get("content")
            if name and content is not None:
                self.meta.append((name, content))
        elif tag == "title":
            self._in_title = True
        elif tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._in_jsonld, self._buffer = True, []
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and a.get("href"):
            self.canonical = a["href"]
        elif tag == "html" and a.get("lang"):
            self.lang = a["lang"]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "script" and self._in_jsonld:
            self.jsonld.append("".join(self._buffer))
            self._in_jsonld = False

    def handle_data(self, data):
        if self._in_title:
            self.title_parts.append(data)
        elif self._in_jsonld:
            self._buffer.append(data)


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def meta_tags(html: str) -> list[tuple[str, str]]:
    """Every ``<meta name|property|itemprop=... content=...>``, names lower-cased, in order."""
    return parse_page(html).meta


def _jsonld_objects(blocks: list[str]) -> list[dict]:
    out = []
    for block in blocks:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            obj = stack.pop(0)
            if isinstance(obj, dict):
                out.append(obj)
                graph = obj.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return out


def _types(obj: dict) -> list[str]:
    t = obj.get("@type", [])
    return [x.lower() for x in (t if isinstance(t, list) else [t]) if isinstance(x, str)]


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [value["name"]] if isinstance(value.get("name"), str) else []
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _person(text: str, organisation: bool = False) -> dict | None:
    text = clean_text(text)
    if not text or text.startswith(("http://", "https://")):
        return None
    if organisation:
        return {"literal": text}
    return parse_name(text)


def page_record(html: str, url: str, today: date | None = None) -> Record:
    """What a page says about itself, as a record (``DOI`` included when named)."""
    parser = parse_page(html)
    meta: dict[str, list[str]] = {}
    for name, content in parser.meta:
        meta.setdefault(name, []).append(content)

    def first(*names):
        for name in names:
            for value in meta.get(name, []):
                if clean_text(value):
                    return clean_text(value)
        return None

    objects = _jsonld_objects(parser.jsonld)
    main = next((o for o in objects if set(_types(o)) & set(JSONLD_TYPES)), {})
    kind = next((JSONLD_TYPES[t] for t in _types(main) if t in JSONLD_TYPES), "webpage")

    rec: Record = {"type": kind}
    title = (first("citation_title", "dc.title", "dcterms.title")
             or clean_text(main.get("headline") or main.get("name") if isinstance(main.get("headline") or main.get("name"), str) else "")
             or first("og:title", "twitter:title") or clean_text("".join(parser.title_parts)))
    if title:
        rec["title"] = title

    authors = [_person(a) for a in meta.get("citation_author", [])]
    if not any(authors):
        authors = [_person(a) for a in meta.get("dc.creator", []) + meta.get("dcterms.creator", [])]
    if not any(authors) and main.get("author"):
        raw = main["author"] if isinstance(main["author"], list) else [main["author"]]
        authors = [_person(n, organisation=isinstance(a, dict) and "organization" in _types(a))
                   for a in raw for n in _names(a)]
    if not any(authors):
        authors = [_person(a) for a in meta.get("article:author", []) + meta.get("author", [])]
    authors = [a for a in authors if a]
    if authors:
        rec["author"] = authors

    when = (first("citation_publication_date", "citation_date", "dc.date", "dcterms.created", "dcterms.date")
            or (main.get("datePublished") if isinstance(main.get("datePublished"), str) else None)
            or first("article:published_time", "og:published_time", "date"))
    issued = parse_date(when) if when else None
    if issued:
        rec["issued"] = issued

    site = (first("citation_journal_title", "og:site_name")
            or next(iter(_names(main.get("publisher"))), None) or first("dc.publisher"))
    if site:
        rec["container-title" if kind in ("article-newspaper", "article-journal", "post-weblog") else "publisher"] = clean_text(site)
    publisher = first("citation_publisher", "dc.publisher") or next(iter(_names(main.get("publisher"))), None)
    if publisher and rec.get("publisher") != clean_text(publisher) and kind != "webpage":
        rec["publisher"] = clean_text(publisher)
    abstract = first("citation_abstract", "dc.description", "description", "og:description")
    if abstract:
        rec["abstract"] = clean_paragraphs(abstract)
    language = first("citation_language", "dc.language") or parser.lang
    if language:
        rec["language"] = clean_text(language)

    for candidate in [first("citation_doi", "dc.identifier", "prism.doi")] + [
            str(main.get("identifier") or ""), str(main.get("sameAs") or "")]:
        doi = normalise_doi(candidate or "")
        if doi:
            rec["DOI"] = doi.lower()
            break
    rec["URL"] = parser.canonical if parser.canonical and parser.canonical.startswith("http") else url
    today = today or date.today()
    rec["accessed"] = {"date-parts": [[today.year, today.month, today.day]]}
    return rec


class WebSource:
    """Any other http(s) address: what the page says about itself."""

    name = SOURCE

    def __init__(self, settings, http):
        self.http = http

    def fetch(self, url: str, typed: bool = True) -> str:
        """The page's HTML; NotFound for 404/410, SourceUnavailable otherwise."""
        from urllib.parse import urlsplit

        host = urlsplit(url).hostname or url
        answer = self.http.get(url, service=host, what=url, accept="text/html,application/xhtml+xml",
                               max_bytes=MAX_BYTES, typed=typed)
        if answer.status in (404, 410):
            raise NotFound(f"no page at {url} (HTTP {answer.status})")
        if answer.status != 200:
            raise SourceUnavailable(f"{url} answered HTTP {answer.status}")
        kind = answer.headers.get("content-type", "text/html").lower()
        if "html" not in kind and "xml" not in kind:
            raise SourceUnavailable(f"{url} is not a web page ({kind.split(';')[0]})")
        return answer.text()

    def read(self, url: str, typed: bool = True) -> Record:
        html = self.fetch(url, typed)
        try:
            return page_record(html, url)
        except RecursionError:  # JSON-LD nested thousands deep
            raise LookupFailed(f"cannot read the page {url}: its JSON-LD is nested too deeply") from None

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            try:
                if offline:
                    raise LookupFailed(f"cannot fetch the web page {ident.value} offline")
                on_result(ident, found=[(SOURCE, ident.value, self.read(ident.value, ident.typed))])
            except LookupFailed as exc:
                on_result(ident, error=exc)

    def refetch(self, asked: str) -> Record:
        return self.read(asked)
