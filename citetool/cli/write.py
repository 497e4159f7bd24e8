"""Commands that write bibliographies: ``export`` (the store, or a selection)
and ``bib`` (exactly what a manuscript cites).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, handle_errors, open_library, open_stored_library, out, say
from citetool.cli.options import (
    FormatOption,
    OutputOption,
    SearchOption,
    StyleOption,
    TagOption,
    TypeOption,
    UnicodeOption,
    YearOption,
    format_and_style,
)
from citetool.cli.output import progress_bar, write_output
from citetool.cli.values import say_nothing_matched, selection_filters
from citetool.errors import ExitCode


@app.command()
@handle_errors
def export(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to export (default: all).", show_default=False)] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    style: StyleOption = None,
    unicode: UnicodeOption = False,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
    tags: TagOption = None,
) -> None:
    """Export references (sorted by key) in one format.

    Example: citetool export --format ris --output refs.ris
    """
    fmt, style = format_and_style(fmt, style)
    filters = selection_filters(types, year_spec, search, tags=tags)  # a bad option first, before the store is read
    library = open_stored_library()
    with progress_bar(what="formatting") as progress:
        exported = library.export(fmt, keys, filters, style, unicode=unicode, progress=progress)
    if not exported.records:
        say_nothing_matched(keys, filters)
    for warning in exported.warnings:
        say(f"warning: {warning}")
    write_output(exported.text, output)


@app.command()
@handle_errors
def bib(
    papers: Annotated[list[Path], typer.Argument(help="Manuscripts: LaTeX (.tex, following \\input/\\include), .aux, or pandoc Markdown (.md, .qmd, .Rmd).")],
    fmt: FormatOption = None,
    output: OutputOption = None,
    style: StyleOption = None,
    unicode: UnicodeOption = False,
    keys_only: Annotated[bool, typer.Option("--keys", help="Print the cited keys, one a line, and exit.")] = False,
    check: Annotated[bool, typer.Option("--check", help=(
        "Write no bibliography: exit 0 if every citation resolves and none is retracted or of concern, else 3."))] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Make no request: identifier keys from the store and the cache only.")] = False,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Write the bibliography even if some keys are unknown.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON report (keys, resolved, added, missing) on stdout, not the bibliography.")] = False,
) -> None:
    """Write the bibliography a manuscript cites: exactly its references, under the keys it cites them by.

    Keys that are identifiers (doi:..., isbn:..., repec:..., https://..., url:...,
    arxiv:...) are resolved and stored when missing. Unknown keys are named on
    stderr with the closest stored keys, and nothing is written (exit 3).

    Example: citetool bib paper.tex -o refs.bib

    Example: citetool bib paper.md -f csl-json -o refs.json

    Example: citetool bib --check paper.tex
    """
    from citetool.bibliography import identifier_of  # start-up: loaded only when needed
    from citetool.manuscript import cited_keys  # start-up: loaded only when needed

    fmt, style = format_and_style(fmt, style)
    keys: list[str] = []
    for paper in papers:
        scan = cited_keys(paper)
        for note in scan.notes:
            say(f"warning: {note}")
        if not scan.keys:
            say(f"warning: {paper} cites nothing")
        keys = list(dict.fromkeys([*keys, *scan.keys]))  # in order, each once (linear: 100,000 keys)
    if keys_only:
        for key in keys:
            out(key)
        return
    lookups = sum(identifier_of(k) is not None for k in keys)
    with progress_bar(lookups) as progress:
        result = open_library().bib(keys, fmt=fmt, style=style, unicode=unicode, offline=offline,
                                    render=not check and not (as_json and output is None), progress=progress)
    retracted = result.retracted
    for warning in result.warnings:  # with --check, a retracted citation is a reason to fail (a CI run)
        say(f"error: {warning}" if check and warning in retracted else f"warning: {warning}")
    missing = result.missing
    for citation in missing:
        say(f"{'warning' if allow_missing else 'error'}: {citation.message()}")
    if (not missing or allow_missing) and result.text is not None:
        write_output(result.text, output)
    if as_json:
        out(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    resolved = len(result.citations) - len(missing)
    say(f"{resolved} of {len(result.citations)} cited references resolved"
        + (f", {len(missing)} missing" if missing else "")
        + (f", {len(retracted)} retracted or of concern" if check and retracted else ""))
    if (missing and not allow_missing) or (check and retracted):
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))
