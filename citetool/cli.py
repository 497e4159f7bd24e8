"""The command line: parse arguments, call the library, print.

Contract for scripts: data alone on stdout; messages on stderr; ``-`` reads
identifiers from stdin; ``--json`` for machine-readable output; exit codes from
:class:`citetool.errors.ExitCode`; never a prompt; never a traceback for an
expected failure (``--debug`` shows one).
"""

from __future__ import annotations

import functools
import json
from contextlib import contextmanager
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
    help="Build and export citations from DOIs, RePEc handles, ISBNs and web pages. Data goes to stdout, messages to stderr.",
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


def _id_lines(text: str) -> list[str]:
    """One identifier a line; blank lines and # comments skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _read_ids(ids: list[str], from_file: Optional[Path]) -> list[str]:
    """Identifiers from the arguments (``-`` reads stdin) and ``--from FILE``."""
    out: list[str] = []
    for item in ids:
        out.extend(_id_lines(sys.stdin.read()) if item == "-" else [item])
    if from_file is not None:
        if str(from_file) == "-":
            out.extend(_id_lines(sys.stdin.read()))
        else:
            try:
                out.extend(_id_lines(from_file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read {from_file}: {getattr(exc, 'strerror', None) or exc}") from None
    return out


@app.command()
@handle_errors
def add(
    ids: Annotated[Optional[list[str]], typer.Argument(help="Identifiers; '-' reads them from stdin, one a line.", show_default=False)] = None,
    from_file: Annotated[Optional[Path], typer.Option("--from", help="Read identifiers from FILE, one a line.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again even if already stored.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Make no request: DOIs from the cache, RePEc handles from the handle and RePEc's tables.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per identifier.")] = False,
    manual: Annotated[bool, typer.Option("--manual", help="Type a reference in, for anything without an identifier.")] = False,
    csl_type: Annotated[Optional[str], typer.Option("--type", help="With --manual: the CSL type (book, article-journal, chapter, report, webpage...).")] = None,
    title: Annotated[Optional[str], typer.Option("--title", help="With --manual: the title.")] = None,
    author: Annotated[Optional[list[str]], typer.Option("--author", help='With --manual: "Family, Given" (repeatable).')] = None,
    editor: Annotated[Optional[list[str]], typer.Option("--editor", help='With --manual: "Family, Given" (repeatable).')] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="With --manual: year or date (2014, 2014-05).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="With --manual: FIELD=VALUE (CSL names; repeatable).")] = None,
) -> None:
    """Resolve identifiers and store the references; print their keys.

    Identifiers: DOIs (any spelling), RePEc handles, EconPapers/IDEAS URLs,
    ISBNs (isbn:978-... or a bare ISBN) and web addresses. With --manual,
    type in a reference that has none.

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


TypeOption = Annotated[Optional[list[str]], typer.Option("--type", "-t", help="Only this CSL type (repeatable), e.g. article-journal, book.")]
YearOption = Annotated[Optional[str], typer.Option("--year", "-y", help="Only this year or range: 2021, 2019-2021, 2019-, -2020.")]
SearchOption = Annotated[Optional[str], typer.Option("--search", "-q", help="Only references whose title or author names contain TEXT (case and accents ignored).")]


def _filters(types, year_spec, search):
    from citetool.library import Filters

    return Filters(types=list(types or []), year=year_spec, search=search)


def _print_outcomes(outcomes, as_json: bool, verb: str = "added", summary: str | None = None) -> None:
    """Keys (or JSON objects) on stdout, failures and a summary on stderr
    (``summary`` instead of the usual one, always printed); exit 3 if any failed."""
    for outcome in outcomes:
        if as_json:
            typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
        elif outcome.ok:
            typer.echo(outcome.key)
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
    if total < 20 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("resolving", total=None)

        def update(done: int, of: int) -> None:
            bar.update(task, completed=done, total=of)

        yield update


def _set_pairs(items: Optional[list[str]]) -> list[tuple[str, str]]:
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
    from citetool.record import names

    people = names(rec, "author") or names(rec, "editor")
    return "; ".join(p.get("family") or p.get("literal") or p.get("given") or "" for p in people)


@app.command("list")
@handle_errors
def list_(
    keys: Annotated[Optional[list[str]], typer.Argument(help="Keys to list (default: all).", show_default=False)] = None,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the stored references.")] = False,
) -> None:
    """List the stored references: a table on a terminal, tab-separated when piped.

    Columns: key, type, year, authors, title.
    Example: citetool list --year 2020- --search russia | cut -f1
    """
    from citetool.record import year

    records = _library().select(keys, _filters(types, year_spec, search))
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [(r["id"], r.get("type", ""), str(year(r) or ""), _authors_short(r), r.get("title", "")) for r in records]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        plain = "NO_COLOR" in os.environ  # no colour and no other styling either
        table = Table("key", "type", "year", "authors", "title", header_style="" if plain else "bold")
        for row in rows:
            table.add_row(*row)
        Console(no_color=plain, highlight=False).print(table)
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
    for name, value in sorted(meta.get("ids", {}).items()):
        typer.echo(f"id {name}: {value}")
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
    style: Annotated[Optional[str], typer.Option("--style", help="With html or text: a CSL style (apa, chicago-author-date, harvard-cite-them-right, modern-language-association...) or a .csl file.")] = None,
    types: TypeOption = None,
    year_spec: YearOption = None,
    search: SearchOption = None,
) -> None:
    """Export references (sorted by key) in one format.

    Example: citetool export --format ris --output refs.ris
    """
    if fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    text = _library().export(fmt, keys, _filters(types, year_spec, search), style=style)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from citetool.store import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


@app.command()
@handle_errors
def refresh(
    keys: Annotated[Optional[list[str]], typer.Argument(help="Keys to refresh (default: all).", show_default=False)] = None,
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
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="FIELD=VALUE (CSL field names; repeatable).")] = None,
    unset: Annotated[Optional[list[str]], typer.Option("--unset", help="FIELD to remove (repeatable).")] = None,
) -> None:
    """Correct a reference by hand; edited fields are yours and no source overwrites them.

    Names: "Family, Given and Family, Given"; dates: 2021, 2021-10 or 2021-10-28.
    With no --set/--unset on a terminal, opens $EDITOR on the record.
    Example: citetool edit arduino2021russia --set title="Russia's scalable soft power"
    """
    from citetool.record import check_field_name

    values: dict[str, object] = {name: _field_value(name, text) for name, text in _set_pairs(set_)}
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
    typer.echo(key)
    say(f"{key}: {'changed ' + ', '.join(changed) if changed else 'nothing changed'}")


def _edit_in_editor(lib, key: str) -> dict:
    """Open $EDITOR on the record's fields (JSON); return what the user changed."""
    import shlex
    import subprocess
    import tempfile

    from citetool.merge import bibliographic_fields
    from citetool.record import ITEM_VARIABLES

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("nothing to do: give --set FIELD=VALUE or --unset FIELD (the editor opens only on a terminal)")
    before = bibliographic_fields(lib.get(key))
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
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
    typer.echo(new)
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
            texts.append(("<stdin>", sys.stdin.read()))
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
    from citetool.config import Settings, resolve_store_path
    from citetool.doctor import examine
    from citetool.store import Store

    store = Store(resolve_store_path(state.store), Settings.from_env().lock_timeout)
    report = examine(store, repair=repair)
    for problem in report.problems:
        typer.echo(f"problem: {problem}")
    for fix in report.repaired if repair else []:
        typer.echo(f"repaired: {fix}")
    if report.backup:
        typer.echo(f"backup: {report.backup}")
    if repair and not report.healthy:
        report = examine(store)  # what is left after the repairs
        for problem in report.problems:
            typer.echo(f"still: {problem}")
    if not report.healthy:
        raise typer.Exit(int(ExitCode.STORE))
    typer.echo(f"ok: {store.path}")


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="citetool")
    except BrokenPipeError:
        # The reader went away (`citetool export | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
