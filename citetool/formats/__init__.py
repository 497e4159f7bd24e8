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


def render(fmt: str, records: list[Record]) -> str:
    """Render ``records`` (already sorted) in format ``fmt``."""
    try:
        module, func = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    return getattr(import_module(module), func)(records)
