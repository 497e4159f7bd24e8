"""CSL-JSON: an array of items valid against the official schema
(``csl-data.json``, ``additionalProperties: false``): citetool's own data and
anything else the schema does not know are left out."""

from __future__ import annotations

import json
import re

from citetool.record import DATE_VARIABLES, ITEM_VARIABLES, NAME_KEYS, NAME_VARIABLES, Record, relation_notes, repec_handle


def to_csl(rec: Record) -> dict:
    item = {}
    for key, value in rec.items():
        if key not in ITEM_VARIABLES:
            continue
        if key in NAME_VARIABLES or (isinstance(value, list) and value and isinstance(value[0], dict)):
            value = [{k: v for k, v in n.items() if k in NAME_KEYS} for n in value]
        item[key] = value
    if item.get("type") == "book" and item.get("container-title") and not item.get("collection-title"):
        # What Crossref calls a book's container is its series (Antarctic Research
        # Series, Lecture Notes in ...): CSL's collection-title, as BibTeX's
        # series and RIS's T2 of a BOOK say, and as pandoc and citation-js read them.
        item["collection-title"] = item.pop("container-title")
    if "bibtex" in rec.get("citetool", {}):  # the braces of an imported title: CSL's case protection
        from citetool.formats.bibtex_written_back import nocase_title  # only for imported entries

        title = nocase_title(rec)
        if title:
            item["title"] = title
    item["citation-key"] = rec["id"]
    handle = repec_handle(rec)
    if handle and handle not in item.get("note", ""):
        item["note"] = "\n".join(n for n in (item.get("note"), f"RePEc: {handle}") if n)
    for note in relation_notes(rec):  # the preprint an upgrade replaced
        if note not in item.get("note", ""):
            item["note"] = "\n".join(n for n in (item.get("note"), note) if n)
    return item


def render(records: list[Record]) -> str:
    """The array, two-space indented (orjson: the bytes json.dumps would write, faster)."""
    import orjson

    return orjson.dumps([to_csl(r) for r in records], option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


# CSL's case protection, as the export writes an imported title's braced words:
# read back as the words themselves (the store keeps text, not markup).
_NOCASE = re.compile(r'<span class="nocase">(.*?)</span>', re.S)


def _without_nocase(value):
    return _NOCASE.sub(r"\1", value) if isinstance(value, str) and "nocase" in value else value


def read(text: str, origin: str):
    """Entries of a CSL-JSON file (an array of items, or one item)."""
    from citetool.formats.imported import Imported, unreadable  # start-up: loaded only when needed
    from citetool.record_shape import date_problem  # start-up: loaded only when needed

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [f"{origin}:{exc.lineno}: not valid JSON ({exc.msg})"]
    except RecursionError:
        return [], [f"{origin}: cannot be read: its JSON is nested too deeply"]
    except ValueError:  # Python reads no integer of over 4,300 digits
        return [], [f"{origin}: cannot be read: it holds a number of more than 4,300 digits"]
    items = data if isinstance(data, list) else [data]
    out, problems = [], []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not (item.get("title") or item.get("DOI")):
            problems.append(f"{origin}: item {n}: skipped (not a CSL item with a title or DOI)")
            continue
        try:
            # A null is no value; a date given as a year (2020, as some tools write CSL-JSON) is that
            # year. Other values are kept as they are: `citetool import` checks their shape.
            rec = {k: ({"date-parts": [[v]]} if k in DATE_VARIABLES and type(v) is int else _without_nocase(v))
                   for k, v in item.items()
                   if k in ITEM_VARIABLES and k not in ("id", "citation-key", "custom") and v is not None}
            rec.setdefault("type", "document")
            if isinstance(rec.get("DOI"), str):
                rec["DOI"] = rec["DOI"].lower()
            for variable in DATE_VARIABLES & rec.keys():
                problem = date_problem(rec[variable])
                if problem:
                    problems.append(f"{origin}: item {n}: {variable} left out: {problem}")
                    del rec[variable]
            key = item.get("citation-key") or item.get("id")
            key = str(key) if key is not None else None
        except Exception as exc:
            problems.append(unreadable(f"{origin}: item {n}", exc, "an item"))
            continue
        out.append(Imported(key=key, record=rec, line=n))
    return out, problems
