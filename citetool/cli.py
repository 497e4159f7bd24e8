"""The command line: parse arguments, call the library, print.

Contract for scripts: data alone on stdout; messages on stderr; ``-`` reads
identifiers from stdin; ``--json`` for machine-readable output; exit codes from
:class:`citetool.errors.ExitCode`; never a prompt; never a traceback for an
expected failure (``--debug`` shows one).
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
from typer.core import TyperGroup

from citetool import __version__
from citetool.environment import Environment
from citetool.errors import CitetoolError, ExitCode, UsageError

EPILOG = """\
Examples:

  citetool add 10.1080/14751798.2021.1995963

  cat dois.txt | citetool add -

  citetool list

  citetool export --format bibtex --output refs.bib

Exit codes: 0 ok, 1 internal error, 2 usage error, 3 some identifiers failed
(check: a retraction or expression of concern found), 4 store cannot be
read/written/locked, 5 key not in store, 130 interrupted.
"""


# The Click that Typer runs on (recent Typers ship their own copy of it).
_click_errors = (getattr(typer.core, "_click", None) or typer.core.click).exceptions


class CitetoolGroup(TyperGroup):
    """Click's group, with its usage errors said the citetool way
    (``citetool: error: no such option: --x``, exit 2) and the
    :class:`Environment` passed in as ``obj`` (default: the real process's)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        env = extra.pop("obj", None)
        if not isinstance(env, Environment):
            env = Environment()
        token = _invocation.set(Invocation(env))
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except _click_errors.NoArgsIsHelpError as exc:
            env.err(exc.format_message())
            code = int(ExitCode.USAGE)
        except _click_errors.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            env.err(f"citetool: error: {_lower_first(exc.format_message())}{where}")
            code = int(ExitCode.USAGE)
        except _click_errors.ClickException as exc:
            env.err(f"citetool: error: {_lower_first(exc.format_message())}")
            code = exc.exit_code
        except typer.Abort:
            env.err("citetool: interrupted")
            code = int(ExitCode.INTERRUPTED)
        finally:
            _invocation.reset(token)
        env.flush()
        if standalone_mode:
            sys.exit(code)
        return code


def _lower_first(text: str) -> str:
    """Click's "No such command 'x'." as a citetool message: "no such command 'x'"."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


app = typer.Typer(
    name="citetool",
    cls=CitetoolGroup,
    help="Build and export citations from DOIs, RePEc handles, ISBNs and web pages. Data goes to stdout, messages to stderr.",
    epilog=EPILOG,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Invocation:
    """One run of the command line: its environment and global options."""

    env: Environment
    store: Path | None = None
    debug: bool = False
    library: Any = None  # the Library the command opened (to report what a Ctrl-C left saved)


_invocation: ContextVar[Invocation] = ContextVar("citetool_invocation")


def _current() -> Invocation:
    """This run's :class:`Invocation` (set by :meth:`CitetoolGroup.main`)."""
    try:
        return _invocation.get()
    except LookupError:  # a command function called outside the command line
        invocation = Invocation(Environment())
        _invocation.set(invocation)
        return invocation


def _env() -> Environment:
    return _current().env


def say(message: str) -> None:
    """A message for the user: stderr, one line, no markup."""
    _env().err(f"citetool: {message}")


def out(text: str) -> None:
    """A line of data on stdout."""
    _env().out(text)


def handle_errors(func):
    """Map citetool's errors to one-line messages and exit codes (the one place)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        invocation = _current()
        try:
            return func(*args, **kwargs)
        except CitetoolError as exc:
            if invocation.debug:
                raise
            say(f"error: {exc.message}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            say(f"interrupted; {_saved_so_far(invocation)}")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort, _click_errors.ClickException):
            raise
        except Exception as exc:  # a bug: say so briefly, unless --debug
            if invocation.debug:
                raise
            say(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
            raise typer.Exit(int(ExitCode.ERROR)) from None

    return wrapper


def _saved_so_far(invocation: Invocation) -> str:
    """What an interrupted command left in the store, for the Ctrl-C message."""
    if invocation.library is None:
        return "nothing was saved"
    return invocation.library.store.saved_summary()


def _version(value: bool) -> None:
    if value:
        out(f"citetool {__version__}")
        raise typer.Exit()


@app.callback()
@handle_errors
def main_options(
    store: Annotated[
        Path | None,
        typer.Option("--store", "-s", help="Store file (default: $CITETOOL_STORE, ./citetool.json, or the user data dir)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    invocation = _current()
    invocation.store = store
    invocation.debug = debug
    if invocation.env.stdout is None:
        raise UsageError("stdout is closed: redirect it to a file or to /dev/null")


def _settings():
    from citetool.config import Settings

    return Settings.from_env(_env().environ)


def _store_path() -> Path:
    from citetool.config import resolve_store_path

    return resolve_store_path(_current().store, _env().environ)


def _library():
    from citetool.library import Library

    invocation = _current()
    invocation.library = Library(_store_path(), _settings())
    return invocation.library


def _stored_library():
    """The library a reading command reads: a store named by ``--store`` or
    ``CITETOOL_STORE`` must exist (a typo must not export an empty .bib with
    exit 0); the default store may not exist yet (nothing stored so far)."""
    from citetool.errors import StoreError

    library = _library()  # reads the settings (a bad one is reported first), not yet the store
    path = library.store.path
    if (_current().store or _env().environ.get("CITETOOL_STORE")) and not path.exists():
        raise StoreError(f"no store at {path}: check --store or CITETOOL_STORE (adding a reference creates one)")
    return library


def _id_lines(text: str) -> list[str]:
    """One identifier a line (any line ends, a byte-order mark ignored);
    blank lines and # comments skipped."""
    lines = (line.strip().lstrip("\ufeff").strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _read_ids(ids: list[str], from_file: Path | None) -> list[str]:
    """Identifiers from the arguments (``-`` reads stdin) and ``--from FILE``."""
    env = _env()
    out: list[str] = []
    for item in ids:
        out.extend(_id_lines(env.read_stdin()) if item == "-" else [item])
    if from_file is not None:
        if str(from_file) == "-":
            out.extend(_id_lines(env.read_stdin()))
        else:
            try:
                out.extend(_id_lines(from_file.read_text(encoding="utf-8-sig")))
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read {from_file}: {getattr(exc, 'strerror', None) or exc}") from None
    return out


@app.command()
@handle_errors
def add(
    ids: Annotated[list[str] | None, typer.Argument(help="Identifiers; '-' reads them from stdin, one a line.", show_default=False)] = None,
    from_file: Annotated[Path | None, typer.Option("--from", help="Read identifiers from FILE, one a line.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again even if already stored.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Make no request: DOIs from the cache, RePEc handles from the handle and RePEc's tables.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per identifier.")] = False,
    manual: Annotated[bool, typer.Option("--manual", help="Type a reference in, for anything without an identifier.")] = False,
    csl_type: Annotated[str | None, typer.Option("--type", help="With --manual: the CSL type (book, article-journal, chapter, report, webpage...).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="With --manual: the title.")] = None,
    author: Annotated[list[str] | None, typer.Option("--author", help='With --manual: "Family, Given" (repeatable).')] = None,
    editor: Annotated[list[str] | None, typer.Option("--editor", help='With --manual: "Family, Given" (repeatable).')] = None,
    year: Annotated[str | None, typer.Option("--year", help="With --manual: year or date (2014, 2014-05).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="With --manual: FIELD=VALUE (CSL names; repeatable).")] = None,
) -> None:
    """Resolve identifiers and store the references; print their keys.

    Identifiers: DOIs (any spelling), RePEc handles, EconPapers/IDEAS URLs,
    ISBNs (isbn:978-... or a bare ISBN) and web addresses; also references
    written out as text (stored only when Crossref's best candidate is clearly
    the one meant: see `citetool search`). With --manual, type in a reference
    that has none.

    Example: citetool add 10.1080/14751798.2021.1995963 RePEc:nbr:nberwo:11309 isbn:978-0-306-40615-7

    Example: citetool add --manual --type book --title "A title" --author "Doe, Jane" --year 2020 --set publisher=Press
    """
    if manual:
        record = _manual_record(csl_type, title, author, editor, year, set_)
        if ids or from_file:
            raise UsageError("--manual takes no identifiers")
        _print_outcomes([_library().add_manual(record)], as_json)
        return
    if any(v for v in (csl_type, title, author, editor, year, set_)):
        raise UsageError("--type, --title, --author, --editor, --year and --set go with --manual")
    inputs = _read_ids(ids or [], from_file)
    if not inputs:
        raise UsageError("no identifiers given (pass them as arguments, or '-' to read stdin)")
    with _progress_bar(len(inputs)) as progress:
        outcomes = _library().add(inputs, refresh=refresh, offline=offline, progress=progress)
    _print_outcomes(outcomes, as_json)


TypeOption = Annotated[list[str] | None, typer.Option("--type", "-t", help="Only this CSL type (repeatable), e.g. article-journal, book.")]
YearOption = Annotated[str | None, typer.Option("--year", "-y", help="Only this year or range: 2021, 2019-2021, 2019-, -2020.")]
SearchOption = Annotated[
    str | None, typer.Option("--search", "-q", help="Only references whose title or author names contain TEXT (case and accents ignored).")
]


def _filters(types, year_spec, search, flagged: bool = False):
    from citetool.library import Filters

    return Filters(types=list(types or []), year=year_spec, search=search, flagged=flagged)


def _print_outcomes(outcomes, as_json: bool, verb: str = "added", summary: str | None = None) -> None:
    """Keys (or JSON objects) on stdout, failures and a summary on stderr
    (``summary`` instead of the usual one, always printed); exit 3 if any failed."""
    for outcome in outcomes:
        if as_json:
            out(json.dumps(outcome.as_dict(), ensure_ascii=False))
        elif outcome.ok:
            out(outcome.key)
        for note in outcome.notes:
            say(f"warning: {note}")
        if not outcome.ok:
            say(f"error: {outcome.error}")
        elif outcome.changed:
            say(f"{outcome.key}: changed {', '.join(outcome.changed)}")
    failed = sum(not o.ok for o in outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("added", "updated", "present")}
    if summary is not None:
        say(summary)
    elif len(outcomes) > 1 or failed:
        say(f"{counts['added']} {verb}, {counts['updated']} updated, {counts['present']} already present"
            f"{' (unchanged)' if verb == 'refreshed' else ''}, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@contextmanager
def _progress_bar(total: int):
    """A rich progress bar on stderr for long runs on a terminal; else nothing."""
    env = _env()
    if total < 20 or not env.stderr_isatty:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=env.stderr, no_color=not env.colour), transient=True) as bar:
        task = bar.add_task("resolving", total=None)

        def update(done: int, of: int) -> None:
            bar.update(task, completed=done, total=of)

        yield update


def _check_style(style: str | None) -> None:
    """``--style ""`` (an unset shell variable) is a usage error, not the default style."""
    if style is not None and not style.strip():
        raise UsageError("--style is empty: give a CSL style name (apa, chicago-author-date, ...) or a .csl file")


def _set_pairs(items: list[str] | None) -> list[tuple[str, str]]:
    """``--set FIELD=VALUE`` options as (field, value) pairs."""
    pairs = []
    for item in items or []:
        name, eq, text = item.partition("=")
        if not eq:
            raise UsageError(f"--set takes FIELD=VALUE, not {item!r}")
        pairs.append((name.strip(), text))
    return pairs


def _field_value(name: str, text: str):
    """A value typed for a field, as the record holds it (a usage error if it cannot be)."""
    from citetool.record import parse_field_value

    try:
        return parse_field_value(name, text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _manual_record(csl_type, title, authors, editors, year, sets) -> dict:
    values = {"type": csl_type or "book", "title": title,
              "author": " and ".join(authors or []) or None, "editor": " and ".join(editors or []) or None,
              "issued": year}
    values.update(_set_pairs(sets))
    return {name: _field_value(name, str(text)) for name, text in values.items()
            if text is not None and str(text).strip()}


def _authors_short(rec) -> str:
    """Family names of the authors (else the editors), "; "-separated."""
    for role in ("author", "editor"):
        people = rec.get(role)
        if isinstance(people, list):
            found = [p.get("family") or p.get("literal") or p.get("given") or "" for p in people if isinstance(p, dict)]
            if found:
                return "; ".join(found)
    return ""


def _single_spaced(cell: str) -> str:
    """``" ".join(cell.split())``, without splitting the many cells that have
    no whitespace but single ASCII spaces (isprintable() is false for every other)."""
    if cell.isprintable() and "  " not in cell and cell[:1] != " " and cell[-1:] != " ":
        return cell
    return " ".join(cell.split())


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

    filters = _filters(types, year_spec, search, flagged)  # a bad option first, before the store is read
    records = _stored_library().select(keys, filters)  # shapes checked on reading
    if as_json:
        out(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [(r["id"], r.get("type", ""), str(year(r) or ""), _authors_short(r), r.get("title", "")) for r in records]
    _print_rows(("key", "type", "year", "authors", "title"), rows)


def _print_rows(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A table on a terminal, tab-separated lines (no header) when piped."""
    env = _env()
    if env.stdout_isatty:
        from rich.console import Console
        from rich.table import Table

        from citetool.record import strip_controls

        plain = not env.colour  # no colour and no other styling either
        table = Table(*headers, header_style="" if plain else "bold")
        for row in rows:
            table.add_row(*(strip_controls(cell, keep="") for cell in row))
        console = Console(file=env.stdout, force_terminal=True, no_color=plain, highlight=False)
        console.print(table)
        return
    if rows:  # one write: writing 10,000 lines one by one took a third of the command
        out("\n".join([_tsv_line(row) for row in rows]))


def _tsv_line(row: tuple[str, ...]) -> str:
    """The cells, each single-spaced (:func:`_single_spaced`), tab-separated;
    a line whose cells need no change (most) is known by one test of it all."""
    line = "\t".join(row)
    if ("".join(row).isprintable() and "  " not in line and " \t" not in line and "\t " not in line
            and line[:1] != " " and line[-1:] != " "):
        return line
    return "\t".join([_single_spaced(cell) for cell in row])


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

    rec = _stored_library().get(key)
    if as_json:
        out(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True))
        return
    for line in show_lines(rec):
        out(line)


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
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to export (default: all).", show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex, biblatex, ris, html, text or csl-json.")] = "bibtex",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")] = None,
    style: Annotated[str | None, typer.Option("--style", help=(
        "With html or text: a CSL style (apa, chicago-author-date, harvard-cite-them-right, "
        "modern-language-association...) or a .csl file."))] = None,
    unicode: Annotated[bool, typer.Option("--unicode", help=(
        "bibtex/biblatex: write every character as UTF-8, no LaTeX (for biber, LuaLaTeX, pandoc)."))] = False,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
) -> None:
    """Export references (sorted by key) in one format.

    Example: citetool export --format ris --output refs.ris
    """
    if fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    from citetool.merge_conflicts import unresolved_problems
    from citetool.record import date_notes
    from citetool.updates import retraction_warnings

    _check_style(style)
    filters = _filters(types, year_spec, search)  # a bad option first, before the store is read
    lib = _stored_library()
    selected = lib.select(keys, filters)  # shapes checked on reading (Library.records)
    text = lib.render(fmt, selected, style, unicode=unicode)  # what lib.export does, without selecting again
    dates = [f"warning: {note}" for rec in selected for note in date_notes(rec)]
    for warning in retraction_warnings(selected) + [f"warning: {p} (ours is exported)" for p in unresolved_problems(selected)] + dates:
        say(warning)
    _write_output(text, output)


def _write_output(text: str, output: Path | None) -> None:
    """``text`` to stdout, or atomically to the file ``output``; into a device,
    a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a named pipe) as
    ``cat > PATH`` would: such a file is written to, never replaced."""
    if output is None or str(output) == "-":
        _env().out(text, end="")
        return
    import stat

    from citetool.store import atomic_write_text

    try:
        mode = output.stat().st_mode  # follows links: /dev/stdout is one
    except OSError:
        mode = None
    try:
        if mode is not None and stat.S_ISDIR(mode):
            raise UsageError(f"cannot write {output}: it is a folder (nothing was written)")
        if mode is not None and not stat.S_ISREG(mode):
            with open(output, "wb") as stream:
                stream.write(text.encode("utf-8"))
            return
        if not output.parent.is_dir():
            raise UsageError(f"cannot write {output}: the folder {output.parent} does not exist (nothing was written)")
        atomic_write_text(output, text)
    except BrokenPipeError:
        return  # the reader of a named pipe went away: as a closed stdout, quietly
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


@app.command()
@handle_errors
def refresh(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to refresh (default: all).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per reference.")] = False,
) -> None:
    """Ask the sources that produced each reference again (never the cache) and merge.

    Crossref, doi.org, EconPapers, Open Library and web pages are all asked
    again. Fields you edited are never touched; what changed is reported on
    stderr, then "N refreshed, M changed" (and how many failed).
    Example: citetool refresh arduino2021russia
    """
    outcomes = _library().refresh(keys)
    failed = sum(not o.ok for o in outcomes)
    summary = (f"{len(outcomes) - failed} refreshed, {sum(o.status == 'updated' for o in outcomes)} changed"
               + (f", {failed} failed" if failed else ""))
    _print_outcomes(outcomes, as_json, summary=summary)


@app.command()
@handle_errors
def edit(
    key: Annotated[str, typer.Argument(help="Citation key.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE (CSL field names; repeatable).")] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="FIELD to remove (repeatable).")] = None,
) -> None:
    """Correct a reference by hand; edited fields are yours and no source overwrites them.

    Names: "Family, Given and Family, Given"; dates: 2021, 2021-10 or 2021-10-28.
    With no --set/--unset on a terminal, opens $EDITOR on the record.
    Example: citetool edit arduino2021russia --set title="Russia's scalable soft power"
    """
    from citetool.record import check_field_name

    pairs = _set_pairs(set_)
    for name, text in pairs:
        if not text.strip():  # "--set title=" would remove the title while saying "changed title"
            raise UsageError(f"--set {name}= has no value: use --unset {name} to remove a field")
    values: dict[str, object] = {name: _field_value(name, text) for name, text in pairs}
    for name in unset or []:
        try:
            check_field_name(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if name == "type":
            raise UsageError("every reference needs a type: change it with --set type=..., not --unset")
        values[name] = None
    lib = _library()
    if not values:
        values = _edit_in_editor(lib, key)
    key, changed = lib.edit(key, values)
    out(key)
    say(f"{key}: {'changed ' + ', '.join(changed) if changed else 'nothing changed'}")


def _edit_in_editor(lib, key: str) -> dict:
    """Open $EDITOR on the record's fields (JSON); return what the user changed."""
    import shlex
    import subprocess
    import tempfile

    from citetool.merge import bibliographic_fields
    from citetool.record import ITEM_VARIABLES

    env = _env()
    if not (env.stdin_isatty and env.stdout_isatty):
        raise UsageError("nothing to do: give --set FIELD=VALUE or --unset FIELD (the editor opens only on a terminal)")
    before = bibliographic_fields(lib.get(key))
    editor = env.editor
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{key}.json"
        path.write_text(json.dumps(before, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if subprocess.call(shlex.split(editor) + [str(path)]) != 0:
            raise UsageError(f"the editor ({editor}) failed; nothing changed")
        try:
            after = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"the edited record is not valid JSON (line {exc.lineno}); nothing changed") from None
    if not isinstance(after, dict):
        raise UsageError("the edited record must be a JSON object; nothing changed")
    unknown = sorted(set(after) - ITEM_VARIABLES)
    if unknown:
        raise UsageError(f"unknown field(s) {', '.join(unknown)}; nothing changed")
    if not after.get("type"):
        raise UsageError("every reference needs a type; nothing changed")
    values = {f: v for f, v in after.items() if before.get(f) != v}
    values.update({f: None for f in before if f not in after})
    return values


@app.command()
@handle_errors
def rekey(
    old: Annotated[str, typer.Argument(help="The current key.")],
    new: Annotated[str, typer.Argument(help="The new key (refused if in use, ignoring case).")],
) -> None:
    """Rename a citation key (keys never change otherwise).

    Example: citetool rekey arduino2021russia arduino2021soft
    """
    old = _library().rekey(old, new)
    out(new)
    say(f"renamed {old} to {new}")


@app.command("import")
@handle_errors
def import_(
    files: Annotated[list[Path], typer.Argument(help="BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) files; '-' reads stdin.")],
    resolve: Annotated[bool, typer.Option("--resolve", help="Enrich entries that carry a DOI from Crossref.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per entry.")] = False,
) -> None:
    """Import references from files; each entry is merged into the store.

    An entry keeps its own key unless that key is taken. A value that differs
    from what the store holds counts as your hand fix and is kept on refresh.
    Example: citetool import coauthor.bib zotero.ris
    """
    texts = []
    for path in files:
        if str(path) == "-":
            texts.append(("<stdin>", _env().read_stdin()))
            continue
        try:
            texts.append((str(path), path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    outcomes, problems = _library().import_files(texts, resolve=resolve)
    for problem in problems:
        say(problem)
    _print_outcomes(outcomes, as_json, verb="imported")
    if problems:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@app.command()
@handle_errors
def doctor(
    repair: Annotated[bool, typer.Option("--repair", help="Repair what can be repaired (a backup of the file is kept).")] = False,
) -> None:
    """Check the store; with --repair, fix what can be fixed safely.

    Exit 0 when the store is (now) healthy, 4 when a problem remains.
    Example: citetool doctor --repair
    """
    from citetool.doctor import doctor as examine_store
    from citetool.store import Store

    store = Store(_store_path(), _settings().lock_timeout)
    report = examine_store(store, repair=repair)
    for line in report.lines(store.path):
        out(line)
    if not report.fine:
        raise typer.Exit(int(ExitCode.STORE))


@app.command()
@handle_errors
def check(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to check (default: all).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per reference.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also list clean references (ok) and those that could not be checked.")] = False,
) -> None:
    """Ask Crossref whether stored works were retracted, corrected or published since.

    One line per finding: key, then retracted / expression of concern /
    corrected / new version / published version available, with the DOI of
    the notice (or of the published version), its date and its source
    (retraction-watch or publisher). Findings are stored: `show` and
    `list --flagged` display them without a request. Exit 3 when a retraction
    or an expression of concern is found (or Crossref could not be asked).
    Example: citetool check --json
    """
    from citetool.updates import check as check_references
    from citetool.updates import describe

    results, problems = check_references(_library(), keys)
    for result in results:
        if result.status != "flagged" and not show_all:
            continue
        if as_json:
            out(json.dumps(result.as_dict(), ensure_ascii=False))
        elif result.findings:
            for finding in result.findings:
                out(f"{result.key}\t{describe(finding)}")
        else:
            out(f"{result.key}\t{result.status}" + (f" ({result.reason})" if result.reason else ""))
    for problem in problems:
        say(f"error: {problem}")
    counts = {s: sum(r.status == s for r in results) for s in ("flagged", "ok")}
    reasons = Counter(r.reason for r in results if r.status == "unchecked")
    unchecked = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
    serious = sum(r.serious for r in results)
    say(f"{len(results)} references: {counts['flagged']} with news ({serious} retracted or of concern), "
        f"{counts['ok']} ok, {sum(reasons.values())} not checked" + (f" ({unchecked})" if unchecked else ""))
    if serious or problems:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@app.command()
@handle_errors
def upgrade(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to upgrade (default: all).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the changes; store nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per upgraded reference.")] = False,
) -> None:
    """Replace preprints and working papers by their published version.

    A reference whose Crossref record says is-preprint-of takes the published
    work's metadata under the same key; your own fields are kept, and the
    preprint's DOI stays as a relation (shown by `show`, exported).
    Example: citetool upgrade --dry-run
    """
    from citetool.updates import upgrade as upgrade_references

    plans, problems = upgrade_references(_library(), keys, dry_run=dry_run)
    for plan in plans:
        if as_json:
            out(json.dumps(plan.as_dict(), ensure_ascii=False))
        if plan.error:
            say(f"error: {plan.error}")
            continue
        if as_json:
            continue
        if not dry_run:
            out(plan.key)
            say(f"{plan.key}: now {plan.published} (was the preprint {plan.preprint})")
            continue
        out(f"{plan.key}: {plan.preprint} -> {plan.published}")  # --dry-run: the changes are the output
        for fld, before, after in plan.changes:
            out(f"  {fld}: {json.dumps(before, ensure_ascii=False)} -> {json.dumps(after, ensure_ascii=False)}")
    for problem in problems:
        say(f"error: {problem}")
    if not plans and not problems:
        say("nothing to upgrade: no preprint with a published version")
    if problems or any(p.error for p in plans):
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@app.command()
@handle_errors
def bib(
    papers: Annotated[list[Path], typer.Argument(help="Manuscripts: LaTeX (.tex, following \\input/\\include), .aux, or pandoc Markdown (.md, .qmd, .Rmd).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="bibtex, biblatex, ris, html, text or csl-json.")] = "bibtex",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout.")] = None,
    style: Annotated[str | None, typer.Option("--style", help="With html or text: a CSL style name or .csl file.")] = None,
    unicode: Annotated[bool, typer.Option("--unicode", help="bibtex/biblatex: UTF-8 as is, no LaTeX (for biber, LuaLaTeX, pandoc).")] = False,
    keys_only: Annotated[bool, typer.Option("--keys", help="Print the cited keys, one a line, and exit.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Write no bibliography: exit 0 if every citation resolves, else 3.")] = False,
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
    from citetool.bibliography import build, identifier_of
    from citetool.manuscript import cited_keys

    if fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    _check_style(style)
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
    with _progress_bar(lookups) as progress:
        result = build(_library(), keys, fmt=fmt, style=style, unicode=unicode, offline=offline,
                       render=not check and not (as_json and output is None), progress=progress)
    from citetool.record import date_notes
    from citetool.updates import retraction_warnings

    for warning in retraction_warnings(result.records):
        say(warning)
    for note in result.notes + ([n for rec in result.records for n in date_notes(rec)] if result.text is not None else []):
        say(f"warning: {note}")
    missing = result.missing
    for citation in missing:
        say(f"{'warning' if allow_missing else 'error'}: {citation.message()}")
    if (not missing or allow_missing) and result.text is not None:
        _write_output(result.text, output)
    if as_json:
        out(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    resolved = len(result.citations) - len(missing)
    say(f"{resolved} of {len(result.citations)} cited references resolved"
        + (f", {len(missing)} missing" if missing else ""))
    if missing and not allow_missing:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@app.command("git-setup")
@handle_errors
def git_setup(
    global_config: Annotated[bool, typer.Option("--global", help="Register the driver in your user git config (every repository).")] = False,
) -> None:
    """Let git merge the store with citetool's merge driver (no conflict markers).

    Registers the driver (merge.citetool.*) in git's config and adds the store
    (--store, $CITETOOL_STORE or ./citetool.json) to the work tree's
    .gitattributes with merge=citetool. Safe to run again.
    Example: citetool --store refs/citetool.json git-setup
    """
    from citetool.gitmerge import git_setup as setup

    for line in setup(_store_path(), global_config=global_config):
        say(line)


@app.command("merge-driver")
@handle_errors
def merge_driver(
    base: Annotated[Path, typer.Argument(help="The common ancestor's store (git's %O).")],
    ours: Annotated[Path, typer.Argument(help="Our store (git's %A): the merge is written over it.")],
    theirs: Annotated[Path, typer.Argument(help="Their store (git's %B).")],
    path: Annotated[str | None, typer.Argument(help="The store's path in the repository (git's %P), for messages.")] = None,
) -> None:
    """Three-way merge of three stores, for git (git-setup registers it).

    References are matched by DOI, handle, ISBN or key and merged field by
    field. Exit 0: merged; 1: conflicts were left in the store (valid JSON;
    see `citetool doctor`, settle with `citetool resolve`); 4: a version could
    not be read (OURS is left untouched).
    Example: citetool merge-driver base.json ours.json theirs.json citetool.json
    """
    from citetool.gitmerge import merge_files

    outcome = merge_files(base, ours, theirs)
    name = path or str(ours)
    for note in outcome.notes:
        say(f"{name}: {note}")
    for key, field in outcome.conflicts:
        say(f"{name}: conflict: {key} {field} was edited differently on both sides; "
            f"settle it with: citetool resolve {key} {field} --take ours|theirs|VALUE")
    for conflict in outcome.key_conflicts:
        say(f"{name}: conflict: {conflict}")
    if outcome.conflicts or outcome.key_conflicts:
        raise typer.Exit(int(ExitCode.MERGE_CONFLICT))


@app.command()
@handle_errors
def resolve(
    key: Annotated[str, typer.Argument(help="Citation key (or one of its aliases).")],
    field: Annotated[str, typer.Argument(help="The field in conflict (see `citetool doctor`).")],
    take: Annotated[str, typer.Option("--take", help="ours, theirs, or the value to keep (as edit --set reads it).")],
) -> None:
    """Settle a conflict a git merge left: keep ours, theirs, or a new value.

    The value kept becomes your edit.
    Example: citetool resolve arduino2021russia title --take theirs
    """
    from citetool.record import value_text

    key, value = _library().resolve_conflict(key, field, take)
    out(key)
    say(f"{key}: {field} is now {value_text(value)}")


@app.command()
@handle_errors
def search(
    text: Annotated[str, typer.Argument(help="A reference written out, or words from it (authors, year, title).")],
    rows: Annotated[int, typer.Option("--rows", min=1, max=20, help="How many candidates.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the candidates.")] = False,
) -> None:
    """Crossref's candidates for a reference written out: score, DOI, year, first author, title.

    A table on a terminal, tab-separated when piped. `citetool add` of such a
    line stores the best candidate only when it is clearly the one meant.
    Example: citetool search "Arduino Shuja 2021 Russia's scalable soft power"
    """
    from citetool.sources import freetext

    candidates = _library().sources.get(freetext.SOURCE).search(text, rows)
    if as_json:
        out(json.dumps([c.as_dict() for c in candidates], ensure_ascii=False, indent=2))
        return
    _print_rows(("score", "DOI", "year", "first author", "title"),
                [(c.shown_score, c.doi, str(c.year or ""), c.author, c.title) for c in candidates])


def _command_named(args: Sequence[str]) -> str | None:
    """The command ``args`` run (``["--store", "s.json", "add", ...]`` -> ``add``), or None
    when they ask for the group's help or version, or name no command."""
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg in ("--store", "-s"):
            args = args[1:]
        elif arg.startswith(("--store=", "-s")) or arg == "--debug":
            continue
        else:
            return None if arg.startswith("-") else arg
    return None


def _click_command(args: Sequence[str]):
    """The Click command for ``args``. Typer builds a command by reading its
    function's signature and type hints (a millisecond or two each, ~20 ms for
    all): when ``args`` name a command, only that one is built. Help, version
    and unknown commands get the whole group."""
    name = _command_named(args)
    chosen = [c for c in app.registered_commands
              if (c.name or typer.main.get_command_name(c.callback.__name__)) == name]
    if name is None and "--version" in args and not {"-h", "--help"} & set(args):
        chosen = []  # the version is printed before any command is looked at: build none
    elif not chosen:
        return typer.main.get_command(app)
    one = copy.copy(app)
    one.registered_commands = chosen
    return typer.main.get_command(one)


def run(args: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the command line with ``args`` in ``env`` (default: this process's);
    return the exit code. What tests call, with an Environment of their own."""
    args = sys.argv[1:] if args is None else list(args)
    return _click_command(args).main(args, prog_name="citetool", obj=env, standalone_mode=False)


def main() -> None:
    """Console-script entry point."""
    # One command is a short-lived process, and the store's records (hundreds of
    # thousands of dicts and lists) hold no reference cycles: the cyclic collector
    # would only walk them again and again (a fifth of `show` on a 10,000-reference
    # store). Reference counting still frees everything as usual.
    gc.disable()
    # A closed stdout or stderr (`citetool export >&-`) has no stream; its
    # descriptor must not be reused by the next file opened (the store!).
    closed = {fd: stream is None for fd, stream in ((1, sys.stdout), (2, sys.stderr))}
    for fd, is_closed in closed.items():
        if is_closed:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    sys.exit(run(sys.argv[1:], Environment()))
