"""The command line: parse arguments, call the library, print.

Contract for scripts: data alone on stdout; messages on stderr; ``-`` reads
identifiers from stdin; ``--json`` for machine-readable output; exit codes from
:class:`citetool.errors.ExitCode`; never a prompt; never a traceback for an
expected failure (``--debug`` shows one).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from citetool import __version__
from citetool.errors import CitetoolError, ExitCode, UsageError

EPILOG = """\
Examples:

  citetool add 10.1080/14751798.2021.1995963

  cat dois.txt | citetool add -

  citetool list

  citetool export --format bibtex --output refs.bib

Exit codes: 0 ok, 1 internal error, 2 usage error, 3 some identifiers failed,
4 store cannot be read/written/locked, 5 key not in store, 130 interrupted.
"""

app = typer.Typer(
    name="citetool",
    help="Build and export citations from DOIs. Data goes to stdout, messages to stderr.",
    epilog=EPILOG,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    store: Optional[Path] = None
    debug: bool = False


state = State()


def say(message: str) -> None:
    """A message for the user: stderr, one line, no markup."""
    typer.echo(f"citetool: {message}", err=True)


def handle_errors(func):
    """Map citetool's errors to one-line messages and exit codes (the one place)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CitetoolError as exc:
            if state.debug:
                raise
            say(f"error: {exc.message}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            say("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: say so briefly, unless --debug
            if state.debug:
                raise
            say(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
            raise typer.Exit(int(ExitCode.ERROR)) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"citetool {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    store: Annotated[
        Optional[Path],
        typer.Option("--store", "-s", help="Store file (default: $CITETOOL_STORE, ./citetool.json, or the user data dir)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    state.store = store
    state.debug = debug


def _library():
    from citetool.library import Library

    return Library(state.store)


def _read_ids(ids: list[str], from_file: Optional[Path]) -> list[str]:
    """Identifiers from arguments, ``-`` (stdin) and ``--from FILE``: blank and # lines skipped."""
    out: list[str] = []
    sources = list(ids)
    if from_file is not None:
        sources.append(str(from_file) if str(from_file) == "-" else f"@file:{from_file}")
    for item in sources:
        if item == "-":
            lines = sys.stdin.read().splitlines()
        elif item.startswith("@file:"):
            path = item[len("@file:"):]
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        else:
            out.append(item)
            continue
        out.extend(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return out


@app.command()
@handle_errors
def add(
    ids: Annotated[Optional[list[str]], typer.Argument(help="DOIs (any spelling); '-' reads them from stdin, one a line.", show_default=False)] = None,
    from_file: Annotated[Optional[Path], typer.Option("--from", help="Read identifiers from FILE, one a line.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again even if already stored.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per identifier.")] = False,
) -> None:
    """Resolve identifiers and store the references; print their keys.

    Example: citetool add 10.1080/14751798.2021.1995963 doi:10.1038/srep16696
    """
    inputs = _read_ids(ids or [], from_file)
    if not inputs:
        raise UsageError("no identifiers given (pass them as arguments, or '-' to read stdin)")
    outcomes = _library().add(inputs, refresh=refresh)
    for outcome in outcomes:
        if as_json:
            typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
        elif outcome.ok:
            typer.echo(outcome.key)
        if not outcome.ok:
            say(f"error: {outcome.error}")
    failed = sum(not o.ok for o in outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("added", "updated", "present")}
    if len(outcomes) > 1 or failed:
        say(f"{counts['added']} added, {counts['updated']} updated, {counts['present']} already present, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


def _authors_short(rec) -> str:
    from citetool.record import names

    people = names(rec, "author") or names(rec, "editor")
    return "; ".join(p.get("family") or p.get("literal") or p.get("given") or "" for p in people)


@app.command("list")
@handle_errors
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the stored references.")] = False,
) -> None:
    """List the stored references: a table on a terminal, tab-separated when piped.

    Columns: key, type, year, authors, title.
    """
    from citetool.record import year

    records = _library().select()
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [(r["id"], r.get("type", ""), str(year(r) or ""), _authors_short(r), r.get("title", "")) for r in records]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("key", "type", "year", "authors", "title")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    for row in rows:
        typer.echo("\t".join(" ".join(cell.split()) for cell in row))


@app.command()
@handle_errors
def show(
    key: Annotated[str, typer.Argument(help="Citation key (case-insensitive).")],
    as_json: Annotated[bool, typer.Option("--json", help="The stored record as JSON.")] = False,
) -> None:
    """Show one reference, each field with the source that gave it.

    Example: citetool show arduino2021russia
    """
    from citetool.record import META

    rec = _library().get(key)
    if as_json:
        typer.echo(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True))
        return
    meta = rec.get(META, {})
    provenance = meta.get("fields", {})
    conflicts = meta.get("conflicts", {})
    typer.echo(f"key: {rec['id']}")
    for field in sorted(k for k in rec if k not in ("id", META)):
        value = rec[field]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            from citetool.record import name_family_first

            text = "; ".join(name_family_first(n) for n in value)
        elif isinstance(value, dict) and "date-parts" in value:
            text = "-".join(str(p) for p in value["date-parts"][0])
        else:
            text = " ".join(str(value).split())
        source = provenance.get(field, "?")
        typer.echo(f"{field}: {text}  [{source}]")
        for other, other_value in sorted(conflicts.get(field, {}).items()):
            typer.echo(f"  {other} says: {' '.join(str(other_value).split())}")
    for source, info in sorted(meta.get("sources", {}).items()):
        typer.echo(f"source {source}: {info.get('id')} (fetched {info.get('fetched')})")


@app.command()
@handle_errors
def remove(
    keys: Annotated[list[str], typer.Argument(help="Citation keys to remove.")],
) -> None:
    """Remove references (all named keys must exist, else nothing is removed).

    Example: citetool remove arduino2021russia
    """
    for key in _library().remove(keys):
        say(f"removed {key}")


FORMAT_NAMES = ("bibtex", "biblatex", "ris", "html", "text", "csl-json")


@app.command()
@handle_errors
def export(
    keys: Annotated[Optional[list[str]], typer.Argument(help="Keys to export (default: all).", show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex, biblatex, ris, html, text or csl-json.")] = "bibtex",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to FILE instead of stdout.")] = None,
) -> None:
    """Export references (sorted by key) in one format.

    Example: citetool export --format ris --output refs.ris
    """
    if fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    text = _library().export(fmt, keys)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from citetool.store import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="citetool")
    except BrokenPipeError:
        # The reader went away (`citetool export | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
