"""The one internal record: a CSL-JSON item (the lingua franca of pandoc, Zotero
and citeproc) held as a plain ``dict``.

* CSL variables use their CSL names (``title``, ``container-title``, ``DOI``...).
* ``id`` is the citation key.
* Names are ``{"family", "given", "suffix"}`` or ``{"literal"}`` for organisations;
  they may also carry ``ORCID`` (dropped by the CSL-JSON export, whose schema has
  no room for it).
* citetool's own data lives under the one key ``citetool`` (see :data:`META`):
  identifiers, sources with their fetch times, and which source gave each field.

The vocabulary and the helpers that read records live here; what users type is read
into values by :mod:`citetool.record_input`, and every record's shape is checked by
:mod:`citetool.record_shape`. None of them does I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
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
        except (ValueError, OverflowError):  # (a day of 2**62: too large for the C int datetime takes)
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


def plainly_dated(record: Record) -> bool:
    """Whether each of the record's dates :func:`date_notes` reads is absent or
    plainly a date (most records: nothing to say of them, known at once)."""
    for variable in ("issued", "accessed"):
        value = record.get(variable)
        if value is None:
            continue
        parts = value.get("date-parts") if type(value) is dict else None
        if not (type(parts) is list and parts and type(parts[0]) is list and _plainly_a_date(parts[0])):
            return False
    return True


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


def indefinite(noun: str) -> str:
    """"an article-journal", "a book", "an entry-encyclopedia", "a report"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
