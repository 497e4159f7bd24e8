"""RIS: ``TY  - `` ... ``ER  - `` per reference, one tag a line, UTF-8, LF.

No value can break the record structure: every value is collapsed to one line
(newlines in a title become spaces), so a value can never start a line with a
tag such as ``ER  - ``.
"""

from __future__ import annotations

from citetool.record import Record, date_parts, name_family_first, names, page_range
from citetool.text import one_line

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
    "article": "UNPB" ,  # posted content (preprints)
}


def _line(tag: str, value) -> str | None:
    text = one_line(str(value)) if value is not None else ""
    return f"{tag}  - {text}" if text else None


def render_record(rec: Record) -> str:
    lines: list[str | None] = [f"TY  - {TY.get(rec.get('type', ''), 'GEN')}"]
    for person in names(rec, "author"):
        lines.append(_line("AU", name_family_first(person)))
    for person in names(rec, "editor"):
        lines.append(_line("A2" if rec.get("type") in ("chapter", "paper-conference") else "ED",
                           name_family_first(person)))
    lines.append(_line("TI", rec.get("title") or "[Untitled]"))
    lines.append(_line("T2", rec.get("container-title")))
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
    if parts:
        lines.append(_line("PY", f"{parts[0]:04d}"))
        lines.append(_line("DA", "/".join([f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]])))
    lines.append(_line("PB", rec.get("publisher")))
    lines.append(_line("CY", rec.get("publisher-place")))
    for value in (rec.get("ISSN"), rec.get("ISBN")):
        for one in str(value or "").split(","):
            lines.append(_line("SN", one))
    lines.append(_line("DO", rec.get("DOI")))
    lines.append(_line("UR", rec.get("URL")))
    lines.append(_line("AB", rec.get("abstract")))
    lines.append(_line("LA", rec.get("language")))
    lines.append(_line("M3", rec.get("genre")))
    lines.append(_line("N1", rec.get("note")))
    lines.append(_line("ID", rec.get("id")))
    lines.append("ER  - ")
    return "\n".join(line for line in lines if line) + "\n"


def render(records: list[Record]) -> str:
    return "\n".join(render_record(r) for r in records)
