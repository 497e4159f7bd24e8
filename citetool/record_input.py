"""What users type, read into record values: names (``Family, Given and …``),
dates (``2021-10-28``), a field's value for ``edit --set`` and ``add --manual``,
a value ``doctor --repair`` reads anew, and the fields a typed-in reference needs."""

from __future__ import annotations

import re
from typing import Any

from citetool.record import CSL_TYPES, DATE_VARIABLES, ITEM_VARIABLES, NAME_VARIABLES, Record
from citetool.record_shape import _JSON_INT, _NAME_FLAGS, field_problem


def parse_name(text: str) -> dict | None:
    """A name as people type it: "Family, Given", "Family, Jr., Given",
    "Given Family", or "{Org Name}" / a single word for an organisation."""
    text = " ".join(text.split())
    if not text:
        return None
    if text.startswith("{") and text.endswith("}"):
        return {"literal": text[1:-1].strip()}
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and parts[0]:
        return {"family": parts[0], "given": parts[1]} if parts[1] else {"family": parts[0]}
    if len(parts) >= 3 and parts[0]:
        out = {"family": parts[0], "suffix": parts[1], "given": ", ".join(parts[2:])}
        return {k: v for k, v in out.items() if v}
    words = text.split(" ")
    if len(words) == 1:
        return {"family": words[0]}
    return {"family": words[-1], "given": " ".join(words[:-1])}


def parse_names(text: str) -> list[dict]:
    """Names separated by " and " or ";"."""

    pieces = re.split(r"\s+and\s+|;", text)
    return [n for n in (parse_name(p) for p in pieces) if n]


_DATE_RE = None


def parse_date(text: str, strict: bool = False) -> dict | None:
    """"2021", "2021-10", "2021-10-28", "2021/10/28" -> CSL date; the one date
    parser of citetool. A date that cannot be (2020-02-31, month 13, a year of
    five digits) is never cut down to what looks right nor given an invented
    year: it is no date. ``strict`` (what a user typed, an imported file's date
    field): the whole text must be the date, and ValueError names a value that
    is not one (None only for blank text). Without it (what a metadata source
    says), the date may lead a longer text ("2021-10-28T12:00:00Z") and None
    means no date."""
    import datetime

    global _DATE_RE
    if _DATE_RE is None:
        _DATE_RE = re.compile(r"\s*(\d{4})(?:([-/])(\d{1,2})(?:\2(\d{1,2}))?)?(?!\d)")
    text = str(text)
    m = _DATE_RE.match(text)
    if strict:
        if not text.strip():
            return None
        if not m or text[m.end():].strip():
            raise ValueError(f"not a date: {text.strip()!r} (write 2021, 2021-10 or 2021-10-28)")
    elif not m or (text[m.end():m.end() + 1].isalnum() and text[m.end()] not in "T"):
        return None
    parts = [int(p) for p in (m.group(1), m.group(3), m.group(4)) if p]
    try:
        datetime.date(parts[0] or 1, parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        if strict:
            raise ValueError(f"not a date: {text.strip()!r} (no such day or month)") from None
        return None
    return {"date-parts": [parts]}


def check_field_name(field: str) -> None:
    """ValueError unless ``field`` is a CSL variable the user may set or unset."""
    if field not in ITEM_VARIABLES or field in ("id", "citation-key", "custom"):
        raise ValueError(f"{field!r} is not a field citetool can set (use CSL names: title, author, issued, container-title, ...)")


def parse_field_value(field: str, text: str):
    """A value typed by the user for ``field`` (``citetool edit --set``), as the
    record holds it. Raises ValueError with a message naming the problem."""
    import json

    check_field_name(field)
    text = text.strip()
    if text.startswith(("[", "{")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            pass
        else:
            problem = field_problem(field, value)
            if problem:  # JSON of the wrong shape ([1] for a title): refused, as a source's or an import's is
                raise ValueError(f"the value given for {field!r} {problem}")
            return value
    if field in NAME_VARIABLES:
        people = parse_names(text)
        if not people:
            raise ValueError(f"no names in {text!r} (write \"Family, Given and Family, Given\")")
        return people
    if field in DATE_VARIABLES:
        date = parse_date(text, strict=True)
        if date is None:
            raise ValueError(f"not a date: {text!r} (write 2021, 2021-10 or 2021-10-28)")
        return date
    if field == "type" and text not in CSL_TYPES:
        raise ValueError(f"not a CSL type: {text!r} (e.g. {', '.join(sorted(CSL_TYPES)[:6])}, ...)")
    if field == "DOI":
        return text.lower()
    return text


# What a manual entry must give, by CSL type ("a|b": one of them).
REQUIRED_FIELDS = {
    "article-journal": ("title", "author", "container-title", "issued"),
    "article-magazine": ("title", "author", "container-title", "issued"),
    "article-newspaper": ("title", "container-title", "issued"),
    "book": ("title", "author|editor", "publisher", "issued"),
    "chapter": ("title", "author", "container-title", "publisher", "issued"),
    "paper-conference": ("title", "author", "container-title", "issued"),
    "report": ("title", "publisher", "issued"),
    "thesis": ("title", "author", "publisher", "issued"),
    "webpage": ("title", "URL"),
    "post-weblog": ("title", "URL"),
    "dataset": ("title", "publisher|URL"),
}


def repaired_value(field: str, value: Any) -> Any:
    """The value ``doctor --repair`` puts in place of a wrongly typed one
    (``field_problem``); None when it cannot be read as the right type."""
    if field in NAME_VARIABLES:
        if isinstance(value, list):  # keep the names whose parts are text, the others' text parts
            kept = []
            for name in value:
                if isinstance(name, dict):
                    # text kept; a number read as text (a flag's as true/false); anything else dropped
                    name = {k: v if type(v) is str else bool(v) if k in _NAME_FLAGS else str(v)
                            for k, v in name.items() if isinstance(v, (str, int, float))}
                    if name.get("family") or name.get("literal") or name.get("given"):
                        kept.append(name)
                elif isinstance(name, str) and parse_name(name):
                    kept.append(parse_name(name))
            return kept or None
        return parse_names(value) or None if isinstance(value, str) else None
    if field in DATE_VARIABLES:
        if isinstance(value, dict) and isinstance(value.get("date-parts"), list):
            kept_rows = []
            for row in value["date-parts"]:
                if not isinstance(row, list):
                    continue
                kept_row = []
                for p in row:
                    if (type(p) is int or (isinstance(p, str) and p.strip().isdigit())) and abs(int(p)) < _JSON_INT:
                        kept_row.append(int(p))
                    else:
                        break
                if kept_row:
                    kept_rows.append(kept_row)
            return {"date-parts": kept_rows} if kept_rows else None
        return parse_date(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return " ".join(" ".join(str(v) for v in value).split()) or None
    if isinstance(value, (bool, int, float)):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def missing_fields(record: Record) -> list[str]:
    """The fields a record of its type still needs (always at least a title)."""
    required = REQUIRED_FIELDS.get(record.get("type", ""), ("title",))
    return [need.replace("|", " or ") for need in required if not any(record.get(alt) for alt in need.split("|"))]
