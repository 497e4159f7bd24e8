"""BibTeX (classic: ASCII with LaTeX escapes, for bibtex + .bst styles) and
biblatex (UTF-8, ``date``, ``journaltitle``, ``@online``/``@dataset``/``@report``).

What the real consumers demand, and how this module meets it:

* LaTeX specials ``& % $ # _ { } ~ ^ \\`` are escaped; braces always as
  ``\\textbraceleft{}``/``\\textbraceright{}`` because bibtex and biber count
  braces even after a backslash.
* Classic output is ASCII: non-ASCII letters become LaTeX (``{\\"U}nal``) via
  pylatexenc; characters LaTeX has no name for (CJK, emoji), and those whose
  LaTeX a reader misreads (Cyrillic, odd spaces, „), are kept as UTF-8 rather
  than lost; Greek and math are kept as UTF-8 too. One ``@preamble``
  (:func:`preamble`) makes pdflatex with LaTeX's defaults (OT1 or T1) typeset
  every UTF-8 character of the file (:mod:`citetool.formats.pdflatex_glyphs`).
* ``url``, ``doi`` and ``eprint`` are verbatim for biblatex: never escaped.
* Capitals a style must not lowercase are protected with braces (``{S-400}``).
* Each entry gets the type for its kind of work when the fields that type
  requires are present, else ``@misc``, so no consumer warns of a missing field.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from citetool.formats.bibtex_names_titles import AND_WORD, format_names, protect_title
from citetool.formats.bibtex_types import ORDER, choose_entry
from citetool.formats.bibtex_written_back import alias_records, written_back
from citetool.formats.latex_text import BIBLATEX, CLASSIC, UNICODE, encode_non_ascii, entry_mode, escape, preamble, verbatim
from citetool.formats.render_workers import rendered_in_workers
from citetool.record import (
    META,
    Record,
)

if TYPE_CHECKING:
    from citetool.formats.entry_cache import EntryCache




_MONTH_MACRO = re.compile(r"[a-z]{3}")

# Fields biber reads verbatim (biblatex's data model) and bibtex styles print with \url.
VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "file", "pdf", "urlraw", "verba", "verbb", "verbc"})


# biblatex list fields: " and " separates items, so a name holding one is braced.
_BIBLATEX_LISTS = frozenset({"publisher", "location", "institution", "organization"})


_NO_FIELDS: frozenset[str] = frozenset()


def _value(kind: str, value, mode: str) -> str:
    if kind == "names":
        return "{" + format_names(value, mode) + "}"
    if kind == "title":
        return "{" + protect_title(value, mode) + "}"
    if kind == "verbatim":
        return "{" + verbatim(value) + "}"
    if kind == "macro":
        return value if _MONTH_MACRO.fullmatch(value) else "{" + value + "}"
    if kind == "latex":  # escaped already
        return "{" + value + "}"
    return "{" + escape(value, mode) + "}"


class _Rank(dict):
    """A field's place in ORDER; any other field after them (``__missing__``)."""

    def __missing__(self, name: str) -> int:
        return len(ORDER)


_RANK = _Rank((name, i) for i, name in enumerate(ORDER))


_orders: dict[tuple[str, ...], tuple[str, ...]] = {}  # the order of each set of field names, remembered


def _in_order(fields) -> tuple[str, ...]:
    """Field names in ORDER, the rest alphabetically after them: two sorts in C
    (alphabetical, then stable by rank) instead of a Python key per field, made
    once for each list of names (entries of a kind have the same fields, and
    the same order of them in ``fields``)."""
    names = tuple(fields)
    order = _orders.get(names)
    if order is None:
        order = tuple(sorted(sorted(names), key=_RANK.__getitem__))
        if len(_orders) > 1 << 12:
            _orders.clear()  # a bound on what is remembered (an imported file's own fields vary)
        _orders[names] = order
    return order


def _list_value(name: str, field: tuple, mode: str) -> str:
    """A biblatex list field: "Springer Science and Business Media LLC" is one
    publisher, so a value holding " and " is braced."""
    text = _value(*field, mode)
    return "{" + text + "}" if isinstance(field[1], str) and AND_WORD.search(field[1]) else text




def _line(name: str, kind: str, value, mode: str, lists: frozenset[str]) -> str:
    """One field's line; ``lists``: the fields that are biblatex lists in this dialect."""
    # The kinds in the order of how many fields have them (most: escape alone).
    if kind == "text" and name not in lists:
        return f"  {name} = {{{escape(value, mode)}}},"
    if kind == "names":
        return f"  {name} = {{{format_names(value, mode)}}},"
    if kind == "title":
        return f"  {name} = {{{protect_title(value, mode)}}},"
    if kind == "verbatim" and name not in lists:  # doi, url
        return f"  {name} = {{{verbatim(value)}}},"
    if kind == "raw" and name in VERBATIM_FIELDS:  # a link as the user wrote it: LaTeX for é would break it
        return f"  {name} = {value.replace(chr(0xFFFD), '%EF%BF%BD')},"  # LuaTeX stops on U+FFFD
    if kind == "raw":  # the user's own field, as they wrote it
        return f"  {name} = {value if mode == UNICODE else encode_non_ascii(value, mode)},"
    if name in lists:
        return f"  {name} = {_list_value(name, (kind, value), mode)},"
    return f"  {name} = {_value(kind, value, mode)},"


# The lines of short values, which come back entry after entry (a year, a
# volume, a month, a journal's name, a publisher), remembered for each dialect
# by (kind, name, value), of which such a line is a function.
_KINDS_REMEMBERED = frozenset({"text", "macro"})


_REMEMBERED_VALUE = 64  # characters: not a title, an abstract or a note


_known_lines: dict[tuple[bool, str], dict[tuple[str, str, str], str]] = {}


def render_entry(rec: Record, biblatex: bool, unicode: bool = False) -> str:
    mode = entry_mode(biblatex, unicode)
    etype, fields = choose_entry(rec, biblatex, mode)
    meta = rec.get(META)
    if meta and (meta.get("bibtex") or meta.get("aliases")):  # an imported entry as written; other keys
        etype, fields = written_back(rec, etype, fields, biblatex)
    lists = _BIBLATEX_LISTS if biblatex else _NO_FIELDS
    known = _known_lines.get((biblatex, mode)) or _known_lines.setdefault((biblatex, mode), {})
    lines = [f"@{etype}{{{rec['id']},"]
    add = lines.append
    for name in _in_order(fields):
        kind, value = fields[name]
        if kind in _KINDS_REMEMBERED and type(value) is str and len(value) <= _REMEMBERED_VALUE:
            line = known.get((kind, name, value))
            if line is None:
                line = _line(name, kind, value, mode, lists)
                if len(known) > 1 << 14:
                    known.clear()  # a bound on what is remembered
                known[(kind, name, value)] = line
            add(line)
        else:
            add(_line(name, kind, value, mode, lists))
    add("}\n")
    entry = "\n".join(lines)
    if not biblatex and meta and meta.get("aliases"):  # BibTeX has no ids: an entry under each other key
        entry = "\n".join([entry, *(render_entry(other, biblatex, unicode) for other in alias_records(rec))])
    return entry


def _render(records: list[Record], biblatex: bool, unicode: bool, cache: EntryCache | None = None) -> str:
    def render_one(rec: Record) -> str:
        return render_entry(rec, biblatex=biblatex, unicode=unicode)

    if cache is None:
        entries = rendered_in_workers(render_one, records)
    else:
        entries = cache.entries(("biblatex" if biblatex else "bibtex") + ("-unicode" if unicode else ""),
                                records, render_one)
    head = "" if unicode else preamble(entries, BIBLATEX if biblatex else CLASSIC)
    return "\n".join([head, *entries] if head else entries)


def render_bibtex(records: list[Record], unicode: bool = False, cache: EntryCache | None = None) -> str:
    return _render(records, biblatex=False, unicode=unicode, cache=cache)


def render_biblatex(records: list[Record], unicode: bool = False, cache: EntryCache | None = None) -> str:
    return _render(records, biblatex=True, unicode=unicode, cache=cache)
