"""The shape checks every record passes where it enters (a source's answer, an
import, an edit, a store read): each CSL variable holds what CSL says it holds
(text, a number, names, a date), and citetool's own part holds what it should."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from citetool.errors import StoreError
from citetool.record import DATE_VARIABLES, ITEM_VARIABLES, META, NAME_VARIABLES, Record, _plainly_a_date, _valid_start


def date_problem(value: Any) -> str | None:
    """What makes a CSL date impossible (month 13, 31 February, a year of five
    digits), for dates that come whole (CSL-JSON); None if nothing (a value of
    the wrong shape is ``field_problem``'s to say)."""
    if not isinstance(value, dict) or not isinstance(value.get("date-parts"), list):
        return None
    for parts in value["date-parts"]:
        if not isinstance(parts, list) or not parts:
            continue
        try:
            numbers = [int(p) for p in parts[:3]]
        except (TypeError, ValueError, OverflowError):
            return f"{parts!r} is not a date"
        shown = "-".join(str(p) for p in parts[:3])
        if not -9999 <= numbers[0] <= 9999:
            return f"{shown} is not a date (the year has more than four digits)"
        if _valid_start(numbers) != numbers:
            return f"{shown} is not a date (no such day or month)"
    return None


# Text variables the CSL schema lets hold a list of strings.
TEXT_LIST_VARIABLES = frozenset({"ISSN", "ISBN", "categories"})


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "null"


def _date_problem(value: Any) -> str | None:
    """What is wrong with a CSL date ({"date-parts": [[2021, 10, 28]]}, a literal or raw one)."""
    if not isinstance(value, dict):
        return f"holds {_kind(value)}, not a date"
    parts = value.get("date-parts")
    if type(parts) is list and len(parts) == 1 and type(parts[0]) is list and _plainly_a_date(parts[0]):
        return None  # most dates, at once
    if parts is not None:
        if not isinstance(parts, list) or not all(isinstance(p, list) for p in parts):
            return "holds a date whose date-parts are not a list of lists of numbers"
        for row in parts:
            for p in row:
                if type(p) is int:
                    if not -_JSON_INT < p < _JSON_INT:
                        return "holds a date with a number too large to be read alike everywhere"
                elif not (isinstance(p, str) and p.strip().isdigit()):
                    return f"holds a date with {_kind(p)} among its date-parts, not a number"
        return None
    if isinstance(value.get("literal") or value.get("raw"), str):
        return None
    return "holds an object, not a date"


# CSL's number variables: the schema lets them hold a number as well as text.
NUMBER_VARIABLES = frozenset("""chapter-number citation-number collection-number edition
first-reference-note-number issue locator number number-of-pages number-of-volumes page
page-first part printing section supplement version volume""".split())


_NAME_FLAGS = frozenset({"static-ordering", "parse-names", "comma-suffix"})  # CSL lets these be true/false


_JSON_INT = 2 ** 63  # what every JSON reader (orjson, citeproc) holds: larger numbers are not read alike


def _names_problem(value: Any) -> str | None:
    if type(value) is not list:
        return f"holds {_kind(value)}, not a list of names"
    for name in value:
        if type(name) is not dict:
            return f"holds a list with {_kind(name)} in it, not a list of names"
        if set(map(type, name.values())) <= _STR:  # most names: text only (the test in C)
            continue
        for part, text in name.items():
            if type(text) is str or text is None or (part in _NAME_FLAGS and (
                    type(text) is bool or (type(text) is int and -_JSON_INT < text < _JSON_INT))):
                continue
            return f"holds a name whose {part!r} is {_kind(text)}, not text"
    return None


_STR = {str}


def field_problem(field: str, value: Any) -> str | None:
    """What is wrong with the type of ``value`` for a CSL variable (a hand-edited
    store, an odd answer from a source, an imported file: a list for ``title``,
    a string for ``author``, a number for ``DOI``); None if nothing."""
    if field in NAME_VARIABLES:
        return _names_problem(value)
    if field in DATE_VARIABLES:
        return _date_problem(value)
    if field not in ITEM_VARIABLES or field in ("id", "custom"):
        return None
    if isinstance(value, str):
        return None
    if field in TEXT_LIST_VARIABLES and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    if field in NUMBER_VARIABLES and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) and not -_JSON_INT < value < _JSON_INT:
            return "holds a number too large to be read alike everywhere, not text"
        if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
            return "holds a number that is not finite"
        return None
    return f"holds {_kind(value)}, not text"


# citetool's own data: its parts, and what each holds (a mapping to, or a list of, that type).
_META_PARTS = {"fields": (dict, str), "ids": (dict, str), "sources": (dict, dict), "conflicts": (dict, dict),
               "unresolved": (dict, dict), "aliases": (list, str), "relations": (list, dict),
               "added": (str, None), "edited": (str, None), "updates": (dict, None),
               "bibtex": (dict, None)}  # an imported entry as written (formats.bibtex_kept)


_SHAPE_WORDS = {dict: "an object", list: "a list", str: "text"}


def meta_problem(value: Any) -> tuple[str, str] | None:
    """(part, problem) for citetool's own data under ``citetool`` (a hand edit)."""
    if type(value) is not dict:
        return "citetool", f"holds {_kind(value)}, not an object"
    for part, got in value.items():
        shape = _META_PARTS.get(part)
        if shape is None or got is None:
            continue
        outer, inner = shape
        if type(got) is not outer:
            return f"{META}.{part}", f"holds {_kind(got)}, not {_SHAPE_WORDS[outer]}"
        if inner is not None and got and not set(map(type, got.values() if outer is dict else got)) <= {inner}:
            return f"{META}.{part}", f"holds something other than {_SHAPE_WORDS[inner]} in {_SHAPE_WORDS[outer]}"
        if part in _TEXT_OBJECTS and not all(set(map(type, v.values())) <= _STR for v in
                                             (got.values() if outer is dict else got)):
            return f"{META}.{part}", "holds an entry whose values are not all text"
        if part == "updates":
            findings = got.get("findings", [])
            if type(findings) is not list or not all(type(f) is dict and set(map(type, f.values())) <= _STR
                                                     for f in findings):
                return f"{META}.updates", "holds findings that are not a list of objects of text"
    return None


_TEXT_OBJECTS = frozenset({"sources", "relations"})  # their entries: objects whose values are text


def record_problem(record: Record) -> tuple[str, str] | None:
    """THE shape check of a record, wherever it comes from (a source's answer,
    an imported entry, the store): (field, what is wrong) for the first field
    whose value has the wrong type, or None. ``type`` must be text, names lists
    of names with text parts, dates CSL dates with numbers, ``DOI``, ``title``...
    text (numbers only where CSL allows them: ``volume``, ``page``...), and
    citetool's own data the shape citetool writes."""
    for field, value in record.items():
        # Most values: text where text belongs, or citetool's own: known sooner.
        if type(value) is str:
            if field not in _NOT_TEXT:
                continue
        elif field == META:
            problem = meta_problem(value)
            if problem:
                return problem
            continue
        elif field not in _CHECKED:
            continue
        problem = field_problem(field, value)
        if problem:
            return field, problem
    return None


_NOT_TEXT = NAME_VARIABLES | DATE_VARIABLES  # the variables whose value text is not


_CHECKED = (ITEM_VARIABLES - {"id", "custom"}) | _NOT_TEXT  # field_problem passes any value of the others


def check_fields(records: Iterable[Record]) -> None:
    """Raise StoreError naming the first reference and field whose value has the
    wrong type (a hand-edited store), so no command trips over it later."""
    for rec in records:
        problem = record_problem(rec)
        if problem:
            raise StoreError(f"reference {rec.get('id')!r}: the field {problem[0]!r} {problem[1]} "
                             "(edited by hand?); run `citetool doctor --repair` to fix it")
