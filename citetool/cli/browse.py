"""Commands that read the store: ``list``, ``show`` and ``open``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, environment, handle_errors, open_stored_library, out
from citetool.cli.options import SearchOption, TagOption, TypeOption, YearOption
from citetool.cli.output import authors_short, first_author, print_rows
from citetool.cli.values import say_nothing_matched, selection_filters
from citetool.errors import UsageError
from citetool.record import year


@app.command("list")
@handle_errors
def list_(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to list (default: all).", show_default=False)] = None,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
    tags: TagOption = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only references `citetool check` found news about.")] = False,
    sort: Annotated[str, typer.Option("--sort", help="key, year, author or added (when stored).")] = "key",
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the stored references.")] = False,
) -> None:
    """List the stored references: a table on a terminal, one line each; tab-separated when piped.

    Columns: key, type, year, authors, title (on a terminal: the first author
    and "et al.", the title cut to the width).
    Example: citetool list --year 2020- --search russia --sort year | cut -f1
    """
    from citetool.selection import sort_records  # start-up: loaded only when needed

    filters = selection_filters(types, year_spec, search, flagged, tags)  # a bad option first, before the store is read
    sort_records([], sort)  # a bad --sort too
    records = sort_records(open_stored_library().select(keys, filters), sort)  # shapes checked on reading
    if not records:
        say_nothing_matched(keys, filters)
    if as_json:
        out(json.dumps(records, ensure_ascii=False, indent=2))
        return
    on_terminal = environment().stdout_isatty
    people = first_author if on_terminal else authors_short
    rows = [(r["id"], r.get("type", ""), str(year(r) or ""), people(r), r.get("title", "")) for r in records]
    print_rows(("key", "type", "year", "authors", "title"), rows, one_line=True)


@app.command()
@handle_errors
def show(
    key: Annotated[str, typer.Argument(help="Citation key (case-insensitive).")],
    as_json: Annotated[bool, typer.Option("--json", help="The stored record as JSON.")] = False,
) -> None:
    """Show one reference, each field with the source that gave it.

    Example: citetool show arduino2021russia
    """
    from citetool.show import show_lines  # start-up: loaded only when needed

    rec = open_stored_library().get(key)
    if as_json:
        out(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True))
        return
    for line in show_lines(rec):
        out(line)


@app.command("open")
@handle_errors
def open_(
    key: Annotated[str, typer.Argument(help="Citation key (case-insensitive; aliases too).")],
) -> None:
    """Open a reference's DOI (else its web address) in the browser ($BROWSER if set).

    Prints the address opened.
    Example: citetool open arduino2021russia
    """
    from citetool.formats.html import link  # start-up: loaded only when needed

    rec = open_stored_library().get(key)
    address = link(rec)
    if not address:
        raise UsageError(f"{rec['id']} has neither a DOI nor a web address to open")
    out(address)
    if not open_in_browser(address, environment().environ):
        raise UsageError(f"no browser could be started for {address} (set BROWSER to one, e.g. BROWSER=firefox)")


def open_in_browser(address: str, environ) -> bool:
    """``address`` opened by the commands of ``BROWSER`` (``os.pathsep``-separated, tried in
    turn, ``%s`` standing for the address), else by Python's choice of browser."""
    import os
    import webbrowser

    commands = [c for c in (environ.get("BROWSER") or "").split(os.pathsep) if c.strip()]
    for command in commands:
        try:
            if webbrowser.get(command if "%s" in command else f"{command} %s").open(address):
                return True
        except (webbrowser.Error, OSError):
            continue
    return not commands and webbrowser.open(address)
