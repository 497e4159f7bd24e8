"""One module per export format; each has ``render(records) -> str``.

``FORMATS`` maps the names users type to ``(module, function)``; modules are
imported only when their format is asked for.
"""

from __future__ import annotations

from importlib import import_module

from citetool.errors import UsageError
from citetool.record import Record

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


def render(fmt: str, records: list[Record], unicode: bool = False) -> str:
    """Render ``records`` (already sorted) in format ``fmt``; ``unicode``: for
    bibtex and biblatex, UTF-8 as is instead of LaTeX (the others are UTF-8)."""
    try:
        module, func = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    renderer = getattr(import_module(module), func)
    return renderer(records, unicode=True) if unicode and fmt in LATEX_FORMATS else renderer(records)


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


def read(name: str, text: str):
    """(entries, problems) of one import file."""
    module, func = READERS[sniff(name, text)]
    return getattr(import_module(module), func)(text, name)
