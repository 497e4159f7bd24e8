"""The one internal record: a CSL-JSON item (the lingua franca of pandoc, Zotero
and citeproc) held as a plain ``dict``.

* CSL variables use their CSL names (``title``, ``container-title``, ``DOI``...).
* ``id`` is the citation key.
* Names are ``{"family", "given", "suffix"}`` or ``{"literal"}`` for organisations;
  they may also carry ``ORCID`` (dropped by the CSL-JSON export, whose schema has
  no room for it).
* citetool's own data lives under the one key ``citetool`` (see :data:`META`):
  identifiers, sources with their fetch times, and which source gave each field.

The helpers here read records; they never do I/O.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

META = "citetool"

# CSL item types citetool produces (a subset of the schema's enum).
CSL_TYPES = {
    "article", "article-journal", "article-magazine", "article-newspaper", "book",
    "chapter", "dataset", "document", "entry", "entry-dictionary", "entry-encyclopedia",
    "manuscript", "paper-conference", "periodical", "post", "post-weblog", "report",
    "review", "software", "standard", "thesis", "webpage",
}

NAME_ROLES = ("author", "editor", "translator", "container-author", "collection-editor")


def meta(record: Record) -> dict:
    return record.setdefault(META, {})


def year(record: Record) -> int | None:
    parts = date_parts(record)
    return parts[0] if parts else None


def date_parts(record: Record, variable: str = "issued") -> list[int]:
    """The first date of ``variable`` as a list of ints ([Y], [Y, M] or [Y, M, D]); [] if none."""
    value = record.get(variable)
    if not isinstance(value, dict):
        return []
    parts = (value.get("date-parts") or [[]])[0] or []
    out: list[int] = []
    for p in parts:
        try:
            out.append(int(p))
        except (TypeError, ValueError):
            break
    return out


def names(record: Record, role: str = "author") -> list[dict]:
    value = record.get(role)
    return [n for n in value if isinstance(n, dict)] if isinstance(value, list) else []


def is_organisation(name: dict) -> bool:
    return bool(name.get("literal")) and not name.get("family")


def name_given_first(name: dict) -> str:
    """"Alessandro Arduino", "GTEx Consortium"."""
    if is_organisation(name):
        return name["literal"]
    parts = [name.get("given"), name.get("non-dropping-particle"), name.get("family")]
    text = " ".join(p for p in parts if p)
    if name.get("suffix"):
        text += ", " + name["suffix"] if name.get("comma-suffix") else " " + name["suffix"]
    return text


def name_family_first(name: dict) -> str:
    """"Arduino, Alessandro" (RIS, BibTeX order)."""
    if is_organisation(name):
        return name["literal"]
    family = " ".join(p for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    rest = [p for p in (name.get("given"), name.get("suffix")) if p]
    return ", ".join([family] + rest) if family else " ".join(rest)


def page_range(record: Record) -> tuple[str | None, str | None]:
    """(first, last) page from CSL ``page`` ("435-452", "435–452", "e30")."""
    page = record.get("page")
    if not page:
        return None, None
    page = str(page).replace("\u2013", "-").replace("\u2014", "-")
    if "-" in page:
        first, _, last = page.partition("-")
        first, last = first.strip().strip("-"), last.strip().strip("-")
        return first or None, last or None
    return page.strip(), None


def first_value(value: Any) -> str | None:
    """First element of a list-or-string CSL value ("ISSN": "1475-1798, 1475-1801")."""
    if not value:
        return None
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value).split(",")[0].strip() or None
