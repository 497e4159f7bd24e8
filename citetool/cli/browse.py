"""Commands that read the store: ``list`` and ``show``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, handle_errors, open_stored_library, out
from citetool.cli.options import SearchOption, TypeOption, YearOption
from citetool.cli.output import authors_short, print_rows
from citetool.cli.values import selection_filters


@app.command("list")
@handle_errors
def list_(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to list (default: all).", show_default=False)] = None,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only references `citetool check` found news about.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the stored references.")] = False,
) -> None:
    """List the stored references: a table on a terminal, tab-separated when piped.

    Columns: key, type, year, authors, title.
    Example: citetool list --year 2020- --search russia | cut -f1
    """
    from citetool.record import year

    filters = selection_filters(types, year_spec, search, flagged)  # a bad option first, before the store is read
    records = open_stored_library().select(keys, filters)  # shapes checked on reading
    if as_json:
        out(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [(r["id"], r.get("type", ""), str(year(r) or ""), authors_short(r), r.get("title", "")) for r in records]
    print_rows(("key", "type", "year", "authors", "title"), rows)


@app.command()
@handle_errors
def show(
    key: Annotated[str, typer.Argument(help="Citation key (case-insensitive).")],
    as_json: Annotated[bool, typer.Option("--json", help="The stored record as JSON.")] = False,
) -> None:
    """Show one reference, each field with the source that gave it.

    Example: citetool show arduino2021russia
    """
    from citetool.show import show_lines

    rec = open_stored_library().get(key)
    if as_json:
        out(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True))
        return
    for line in show_lines(rec):
        out(line)
