"""What commands print: outcome lines and summaries, tables or tab-separated
rows, the progress bar on a terminal, and a text written to stdout or to a
file atomically.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer
import typer.core

from citetool.cli.app import environment, out, say
from citetool.errors import ExitCode, UsageError
from citetool.record import strip_controls


def print_outcomes(outcomes, as_json: bool, verb: str = "added", summary: str | None = None,
                   also_failed: int = 0) -> None:
    """Keys (or JSON objects) on stdout, failures and a summary on stderr
    (``summary`` instead of the usual one, always printed); exit 3 if any failed.
    ``also_failed``: items that failed before they became outcomes (entries an
    import skipped), counted in the summary."""
    for outcome in outcomes:
        if as_json:
            out(json.dumps(outcome.as_dict(), ensure_ascii=False))
        elif outcome.ok and outcome.status != "skipped":  # skipped (refresh: nothing to ask): not done, not listed
            out(outcome.key)
        for note in outcome.notes:
            say(f"warning: {note}")
        if not outcome.ok:
            say(f"error: {outcome.error}")
        elif outcome.changed:
            say(f"{outcome.key}: changed {', '.join(outcome.changed)}")
    failed = sum(not o.ok for o in outcomes) + also_failed
    counts = {s: sum(o.status == s for o in outcomes) for s in ("added", "updated", "present")}
    if summary is not None:
        say(summary)
    elif len(outcomes) > 1 or failed:
        say(f"{counts['added']} {verb}, {counts['updated']} updated, {counts['present']} already present"
            f"{' (unchanged)' if verb == 'refreshed' else ''}, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


@contextmanager
def progress_bar(total: int | None = None, what: str = "resolving"):
    """A rich progress bar on stderr for runs of 20 items or more on a terminal,
    else nothing. With ``total`` None the bar appears at the first update that
    counts 20 or more; piped stderr never gets one."""
    env = environment()
    if (total is not None and total < 20) or not env.stderr_isatty:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(file=env.stderr, no_color=not env.colour), transient=True)
    task = None

    def update(done: int, of: int) -> None:
        nonlocal task
        if task is None:
            if of < 20:
                return
            bar.start()
            task = bar.add_task(what, total=None)
        bar.update(task, completed=done, total=of)

    try:
        if total is not None:
            update(0, total)
        yield update
    finally:
        bar.stop()


def authors_short(rec) -> str:
    """Family names of the authors (else the editors), "; "-separated."""
    for role in ("author", "editor"):
        people = rec.get(role)
        if isinstance(people, list):
            found = [p.get("family") or p.get("literal") or p.get("given") or "" for p in people if isinstance(p, dict)]
            if found:
                return "; ".join(found)
    return ""


def single_spaced(cell: str) -> str:
    """``" ".join(cell.split())``, without splitting the many cells that have
    no whitespace but single ASCII spaces (isprintable() is false for every other)."""
    if cell.isprintable() and "  " not in cell and cell[:1] != " " and cell[-1:] != " ":
        return cell
    return " ".join(cell.split())


def first_author(rec) -> str:
    """The first author's (else editor's) family name, "et al." when there are more."""
    names = authors_short(rec).split("; ")
    return names[0] + (" et al." if len(names) > 1 else "")


def print_rows(headers: tuple[str, ...], rows: list[tuple[str, ...]], one_line: bool = False) -> None:
    """A table on a terminal, tab-separated lines (no header) when piped.
    ``one_line``: each row on one line of the terminal (see :func:`one_line_rows`)."""
    env = environment()
    if env.stdout_isatty and one_line:
        for line in one_line_rows(headers, rows, env.width):
            out(line)
        return
    if env.stdout_isatty:
        from rich.console import Console
        from rich.table import Table

        plain = not env.colour  # no colour and no other styling either
        table = Table(*headers, header_style="" if plain else "bold")
        for row in rows:
            table.add_row(*(strip_controls(cell, keep="") for cell in row))
        console = Console(file=env.stdout, force_terminal=True, no_color=plain, highlight=False)
        console.print(table)
        return
    if rows:  # one write: writing 10,000 lines one by one took a third of the command
        out("\n".join([tsv_line(row) for row in rows]))


def one_line_rows(headers: tuple[str, ...], rows: list[tuple[str, ...]], width: int,
                  widest: int = 24) -> list[str]:
    """Lines of aligned columns, a header first, each row on one line of ``width``
    terminal cells: the first column (the key) whole, the middle ones at most
    ``widest`` cells (the one before the last down to 12 on a narrow terminal),
    the last (a title) cut to what is left (10 cells at least), with an ellipsis."""
    from rich.cells import cell_len, set_cell_size

    rows = [tuple(single_spaced(strip_controls(cell, keep="")) for cell in row) for row in rows]

    def cut(cell: str, cells: int) -> str:
        return cell if cell_len(cell) <= cells else set_cell_size(cell, max(cells - 1, 0)) + "…"

    sizes = [max([cell_len(headers[n])] + [cell_len(row[n]) for row in rows]) for n in range(len(headers) - 1)]
    sizes[1:] = [min(size, widest) for size in sizes[1:]]
    left = width - sum(sizes) - 2 * len(sizes)
    if left < 20 and sizes[-1] > 12:  # a narrow terminal: the authors give way first, to 12 cells
        give = min(20 - left, sizes[-1] - 12)
        sizes[-1], left = sizes[-1] - give, left + give
    left = max(left, 10)
    lines = []
    for row in [headers, *rows]:
        cells = [set_cell_size(cut(cell, size), size) for cell, size in zip(row, sizes, strict=False)]
        lines.append("  ".join([*cells, cut(row[-1], left)]).rstrip())
    return lines


def tsv_line(row: tuple[str, ...]) -> str:
    """The cells, each single-spaced (:func:`single_spaced`), tab-separated;
    a line whose cells need no change (most) is known by one test of it all."""
    line = "\t".join(row)
    if ("".join(row).isprintable() and "  " not in line and " \t" not in line and "\t " not in line
            and line[:1] != " " and line[-1:] != " "):
        return line
    return "\t".join([single_spaced(cell) for cell in row])


def write_output(text: str, output: Path | None) -> None:
    """``text`` to stdout, or atomically to the file ``output``; into a device,
    a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a named pipe) as
    ``cat > PATH`` would: such a file is written to, never replaced."""
    if output is None or str(output) == "-":
        environment().out(text, end="")
        return
    import stat

    from citetool.files import atomic_write_text  # start-up: loaded only when needed

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
