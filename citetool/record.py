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

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

Record = dict[str, Any]

META = "citetool"

# The CSL item types (the official schema's enum).
CSL_TYPES = frozenset("""
    article article-journal article-magazine article-newspaper bill book broadcast chapter
    classic collection dataset document entry entry-dictionary entry-encyclopedia event figure
    graphic hearing interview legal_case legislation manuscript map motion_picture
    musical_score pamphlet paper-conference patent performance periodical
    personal_communication post post-weblog regulation report review review-book software song
    speech standard thesis treaty webpage
""".split())

# Variables the official CSL-JSON schema (v1.0) allows on an item, and on a name.
ITEM_VARIABLES = frozenset("""
type id citation-key categories language journalAbbreviation shortTitle author chair
collection-editor compiler composer container-author contributor curator director editor
editorial-director executive-producer guest host interviewer illustrator narrator organizer
original-author performer producer recipient reviewed-author script-writer series-creator
translator accessed available-date event-date issued original-date submitted abstract annote
archive archive_collection archive_location archive-place authority call-number chapter-number
citation-number citation-label collection-number collection-title container-title
container-title-short dimensions division DOI edition event event-title event-place
first-reference-note-number genre ISBN ISSN issue jurisdiction keyword locator medium note
number number-of-pages number-of-volumes original-publisher original-publisher-place
original-title page page-first part part-title PMCID PMID printing publisher publisher-place
references reviewed-genre reviewed-title scale section source status supplement title
title-short URL version volume volume-title volume-title-short year-suffix custom
""".split())
NAME_VARIABLES = frozenset("""author chair collection-editor compiler composer container-author
contributor curator director editor editorial-director executive-producer guest host interviewer
illustrator narrator organizer original-author performer producer recipient reviewed-author
script-writer series-creator translator""".split())
DATE_VARIABLES = frozenset("accessed available-date event-date issued original-date submitted".split())
NAME_KEYS = frozenset("""family given dropping-particle non-dropping-particle suffix comma-suffix
static-ordering literal parse-names""".split())


# C0 and C1 control characters (and DEL): an escape sequence in a title could
# retitle or clear the terminal it is printed on.
_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])


@functools.cache
def _control_pattern(keep: str) -> re.Pattern:
    drop = "".join(c for c in _CONTROLS if c not in keep)
    return re.compile("[" + re.escape(drop) + "]")


def strip_controls(text: str, keep: str = "\t\n\r") -> str:
    """``text`` without control characters, but for the whitespace in ``keep``
    (a field may hold tabs and line breaks; a terminal line keeps ``\t\n``),
    and with a lone surrogate replaced by U+FFFD (:func:`without_surrogates`)."""
    if text.isprintable():  # no control character in it (most text): nothing to look up
        return text
    return without_surrogates(_control_pattern(keep).sub("", text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (half a character, which no UTF-8 file
    or consumer can hold: a JSON ``"\\ud800"``) replaced by U+FFFD."""
    return text if text.isprintable() else _SURROGATE.sub("\ufffd", text)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` (any JSON value) with ``change`` applied to every string in it,
    keys, names and nested values included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(k): map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    return value


def clean_record(value: Any) -> Any:
    """A record (or any JSON value) with control characters removed from every
    string in it, names and nested values included: done once, as a record
    enters the store (see ``citetool.merge``)."""
    return map_strings(value, strip_controls)


def meta(record: Record) -> dict:
    return record.setdefault(META, {})


def year(record: Record) -> int | None:
    issued = record.get("issued")
    if type(issued) is dict:  # most records: a plain date, known at once
        parts = issued.get("date-parts")
        if type(parts) is list and parts and type(parts[0]) is list and _plainly_a_date(parts[0]):
            return parts[0][0]
    parts = date_parts(record)
    return parts[0] if parts else None


def date_parts(record: Record, variable: str = "issued") -> list[int]:
    """The first date of ``variable`` as a list of ints ([Y], [Y, M] or [Y, M, D]); [] if none.
    Only what is a date: a stored value that cannot be one (a hand-edited or
    older store: 2020-02-31, month 13, year 99999) gives its valid start
    ([2020, 2], [2020], []), which every export can write; ``date_notes`` says so."""
    value = record.get(variable)
    if not isinstance(value, dict):
        return []
    parts = (value.get("date-parts") or [[]])[0] or []
    out: list[int] = []
    for p in parts[:3]:
        try:
            out.append(int(p))
        except (TypeError, ValueError, OverflowError):
            break
    return _valid_start(out)


def _valid_start(parts: list[int]) -> list[int]:
    """The longest start of ``parts`` that is a date (CSL: a negative year is BCE;
    a month 21-24 with no day is a season)."""
    if not parts or not -9999 <= parts[0] <= 9999:
        return []
    if len(parts) == 1:
        return parts
    month = parts[1]
    if not (1 <= month <= 12 or (21 <= month <= 24 and len(parts) == 2)):
        return parts[:1]
    if len(parts) == 3:
        import datetime

        try:  # a year datetime cannot hold (BCE) is checked as a leap year: 29 February may be right
            datetime.date(parts[0] if parts[0] >= 1 else 2000, month, parts[2])
        except ValueError:
            return parts[:2]
    return parts


def _plainly_a_date(parts: list) -> bool:
    """Most stored dates, known at once: a year, a year and month, or a day its
    month has in every year (29 February is left to the full check), all numbers."""
    n = len(parts)
    return (0 < n < 4 and type(parts[0]) is int and 0 < parts[0] < 10000
            and (n < 2 or type(parts[1]) is int and 0 < parts[1] < 13)
            and (n < 3 or type(parts[2]) is int and 0 < parts[2] <= _DAYS_IN_MONTH[parts[1]]))


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: in every year


def date_notes(record: Record) -> list[str]:
    """One line per stored date that is not one, saying what the exports write instead."""
    notes = []
    for variable in ("issued", "accessed"):
        value = record.get(variable)
        if not isinstance(value, dict) or not isinstance(value.get("date-parts"), list):
            continue
        first = (value["date-parts"] or [[]])[0]
        if not isinstance(first, list) or _plainly_a_date(first):
            continue
        written = date_parts(record, variable)
        if [str(p) for p in first[:3]] != [str(p) for p in written]:
            shown = "-".join(str(p) for p in first[:3])
            instead = f"exported as {date_text(written)}" if written else "exported without it"
            notes.append(f"{record.get('id')}: {variable} {shown} is not a date: {instead}")
    return notes


def edtf_text(parts: list[int]) -> str:
    """A date as biblatex reads it (EDTF): 2021-10-28; a year before the common
    era in astronomical numbering, as EDTF counts (CSL's -50, 50 BCE, is -0049)."""
    if parts and parts[0] < 0:
        parts = [parts[0] + 1] + parts[1:]
    return date_text(parts)


def date_text(parts: list[int], sep: str = "-") -> str:
    """[2021, 10, 28] -> "2021-10-28" ("2021/10/28" with sep="/"); [2021] -> "2021"."""
    return sep.join([f"{parts[0]:04d}" if parts[0] >= 0 else f"-{-parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]])


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


def aliases(record: Record) -> list[str]:
    """A reference's other keys (``"citetool": {"aliases": [...]}``: e.g. the
    key a co-author gave the same work, kept by a git merge)."""
    meta = record.get(META)
    found = meta.get("aliases") if type(meta) is dict else None  # a hand edit of the wrong shape: none
    return [a for a in found if isinstance(a, str)] if type(found) is list else []


def value_text(value: Any) -> str:
    """A field's value on one line, as ``citetool show`` prints it (None: no value)."""
    if value is None:
        return "(no value)"
    if isinstance(value, list) and value and all(isinstance(n, dict) for n in value):
        return "; ".join(name_family_first(n) for n in value)
    if isinstance(value, dict) and ("date-parts" in value or "literal" in value or "raw" in value):
        return date_value_text(value)
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def date_value_text(value: dict) -> str:
    """A CSL date as ISO 8601: 2021-10-02, 2021-10, a range 2021-10-02/2021-10-05;
    a literal or raw date as written."""
    ranges = []
    for parts in value.get("date-parts") or []:
        try:
            numbers = [int(p) for p in parts or []]
        except (TypeError, ValueError):
            numbers = []
        if numbers:
            ranges.append(date_text(numbers))
    if ranges:
        return "/".join(ranges)
    return " ".join(str(value.get("literal") or value.get("raw") or "").split())


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


def repec_handle(record: Record) -> str | None:
    """The RePEc handle of a reference, if it has one."""
    return record.get(META, {}).get("ids", {}).get("repec")


def relations(record: Record) -> list[dict]:
    """Other works this reference stands in for (``citetool.relations``): the
    preprint an ``upgrade`` replaced, as ``{"type": "preprint", "DOI", "repec"?}``."""
    value = record.get(META, {}).get("relations")
    return [r for r in value if isinstance(r, dict) and r.get("DOI")] if isinstance(value, list) else []


def relation_notes(record: Record) -> list[str]:
    """The relations as the exports print them: "Preprint: doi:10.1101/097196"."""
    out = []
    for relation in relations(record):
        text = f"{str(relation.get('type') or 'related').capitalize()}: doi:{relation['DOI']}"
        if relation.get("repec"):
            text += f" ({relation['repec']})"
        out.append(text)
    return out


def repec_link(record: Record) -> str | None:
    """Its EconPapers persistent link (the form EconPapers itself prints)."""
    handle = repec_handle(record)
    return "https://EconPapers.repec.org/" + handle if handle else None


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
    import re

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
    import re

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


_NOT_TEXT = NAME_VARIABLES | DATE_VARIABLES  # the variables whose value text is not
_CHECKED = (ITEM_VARIABLES - {"id", "custom"}) | _NOT_TEXT  # field_problem passes any value of the others


def check_fields(records: Iterable[Record]) -> None:
    """Raise StoreError naming the first reference and field whose value has the
    wrong type (a hand-edited store), so no command trips over it later."""
    from citetool.errors import StoreError

    for rec in records:
        problem = record_problem(rec)
        if problem:
            raise StoreError(f"reference {rec.get('id')!r}: the field {problem[0]!r} {problem[1]} "
                             "(edited by hand?); run `citetool doctor --repair` to fix it")


def indefinite(noun: str) -> str:
    """"an article-journal", "a book", "an entry-encyclopedia", "a report"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def missing_fields(record: Record) -> list[str]:
    """The fields a record of its type still needs (always at least a title)."""
    required = REQUIRED_FIELDS.get(record.get("type", ""), ("title",))
    return [need.replace("|", " or ") for need in required if not any(record.get(alt) for alt in need.split("|"))]
