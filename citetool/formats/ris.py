"""RIS: ``TY  - `` ... ``ER  - `` per reference, one tag a line, UTF-8, LF.

No value can break the record structure: every value is collapsed to one line
(newlines in a title become spaces), so a value can never start a line with a
tag such as ``ER  - ``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from citetool.identifiers import normalise_doi
from citetool.record import (
    Record,
    date_parts,
    date_text,
    is_organisation,
    name_family_first,
    names,
    page_range,
    relation_notes,
    repec_handle,
    repec_link,
)
from citetool.text import one_line

if TYPE_CHECKING:
    from citetool.formats.entry_cache import EntryCache

TY = {
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "book": "BOOK",
    "chapter": "CHAP",
    "entry-encyclopedia": "ENCYC",
    "entry-dictionary": "DICT",
    "paper-conference": "CONF",
    "report": "RPRT",
    "dataset": "DATA",
    "thesis": "THES",
    "webpage": "ELEC",
    "post": "ELEC",
    "post-weblog": "BLOG",
    "software": "COMP",
    "standard": "STAND",
    "article": "UNPB",  # posted content (preprints)
    "periodical": "JFULL",  # a whole journal issue
}


def _line(tag: str, value) -> str | None:
    """``TAG  - value`` on one line; None for a blank value. Surrounding
    whitespace of any kind (no-break spaces too) goes: RIS readers strip it,
    and a tag with a blank value is no tag at all."""
    text = one_line(str(value)).strip() if value is not None else ""
    return f"{tag}  - {text}" if text else None


def _ris_name(person: dict) -> str:
    """"Family, Given" for a person (a trailing comma when there is no given
    name); an organisation without a comma, as Zotero writes them."""
    if is_organisation(person):
        return person["literal"]
    text = name_family_first(person)
    return text if "," in text else text + ","


def render_record(rec: Record) -> str:
    lines: list[str | None] = [f"TY  - {TY.get(rec.get('type', ''), 'GEN')}"]
    for person in names(rec, "author"):
        lines.append(_line("AU", _ris_name(person)))
    for person in names(rec, "editor"):
        lines.append(_line("A2" if rec.get("type") in ("chapter", "paper-conference") else "ED", _ris_name(person)))
    lines.append(_line("TI", rec.get("title")) or _line("TI", "[Untitled]"))
    lines.append(_line("T2", rec.get("container-title")))
    if rec.get("type") == "paper-conference":
        lines.append(_line("C3", rec.get("container-title")))  # RIS: the proceedings title of a CONF
    if rec.get("type") == "article-journal" and rec.get("container-title-short"):
        lines.append(_line("J2", rec["container-title-short"]))
    lines.append(_line("T3", rec.get("collection-title")))
    lines.append(_line("VL", rec.get("volume")))
    lines.append(_line("IS", rec.get("issue")))
    first, last = page_range(rec)
    if first:
        lines.append(_line("SP", first))
        lines.append(_line("EP", last))
    elif rec.get("number") and rec.get("type") == "article-journal":
        lines.append(_line("SP", rec["number"]))  # article number in place of pages
    if rec.get("number") and rec.get("type") == "report":
        lines.append(_line("M1", rec["number"]))
    parts = date_parts(rec)
    if parts and parts[0] < 0:  # RIS years are four digits: a year before the common era goes in a note
        lines.append(_line("N1", "Date: " + "/".join([str(-parts[0])] + [f"{p:02d}" for p in parts[1:]]) + " BCE"))
    elif parts:
        lines.append(_line("PY", f"{parts[0]:04d}"))
        lines.append(_line("DA", date_text(parts, "/")))
    accessed = date_parts(rec, "accessed")
    if accessed:
        lines.append(_line("Y2", date_text(accessed, "/")))
    lines.append(_line("PB", rec.get("publisher")))
    lines.append(_line("CY", rec.get("publisher-place")))
    for value in (rec.get("ISSN"), rec.get("ISBN")):
        for one in str(value or "").split(","):
            lines.append(_line("SN", one))
    lines.append(_line("DO", rec.get("DOI")))
    lines.append(_line("UR", rec.get("URL")))
    if repec_link(rec) and repec_link(rec) != rec.get("URL"):
        lines.append(_line("UR", repec_link(rec)))
    lines.append(_line("AN", repec_handle(rec)))
    lines.append(_line("AB", rec.get("abstract")))
    lines.append(_line("LA", rec.get("language")))
    lines.append(_line("M3", rec.get("genre")))
    for keyword in re.split(r"\s*[;,]\s*", str(rec.get("keyword") or "")):
        lines.append(_line("KW", keyword))
    lines.append(_line("N1", rec.get("note")))
    lines += [_line("N1", note) for note in relation_notes(rec)]
    lines.append(_line("ID", rec.get("id")))
    lines.append("ER  - ")
    return "\n".join(line for line in lines if line) + "\n"


def render(records: list[Record], cache: EntryCache | None = None) -> str:
    entries = cache.entries("ris", records, render_record) if cache is not None else map(render_record, records)
    return "\n".join(entries)


# RIS type -> CSL type, for reading.
_CSL_TYPE = {ty: csl for csl, ty in TY.items()}
_CSL_TYPE.update({"JFULL": "periodical", "EJOUR": "article-journal", "EBOOK": "book", "ECHAP": "chapter",
                  "EDBOOK": "book", "CPAPER": "paper-conference", "GEN": "document", "UNPB": "manuscript"})


def _read_name(text: str) -> dict | None:
    """RIS names: "Family, Given" (or "Family,") is a person; no comma, an organisation."""
    from citetool.record_input import parse_name  # start-up: loaded only when needed

    text = one_line(text)
    if not text:
        return None
    if "," not in text:
        return {"literal": text}
    parts = [p.strip() for p in text.split(",")]
    if len(parts) >= 3:  # RIS order: "Family, Given, Suffix"
        person = {"family": parts[0], "given": parts[1], "suffix": ", ".join(parts[2:])}
        return {k: v for k, v in person.items() if v}
    return parse_name(text)


_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")


def _records(text: str, origin: str) -> tuple[list[tuple[int, str]], list[str]]:
    """The complete records of a RIS file as (first line, text), and one
    problem for each record without its ``ER  - `` line and each tag outside
    a record: rispy drops both without a word."""
    records, problems = [], []
    start, lines, stray = 0, [], 0
    numbered = list(enumerate(text.splitlines(), start=1))
    for number, raw in numbered:
        line = raw.strip("\ufeff")
        tag = _TAG.match(line)
        name = tag.group(1) if tag else None
        if name == "TY":
            if start:
                problems.append(f"{origin}:{start}: skipped a record with no end (a new 'TY  - ' came at line "
                                f"{number} before its 'ER  - ' line)")
            start, lines = number, [line]
        elif start:
            lines.append(line)
            if name == "ER":
                records.append((start, "\n".join(lines) + "\n"))
                start, lines = 0, []
        elif name and not stray:
            stray = number
            problems.append(f"{origin}:{number}: {line[:6]!r} outside a record: a RIS record starts with a "
                            "'TY  - ' line and ends with an 'ER  - ' line")
    if start:
        problems.append(f"{origin}:{start}: skipped a record with no end (the file ends before its 'ER  - ' line)")
    if not records and not problems:
        problems.append(f"{origin}: no RIS record (a record starts with a 'TY  - ' line)")
    return records, problems


def _ris_date(text: str) -> dict | None:
    """RIS dates: ``2020``, ``2020/10/28``, ``2020/10//``, ``2020///note``
    (year/month/day/other); ISO ``2020-10-28`` too. None if there is none;
    ValueError for a date that cannot be."""
    from citetool.record_input import parse_date  # start-up: loaded only when needed

    text = one_line(str(text)).strip()
    if not text:
        return None
    if "/" in text:
        parts = text.split("/")
        numbers = [p.strip() for p in parts[:3]]
        while numbers and not numbers[-1]:
            numbers.pop()
        if numbers and all(n.isdigit() for n in numbers):
            text = "-".join(numbers)
    return parse_date(text, strict=True)


def read(text: str, origin: str):
    """Entries of a RIS file (each record read by rispy), and messages for the
    records it cannot read."""
    import rispy

    from citetool.formats.imported import Imported, unreadable  # start-up: loaded only when needed

    records, problems = _records(text.lstrip("\ufeff"), origin)
    out = []
    for line, chunk in records:
        try:
            found = rispy.loads(chunk, skip_unknown_tags=True)
            if len(found) != 1:
                raise ValueError("not one RIS record")
            rec, notes = _record(found[0])
        except Exception as exc:
            problems.append(unreadable(f"{origin}:{line}", exc, "a record"))
            continue
        problems += [f"{origin}:{line}: {note}" for note in notes]
        if not rec.get("title") and not rec.get("DOI"):
            problems.append(f"{origin}:{line}: skipped a record with neither title nor DOI")
            continue
        left = _left_out(found[0], rec)
        warnings = [f"{origin}:{line}: not kept, no place for them: {', '.join(left)}"] if left else []
        out.append(Imported(key=found[0].get("id"), record=rec, line=line, notes=warnings))
    return out, problems


def _record(e: dict) -> tuple[Record, list[str]]:
    """One rispy record as a CSL record, and warnings about values left out."""
    notes = []
    rec = {"type": _CSL_TYPE.get(str(e.get("type_of_reference", "")).upper(), "document")}
    authors = [_read_name(a) for a in e.get("authors", []) + e.get("first_authors", [])]
    if any(authors):
        rec["author"] = [a for a in authors if a]
    editors = [_read_name(a) for a in e.get("secondary_authors", []) + e.get("editor", [])
               if rec["type"] in ("chapter", "paper-conference", "book")]
    if any(editors):
        rec["editor"] = [a for a in editors if a]
    title = e.get("title") or e.get("primary_title")
    if title:
        rec["title"] = one_line(title)
    container = e.get("secondary_title") or e.get("journal_name") or e.get("alternate_title3")
    if container:
        rec["container-title"] = one_line(container)
    for key, csl in (("volume", "volume"), ("number", "issue"), ("publisher", "publisher"),
                     ("place_published", "publisher-place"), ("abstract", "abstract"),
                     ("language", "language"), ("type_of_work", "genre"), ("edition", "edition")):
        if e.get(key):
            rec[csl] = one_line(str(e[key]))
    if e.get("start_page"):
        rec["page"] = e["start_page"] + (f"-{e['end_page']}" if e.get("end_page") else "")
    for tag, value in (("DA", e.get("date")), ("PY", e.get("year")), ("Y1", e.get("publication_year"))):
        if not value:
            continue
        try:
            date = _ris_date(value)
        except ValueError as exc:
            notes.append(f"{tag} left out: {exc}")
            continue
        if date:
            rec["issued"] = date
            break
    if e.get("doi") and normalise_doi(e["doi"]):
        rec["DOI"] = normalise_doi(e["doi"])  # as written (identity ignores case)
    if e.get("urls"):
        rec["URL"] = e["urls"][0]
    if e.get("issn"):
        rec["ISSN" if rec["type"] in ("article-journal", "periodical") else "ISBN"] = one_line(e["issn"])
    keywords = [one_line(str(k)) for k in e.get("keywords") or [] if str(k).strip()]
    if keywords:
        rec["keyword"] = ", ".join(keywords)  # KW, one a line
    notes_written = [one_line(str(n)) for n in e.get("notes") or [] if str(n).strip()]
    if notes_written:
        rec["note"] = "\n".join(notes_written)  # N1
    for key, csl in (("alternate_title1", "container-title-short"), ("tertiary_title", "collection-title"),
                     ("notes_abstract", "abstract")):  # N2: the abstract, in EndNote's and older exports
        if e.get(key) and csl not in rec:
            rec[csl] = one_line(str(e[key]))  # J2, T3 (as citetool writes them)
    if e.get("access_date"):
        accessed = _ris_date(str(e["access_date"])) if re.match(r"\d{4}", str(e["access_date"])) else None
        if accessed:
            rec["accessed"] = accessed
    return rec, notes


def _left_out(e: dict, rec: Record) -> list[str]:
    """The RIS tags (as rispy names them) of ``e`` that no CSL variable took."""
    said = {str(v) for v in rec.values() if isinstance(v, str)}
    return sorted(k for k, v in e.items() if v not in (None, "", []) and k not in _READ_KEYS
                  and not (isinstance(v, str) and one_line(v) in said))  # C3: the container said again


# The rispy keys _record reads.
_READ_KEYS = frozenset("""type_of_reference authors first_authors secondary_authors editor title primary_title
    secondary_title journal_name alternate_title3 volume number publisher place_published abstract language
    type_of_work edition start_page end_page date year publication_year doi urls issn keywords notes id
    alternate_title1 tertiary_title access_date notes_abstract""".split())
