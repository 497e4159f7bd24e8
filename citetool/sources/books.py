"""Books by ISBN: Crossref first (``/works?filter=isbn:...``), then the Open
Library books API (``{CITETOOL_OPENLIBRARY_URL}/api/books?bibkeys=ISBN:...``):
authors, title, publisher, place, year, ISBN."""

from __future__ import annotations

import re

from citetool.errors import NotFound, SourceUnavailable
from citetool.record import Record, parse_date
from citetool.text import clean_text

SOURCE = "openlibrary"
BOOK_TYPES = ("book", "monograph", "edited-book", "reference-book")


def pick_crossref_book(items: list[dict], isbn: str) -> dict | None:
    """The whole book (not one of its chapters) among Crossref's works for an ISBN."""
    for item in items:
        isbns = {re.sub(r"[^0-9Xx]", "", i) for i in item.get("ISBN", [])}
        if item.get("type") in BOOK_TYPES and isbn in isbns:
            return item
    return None


def openlibrary_record(data: dict, isbn: str) -> Record:
    rec: Record = {"type": "book", "ISBN": isbn}
    title = clean_text(data.get("title"))
    subtitle = clean_text(data.get("subtitle"))
    if title:
        rec["title"] = f"{title}: {subtitle}" if subtitle else title
    people = []
    for author in data.get("authors") or []:
        name = clean_text(author.get("name") if isinstance(author, dict) else str(author))
        if name:
            from citetool.record import parse_name

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


class OpenLibraryClient:
    def __init__(self, settings):
        self.settings = settings

    def fetch(self, isbn: str) -> dict:
        import requests

        url = f"{self.settings.openlibrary_url}/api/books"
        params = {"bibkeys": f"ISBN:{isbn}", "format": "json", "jscmd": "data"}
        try:
            response = requests.get(url, params=params, headers={"User-Agent": self.settings.user_agent},
                                    timeout=self.settings.timeout)
        except requests.Timeout:
            raise SourceUnavailable(f"Open Library did not answer within {self.settings.timeout:g}s for ISBN {isbn}") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(f"cannot reach Open Library for ISBN {isbn}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SourceUnavailable(f"Open Library answered HTTP {response.status_code} for ISBN {isbn}")
        try:
            data = response.json().get(f"ISBN:{isbn}")
        except (ValueError, AttributeError):
            raise SourceUnavailable(f"Open Library sent an unreadable answer for ISBN {isbn}") from None
        if not data:
            raise NotFound(f"ISBN {isbn} not found in Crossref or Open Library")
        return data
