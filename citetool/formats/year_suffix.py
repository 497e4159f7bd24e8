"""CSL year-suffixes ("Fenner, M. (2021a)", "(2021b)") for a styled bibliography.

citeproc-py renders the ``year-suffix`` variable but never assigns one. CSL 1.0.2
("Disambiguation", step 4): when the style's ``<citation>`` says
``disambiguate-add-year-suffix="true"``, the cites that stay ambiguous get the
suffixes "a", "b", ... "z", "aa", "ab"... in the order of the bibliography;
the style prints them wherever it calls ``year-suffix`` (after the year, in the
bibliography and the citations). Styles without the attribute (MLA, IEEE,
numbered styles) never get one.

Ambiguous here: two records whose citation, as citeproc-py renders the style's
``<citation><layout>`` for each alone, is the same text ("Fenner, 2021"). A
style that may also tell cites apart by adding names or given names
(``disambiguate-add-names``, ``disambiguate-add-givenname``) does so before
adding a suffix, so for it the records must also have the same names (family
name and first initial of each author and editor, as pandoc's initials tell
them apart); records it could tell apart that way get no suffix.
"""

from __future__ import annotations

import json
import string

_CSL = "{http://purl.org/net/xbiblio/csl}"
_NAMES_COMPARED = ("author", "editor")


def citation_of(root):
    """The style's ``<citation>`` element when it adds year-suffixes, else None."""
    citation = root.find(_CSL + "citation")
    if citation is None or citation.get("disambiguate-add-year-suffix", "false").lower() != "true":
        return None
    return citation


def ambiguity_key(citation, rendered: str, item: dict) -> str:
    """What two records must share to be ambiguous: their rendered citation and,
    when the style could add names to tell them apart, their names."""
    if not rendered:
        return ""
    adds_names = any(citation.get(option, "false").lower() == "true"
                     for option in ("disambiguate-add-names", "disambiguate-add-givenname"))
    names = [[_name_compared(name) for name in item.get(variable) or [] if isinstance(name, dict)]
             for variable in _NAMES_COMPARED] if adds_names else []
    return json.dumps([rendered, names], ensure_ascii=False)


def _name_compared(name: dict) -> list[str]:
    given = str(name.get("given") or "").strip()
    return [str(name.get("family") or name.get("literal") or ""), given[:1]]


def suffixes(keys: list[str], order: list[int]) -> dict[int, str]:
    """The year-suffix of each place whose key another record shares ("" keys never
    do), lettered in ``order`` (the places in the bibliography's order)."""
    groups: dict[str, list[int]] = {}
    for place in order:
        if keys[place]:
            groups.setdefault(keys[place], []).append(place)
    given: dict[int, str] = {}
    for members in groups.values():
        if len(members) > 1:
            for number, place in enumerate(members):
                given[place] = letters(number)
    return given


def letters(number: int) -> str:
    """The ``number``-th suffix from 0: "a"... "z", then "aa", "ab"... (CSL's order)."""
    out = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        out = string.ascii_lowercase[rest] + out
    return out
