"""doi.org content negotiation, for DOIs Crossref does not know (DataCite,
mEDRA, JaLC...): ``GET {CITETOOL_DOI_URL}/{doi}`` with
``Accept: application/vnd.citationstyles.csl+json``, following the redirect to
the registration agency, and the CSL-JSON it answers mapped to the record.
"""

from __future__ import annotations

import json

from citetool.errors import LookupFailed, NotFound, SourceUnavailable
from citetool.identifiers import doi_route
from citetool.record import CSL_TYPES, DATE_VARIABLES, ITEM_VARIABLES, NAME_KEYS, NAME_VARIABLES, Record
from citetool.record_input import parse_date
from citetool.text import clean_paragraphs, clean_text

SOURCE = "doi.org"
ACCEPT = "application/vnd.citationstyles.csl+json"
CACHE_MAX_AGE = 7 * 24 * 3600
MAX_BYTES = 5 * 1024 * 1024


def _date(value):
    if not isinstance(value, dict):
        return None
    rows = value.get("date-parts") or []
    parts = []
    for p in (rows[0] if rows and isinstance(rows[0], list) else []):
        try:
            parts.append(int(p))
        except (TypeError, ValueError):
            break
    return {"date-parts": [parts]} if parts else None


class _WrongShape(Exception):
    pass


def _text(value, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _WrongShape(key)
    return clean_text(str(value))


def csl_to_record(item: dict, asked: str = "") -> Record:
    """A CSL-JSON item from a registration agency, cleaned into the record;
    SourceUnavailable naming the field when a value has the wrong shape
    (an object for ``URL``, a number for ``author``): nothing of it is stored."""
    try:
        return _csl_to_record(item)
    except _WrongShape as exc:
        part = str(exc)
    except (TypeError, AttributeError, ValueError) as exc:  # a shape not foreseen above
        part = f"{type(exc).__name__}: {exc}"
    doi = item.get("DOI") if isinstance(item, dict) else None
    raise SourceUnavailable(f"doi.org answered {asked or (doi if isinstance(doi, str) else 'a DOI')} "
                            f"of the wrong shape: {part}")


def _csl_to_record(item: dict) -> Record:
    rec: Record = {}
    for key, value in item.items():
        if key not in ITEM_VARIABLES or key in ("id", "citation-key", "custom") or value in (None, "", [], {}):
            continue
        if key in NAME_VARIABLES:
            if not isinstance(value, list):
                raise _WrongShape(key)
            people = []
            for person in value:
                if not isinstance(person, dict):
                    raise _WrongShape(key)
                name = {k: _text(v, f"{key}.{k}") for k, v in person.items() if k in NAME_KEYS and v}
                if name.get("family") or name.get("literal"):
                    people.append(name)
                elif name.get("given"):
                    people.append({"literal": name["given"]})
            if people:
                rec[key] = people
        elif key in DATE_VARIABLES:
            if isinstance(value, str) and parse_date(value):  # "2020-05-01", as some agencies write it
                rec[key] = parse_date(value)
            elif not isinstance(value, dict):
                raise _WrongShape(key)
            elif "date-parts" in value:
                date = _date(value)
                if date:
                    rec[key] = date
        elif isinstance(value, dict):
            raise _WrongShape(key)
        elif key == "categories" and isinstance(value, list):  # the one list-of-strings variable
            cats = [_text(v, key) for v in value if v]
            if cats:
                rec[key] = cats
        elif isinstance(value, list):  # some agencies send lists for string variables
            text = next((t for t in (_text(v, key) for v in value if v) if t), "")
            if text:
                rec[key] = text
        elif key == "abstract":
            rec[key] = clean_paragraphs(_text(value, key))
        else:
            text = _text(value, key)
            if text:
                rec[key] = text
    if rec.get("type") not in CSL_TYPES:
        rec["type"] = {"article": "article-journal"}.get(str(rec.get("type")), "document")
    if rec.get("DOI"):
        rec["DOI"] = rec["DOI"].lower()
    return rec


class DoiOrgSource:
    """DOIs Crossref does not know, from doi.org (asked after Crossref said "not found")."""

    name = SOURCE

    def __init__(self, settings, http):
        from citetool.cache import Cache  # start-up: loaded only when needed

        self.settings = settings
        self.http = http
        age = settings.cache_max_age if settings.cache_max_age is not None else CACHE_MAX_AGE
        self.cache = Cache(settings.cache_path(), "doi.org", age)

    def fetch(self, doi: str, offline: bool = False, fresh: bool = False) -> dict:
        """The CSL-JSON item doi.org gives for ``doi``; NotFound or SourceUnavailable."""
        key = "csl:" + doi.lower()
        cached = None if fresh and not offline else self.cache.get(key, any_age=offline)
        if cached:
            return json.loads(cached)
        if offline:
            raise SourceUnavailable(f"{doi} is not in the cache (offline)")
        url = doi_route(self.settings.doi_url, doi)
        answer = self.http.get(url, service="doi.org", what=doi, accept=ACCEPT, max_bytes=MAX_BYTES)
        if answer.status in (404, 410):
            raise NotFound(f"not found in Crossref or at doi.org: {doi}")
        if answer.status != 200:
            raise answer.failed()
        try:
            item = json.loads(answer.body)
        except (ValueError, RecursionError):
            raise SourceUnavailable(f"doi.org sent no CSL-JSON for {doi} (is it registered with an agency that offers it?)") from None
        if not isinstance(item, dict):
            raise SourceUnavailable(f"doi.org sent an answer of the wrong shape for {doi}")
        self.cache.put(key, json.dumps(item, ensure_ascii=False))
        return item

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            try:
                on_result(ident, found=[(SOURCE, ident.value, csl_to_record(self.fetch(ident.value, offline, fresh), ident.value))])
            except LookupFailed as exc:
                on_result(ident, error=exc)

    def refetch(self, asked: str) -> Record:
        return csl_to_record(self.fetch(asked, fresh=True), asked)
