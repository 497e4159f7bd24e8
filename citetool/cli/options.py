"""Options several commands share, declared once. Format names come from the
formats registry (:data:`citetool.formats.FORMATS`): a format added there is
offered, completed and checked here with no other change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citetool.cli.app import configuration
from citetool.errors import UsageError
from citetool.formats import FORMATS

FORMAT_NAMES = tuple(FORMATS)


def complete_format(incomplete: str) -> list[str]:
    """Shell completion for ``--format``: the registered formats."""
    return [name for name in FORMAT_NAMES if name.startswith(incomplete)]


def check_format(name: str) -> str:
    """A format name the registry knows, else a usage error naming the choices."""
    if name not in FORMATS:
        raise UsageError(f"unknown format {name!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    return name


def check_style(style: str | None) -> None:
    """``--style ""`` (an unset shell variable) is a usage error, not the default style."""
    if style is not None and not style.strip():
        raise UsageError("--style is empty: give a CSL style name (apa, chicago-author-date, ...) or a .csl file")


def format_and_style(fmt: str | None, style: str | None) -> tuple[str, str | None]:
    """The format and style a command writes: the options, else the configured
    defaults (``format``, ``style`` in citetool.toml), else bibtex and no style.
    A configured style applies only to the formats that take one (html, text)."""
    conf = configuration()
    fmt = check_format(fmt if fmt is not None else conf.format or "bibtex")
    check_style(style)
    if style is None and fmt in ("html", "text"):
        style = conf.style
    return fmt, style


FormatOption = Annotated[str | None, typer.Option("--format", "-f", help=(
    f"One of: {', '.join(FORMAT_NAMES)} (default: citetool.toml's format, else bibtex)."), autocompletion=complete_format)]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout.")]
StyleOption = Annotated[str | None, typer.Option("--style", help=(
    "With html or text: a CSL style (apa, chicago-author-date, harvard-cite-them-right, "
    "modern-language-association...) or a .csl file."))]
UnicodeOption = Annotated[bool, typer.Option("--unicode", help=(
    "bibtex/biblatex: write every character as UTF-8, no LaTeX (for biber, LuaLaTeX, pandoc)."))]
TypeOption = Annotated[list[str] | None, typer.Option("--type", "-t", help=(
    "Only this CSL type (repeatable), e.g. article-journal, book; BibTeX's names are aliases: article, inproceedings, phdthesis..."))]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help=(
    "Only references tagged TAG (repeatable: any of them): a word of their keyword field (edit --set keywords=...)."))]
YearOption = Annotated[str | None, typer.Option("--year", "-y", help="Only this year or range: 2021, 2019-2021, 2019-, -2020.")]
SearchOption = Annotated[
    str | None, typer.Option("--search", "-q", help="Only references whose title, keywords or author names contain TEXT (case and accents ignored).")
]
