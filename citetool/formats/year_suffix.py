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
adding a suffix, so for it the records must also have the same names cited
(the authors, else the editors): the same family names, and, in a style that
adds given names, the same given names, or their initials where its
``givenname-disambiguation-rule`` shows initials (APA's
``primary-name-with-initials``); records it could tell apart that way get no
suffix, as in pandoc.
"""

from __future__ import annotations

import json
import string

_CSL = "{http://purl.org/net/xbiblio/csl}"
_NAMES_CITED = ("author", "editor")  # the names a citation shows: the authors, else the editors


def citation_of(root):
    """The style's ``<citation>`` element when it adds year-suffixes, else None."""
    citation = root.find(_CSL + "citation")
    if citation is None or citation.get("disambiguate-add-year-suffix", "false").lower() != "true":
        return None
    return citation


def ambiguity_key(citation, rendered: str, item: dict) -> str:
    """What two records must share to be ambiguous: their rendered citation and,
    when the style could add names or given names to tell them apart, the names
    cited as those would show them."""
    if not rendered:
        return ""
    adds_names, adds_given = (citation.get(option, "false").lower() == "true"
                              for option in ("disambiguate-add-names", "disambiguate-add-givenname"))
    names = []
    if adds_names or adds_given:
        initials = citation.get("givenname-disambiguation-rule", "by-cite").endswith("with-initials")
        cited = next((item[variable] for variable in _NAMES_CITED if item.get(variable)), [])
        names = [_name_compared(name, adds_given, initials) for name in cited if isinstance(name, dict)]
    return json.dumps([rendered, names], ensure_ascii=False)


def _name_compared(name: dict, given_shown: bool, initials: bool) -> list[str]:
    given = str(name.get("given") or "").strip() if given_shown else ""
    return [str(name.get("family") or name.get("literal") or ""), given[:1] if initials else given]


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
