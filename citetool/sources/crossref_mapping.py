"""A Crossref work (``/works/{doi}``'s message) as the internal CSL-JSON record,
after a check of its shape.

Date rule: a journal article printed in an issue takes the year of
``published-print`` (the year that goes with its volume and issue); everything
else takes the first of ``issued``, ``published``, ``published-print``,
``published-online``, ``posted``, ``approved``, ``content-created`` that has a
year. ``[[null]]`` dates are skipped.
"""

from __future__ import annotations

from typing import Any

from citetool.errors import SourceUnavailable
from citetool.identifiers import doi_url
from citetool.record import Record
from citetool.text import clean_paragraphs, clean_text

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
