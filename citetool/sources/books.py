"""Books by ISBN from the Open Library books API
(``{CITETOOL_OPENLIBRARY_URL}/api/books?bibkeys=ISBN:...``): authors, title,
publisher, place, year, ISBN. Asked after Crossref (see the registry)."""

from __future__ import annotations

import re

from citetool.errors import LookupFailed, NotFound, SourceUnavailable
from citetool.record import Record
from citetool.record_input import parse_date, parse_name
from citetool.text import clean_text

SOURCE = "openlibrary"


def _shape_problem(data: dict) -> str | None:
    """The first part of an Open Library answer of the wrong shape, None if none."""
    for key in ("title", "subtitle", "url"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return key
    for key in ("publish_date", "number_of_pages"):
        if isinstance(data.get(key), (bool, list, dict)):
            return key
    for key in ("authors", "publishers", "publish_places"):
        values = data.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or not all(
                isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("name", ""), str)) for v in values):
            return key
    return None


def openlibrary_record(data: dict, isbn: str) -> Record:
    """The record of an Open Library answer; SourceUnavailable naming the part
    of the wrong shape (a number for ``publishers``): nothing of it is stored."""
    part = _shape_problem(data)
    if part is None:
        try:
            return _record(data, isbn)
        except (TypeError, AttributeError, ValueError) as exc:  # a shape not foreseen above
            part = f"{type(exc).__name__}: {exc}"
    raise SourceUnavailable(f"Open Library answered ISBN {isbn} of the wrong shape: {part}")


def _record(data: dict, isbn: str) -> Record:
    rec: Record = {"type": "book", "ISBN": isbn}
    title = clean_text(data.get("title"))
    subtitle = clean_text(data.get("subtitle"))
    if title:
        rec["title"] = f"{title}: {subtitle}" if subtitle else title
    people = []
    for author in data.get("authors") or []:
        name = clean_text(author.get("name") if isinstance(author, dict) else str(author))
        if name:
            people.append(parse_name(name))
    if people:
        rec["author"] = [p for p in people if p]
    for key, field in (("publishers", "publisher"), ("publish_places", "publisher-place")):
        values = [clean_text(v.get("name") if isinstance(v, dict) else str(v)) for v in data.get(key) or []]
        if values and values[0]:
            rec[field] = values[0]
    year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", str(data.get("publish_date") or ""))
    if year:
        rec["issued"] = parse_date(year.group(1))
    pages = data.get("number_of_pages")
    if pages:
        rec["number-of-pages"] = str(pages)
    if isinstance(data.get("url"), str):
        rec["URL"] = data["url"]
    return rec


MAX_BYTES = 2 * 1024 * 1024


class OpenLibrarySource:
    name = SOURCE

    def __init__(self, settings, http):
        self.settings = settings
        self.http = http

    def fetch(self, isbn: str) -> dict:
        params = {"bibkeys": f"ISBN:{isbn}", "format": "json", "jscmd": "data"}
        answer = self.http.get(f"{self.settings.openlibrary_url}/api/books", service="Open Library",
                               what=f"ISBN {isbn}", params=params, max_bytes=MAX_BYTES)
        if answer.status != 200:
            raise answer.failed()
        body = answer.json()
        data = body.get(f"ISBN:{isbn}") if isinstance(body, dict) else None
        if not data:
            raise NotFound(f"ISBN {isbn} not found in Crossref or Open Library")
        if not isinstance(data, dict):
            raise SourceUnavailable(f"Open Library sent an answer of the wrong shape for ISBN {isbn}")
        return data

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            try:
                if offline:
                    raise LookupFailed(f"cannot look up ISBN {ident.value} offline")
                on_result(ident, found=[(SOURCE, ident.value, openlibrary_record(self.fetch(ident.value), ident.value))])
            except LookupFailed as exc:
                on_result(ident, error=exc)

    def refetch(self, asked: str) -> Record:
        return openlibrary_record(self.fetch(asked), asked)
