"""One module per export format; each has ``render(records) -> str``.

``FORMATS`` maps the names users type to ``(module, function)``; modules are
imported only when their format is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from citetool.errors import StoreError, UsageError
from citetool.record import Record

if TYPE_CHECKING:
    from citetool.formats.entry_cache import EntryCache

FORMATS = {
    "bibtex": ("citetool.formats.bibtex", "render_bibtex"),
    "biblatex": ("citetool.formats.bibtex", "render_biblatex"),
    "ris": ("citetool.formats.ris", "render"),
    "csl-json": ("citetool.formats.csljson", "render"),
    "html": ("citetool.formats.html", "render_html"),
    "text": ("citetool.formats.html", "render_text"),
}


# Formats that write LaTeX, where ``unicode=True`` keeps every character as UTF-8.
LATEX_FORMATS = ("bibtex", "biblatex")


# Formats written entry by entry, whose entries an EntryCache can remember.
CACHED_FORMATS = ("bibtex", "biblatex", "ris")


def render(fmt: str, records: list[Record], unicode: bool = False, cache: EntryCache | None = None) -> str:
    """Render ``records`` (already sorted) in format ``fmt``; ``unicode``: for
    bibtex and biblatex, UTF-8 as is instead of LaTeX (the others are UTF-8);
    ``cache``: entries rendered by earlier runs (:mod:`citetool.formats.entry_cache`)."""
    try:
        module, func = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    if fmt in LATEX_FORMATS:
        refuse_unwritable_keys(records)
    renderer = getattr(import_module(module), func)
    options = {"cache": cache} if cache is not None and fmt in CACHED_FORMATS else {}
    if unicode and fmt in LATEX_FORMATS:
        options["unicode"] = True
    return renderer(records, **options)


def refuse_unwritable_keys(records: list[Record]) -> None:
    """StoreError (exit 4) naming the first key a .bib entry cannot hold: one with
    a line break, a comma or a brace would write past its entry (``evil,\\n note =
    {\\input{/etc/hostname}}``). The store refuses such keys when it is read; this
    guards every other way a record reaches an export."""
    from citetool.keys import all_citable, invalid_key_reason  # start-up: loaded only when needed

    try:
        if all_citable([record.get("id") for record in records]):  # every key at once (one search in C)
            return
    except TypeError:  # a key that is not text: said below
        pass
    for record in records:
        why = invalid_key_reason(record.get("id"))
        if why:
            raise StoreError(f"cannot export the reference with key {record.get('id')!r}: the key {why}, "
                             "which would end its entry early; rename it (`citetool rekey`) and export again")


READERS = {
    "bibtex": ("citetool.formats.bibtex_reader", "read"),
    "ris": ("citetool.formats.ris", "read"),
    "csl-json": ("citetool.formats.csljson", "read"),
}


def sniff(name: str, text: str) -> str:
    """The format of an import file: by extension, else by its first characters."""
    lowered = name.lower()
    if lowered.endswith((".bib", ".bibtex")):
        return "bibtex"
    if lowered.endswith(".ris"):  # RIS whatever it holds: the RIS reader says what is wrong with it
        return "ris"
    if lowered.endswith(".txt") and "TY  -" in text[:2000]:
        return "ris"
    if lowered.endswith(".json"):
        return "csl-json"
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head == "@":
        return "bibtex"
    if head in "[{":
        return "csl-json"
    if text.lstrip("\ufeff \t\r\n").startswith("TY  -"):
        return "ris"
    raise UsageError(f"cannot tell the format of {name}: expected BibTeX (.bib), RIS (.ris) or CSL-JSON (.json)")


def read(name: str, text: str, macros: dict[str, str] | None = None):
    """(entries, problems) of one import file; ``macros``: the @string macros of the
    .bib files read before it (BibTeX reads ``\\bibliography{strings,refs}`` so),
    to which a .bib file adds its own."""
    kind = sniff(name, text)
    module, func = READERS[kind]
    if kind == "bibtex" and macros is not None:
        return getattr(import_module(module), func)(text, name, macros)
    return getattr(import_module(module), func)(text, name)


def read_entries(name: str, text: str, macros: dict[str, str] | None = None):
    """:func:`read` as (an iterator of the entries, the problems): a .bib file is read an
    entry at a time as the iterator goes (:func:`citetool.formats.bibtex_reader.read_stream`),
    adding each entry's problems as it comes to it; other files are read whole at once."""
    if sniff(name, text) == "bibtex":
        from citetool.formats.bibtex_reader import read_stream  # start-up: loaded only when needed

        return read_stream(text, name, macros)
    found, problems = read(name, text, macros)
    return iter(found), problems
