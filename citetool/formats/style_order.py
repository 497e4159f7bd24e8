"""The order of a styled reference list: the style's ``<bibliography><sort>``
keys, compared as citeproc-py compares them (``Sort.sort`` in citeproc-py's
model), so that citetool lists entries as citeproc-py's own
``CitationStylesBibliography.sort`` would, texts collated; a style without a bibliography
sort (IEEE, Vancouver: the order of citation) keeps the records' order.

citeproc-py's rule, key after key: a key's value is lowercased (with
``str.lower``); two values that both read as integers (``int(str(value))``)
compare as numbers; a missing value (None) goes after any present one; ``sort=
"descending"`` reverses a key. citeproc-py compares other values code point by
code point ("Pánek" after "Petrovici"); here texts are collated first
(:func:`collation_key`: accents, case and punctuation set aside, as pandoc's
Unicode collation has them), code points only breaking ties. Python's sort is
stable, so records tied on
every key keep the order they came in.

citeproc-py computes every key of every reference before sorting, and a key
is a macro rendered in full (MLA sorts by seven macros, Chicago by eleven
keys): on 475 references the sort cost as much as the render. Here a key's
value is computed when a comparison first needs it (the second key only for
references tied on the first...), which gives the very comparisons, hence the
very order, citeproc-py's sort gives. And each value computed can be kept in
the export cache (:class:`SortValues`), so that a repeated export sorts
without rendering any key.

The values are always computed with citeproc-py's plain-text formatter, for
HTML too: in HTML citeproc-py's keys hold markup (``<i>Aquatic Ecology</i>``,
``&amp;``), which would sort an anonymous work with an italic title before
every author. Text and HTML list entries in one order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key

import orjson

_CSL = "{http://purl.org/net/xbiblio/csl}"
_NOT_YET = object()  # a value not computed yet

# A key's value as compared: None, or the lowercased text (an int for the
# citation-number variable), with the number it reads as (or None) and, for a
# text, its collation key (:func:`collation_key`).
Value = tuple[object, int | None, str | None]

# Letters Unicode does not decompose into a base letter and a mark, read as the
# letters a reader alphabetises them under.
_AS_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
                             "ŀ": "l", "ħ": "h", "ŧ": "t"})
_SEPARATOR = "\x01"  # a word's end: before every letter and digit, so "Smith, Zed" comes before "Smithson"


@dataclass(frozen=True)
class SortSpec:
    """A style's bibliography sort: each key's direction, and whether any key
    depends on the citation number (directly or through its macros), which
    depends on the reference's neighbours: such values are never kept."""

    descending: tuple[bool, ...]
    numbered: bool


def sort_spec(style_path: str) -> SortSpec | None:
    """The bibliography sort of the CSL style at ``style_path``; None without one, and
    for a file that is no XML (the render that follows says what is wrong with it)."""
    from lxml import etree

    try:
        root = etree.parse(style_path, etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    except (etree.XMLSyntaxError, OSError, ValueError):
        return None
    sort = root.find(f"{_CSL}bibliography/{_CSL}sort")
    keys = [] if sort is None else sort.findall(f"{_CSL}key")
    if not keys:
        return None
    macros = {macro.get("name"): macro for macro in root.iter(f"{_CSL}macro")}
    return SortSpec(tuple(key.get("sort", "ascending").lower() == "descending" for key in keys),
                    any(_calls(key, macros, set(), _calls_citation_number) for key in keys))


def _calls_citation_number(node) -> bool:
    return "citation-number" in (node.get("variable") or "").split()


def repressible_in_sort_render(macro) -> frozenset | None:
    """What a render of ``macro`` (citeproc-py's element) asks of the entry's
    suppressed variables, when a sort key's render of it is the one the
    bibliography's layout makes (:func:`citetool.formats.citeproc_memo.share_sort_render`):
    the ``(tag, variable)`` of each ``<text variable>`` and ``<names>`` (each of its
    variables too) it reaches through the macros it calls. None when the two
    renders may differ: ``macro`` has ``<names>`` of its own (the name sort options
    reach those), or it reaches ``citation-number`` or a localised ``<date>`` with
    ``<date-part>`` elements."""
    if next(macro.iter(f"{_CSL}names"), None) is not None:
        return None
    root = macro.getroottree().getroot()
    macros = {element.get("name"): element for element in root.iter(f"{_CSL}macro")}
    if _calls(macro, macros, set(), _numbered_or_localised_date):
        return None
    asked: set = set()

    def note(node) -> bool:
        if node.tag in (f"{_CSL}text", f"{_CSL}names") and node.get("variable"):
            variable = node.get("variable")
            asked.update((node.tag, name) for name in (variable, *variable.split()))
        return False

    _calls(macro, macros, set(), note)
    return frozenset(asked)


def _numbered_or_localised_date(node) -> bool:
    return (_calls_citation_number(node)
            or (node.tag == f"{_CSL}date" and node.get("form") is not None
                and next(node.iter(f"{_CSL}date-part"), None) is not None))


def _calls(element, macros: dict, seen: set, found: Callable) -> bool:
    """Whether ``found`` holds for ``element`` or an element under it, through the macros it calls."""
    for node in element.iter():
        if found(node):
            return True
        called = node.get("macro")
        if called and called not in seen and called in macros:
            seen.add(called)
            if _calls(macros[called], macros, seen, found):
                return True
    return False


def _json_value(value) -> bool:
    return value is None or type(value) is str or type(value) is int


def collation_key(text: str) -> str:
    """``text`` as an alphabetical list orders it, first: letters and digits of
    any script, case folded, without their accents (Pánek with Panek, Çelik
    under C), punctuation left out (“Aquatic ecology” under A, O'Brien with
    Obrien), each space or comma a word's end. Texts alike so are then ordered
    by their code points (citeproc-py's own comparison), as the Unicode
    Collation Algorithm, which pandoc uses, breaks such ties by accents."""
    words = []
    for word in text.casefold().translate(_AS_LETTERS).replace(",", " ").split():
        letters = "".join(filter(str.isalnum, unicodedata.normalize("NFKD", word)))
        if letters:
            words.append(letters)
    return _SEPARATOR.join(words)


def as_compared(value) -> Value:
    """A key's value as compared: citeproc-py's reading (``Sort.sort``: lowercased,
    a number when it reads as one) and its collation key."""
    if value is None:
        return None, None, None
    if hasattr(value, "lower"):
        value = str(value.lower())
    try:
        return value, int(str(value)), None
    except ValueError:
        return value, None, collation_key(value) if type(value) is str else None


def _compared(left: Value, right: Value, descending: bool) -> int:
    """-1, 0 or 1 for two values of one key: None last (whatever the direction, as
    CSL says and citeproc-py does), numbers as numbers when both are, texts by
    their collation keys, then as citeproc-py compares them (code points)."""
    left_value, left_number, left_collated = left
    right_value, right_number, right_collated = right
    if left_value is None or right_value is None:
        return (left_value is None) - (right_value is None)
    if left_number is not None and right_number is not None:
        left_value, right_value = left_number, right_number
    elif left_collated is not None and right_collated is not None and left_collated != right_collated:
        left_value, right_value = left_collated, right_collated
    try:
        result = (left_value > right_value) - (left_value < right_value)
    except TypeError:  # a number and a text in one key (a hand-edited export cache): as texts
        left_value, right_value = str(left_value), str(right_value)
        result = (left_value > right_value) - (left_value < right_value)
    return -result if descending else result


class SortValues:
    """Each record's key values, taken from ``known`` (one a record, from the
    export cache: see :meth:`kept`) or computed when first needed by
    ``compute(record_place, key_place)`` (citeproc-py's raw value)."""

    def __init__(self, spec: SortSpec, count: int, compute: Callable[[int, int], object],
                 known: list[str | None] | None = None):
        self.spec = spec
        self.compute = compute
        self.values: list[list] = [[_NOT_YET] * len(spec.descending) for _ in range(count)]
        self.lowered: list[list] = [[_NOT_YET] * len(spec.descending) for _ in range(count)]  # as kept
        self.computed = False  # whether any value was computed (the cache has something new)
        for place, text in enumerate(known or ()):
            if text is not None:
                self._take(place, text)

    def _take(self, place: int, text: str) -> None:
        try:
            stored = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if not isinstance(stored, dict):
            return
        row, lowered = self.values[place], self.lowered[place]
        for key, value in stored.items():
            if key.isdigit() and int(key) < len(row) and _json_value(value):
                lowered[int(key)] = value
                row[int(key)] = as_compared(value)

    def value(self, place: int, key: int) -> Value:
        row = self.values[place]
        found = row[key]
        if found is _NOT_YET:
            found = row[key] = as_compared(self.compute(place, key))
            self.lowered[place][key] = found[0]
            self.computed = True
        return found

    def order(self) -> list[int]:
        """The places of the records in the style's order."""
        directions = list(enumerate(self.spec.descending))
        value = self.value

        def compare(left: int, right: int) -> int:
            for key, descending in directions:
                result = _compared(value(left, key), value(right, key), descending)
                if result:
                    return result
            return 0

        return sorted(range(len(self.values)), key=cmp_to_key(compare))

    def kept(self) -> list[str | None]:
        """Each record's known values as the export cache keeps them (JSON: key
        place to value); None for a record with none, or with a value JSON
        does not hold as such."""
        texts: list[str | None] = []
        for lowered in self.lowered:
            known = {str(key): value for key, value in enumerate(lowered) if value is not _NOT_YET}
            if not known or not all(_json_value(value) for value in known.values()):
                texts.append(None)
            else:
                texts.append(orjson.dumps(known).decode())
        return texts

