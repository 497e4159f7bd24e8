"""Commands that bring references in: ``add``, ``import``, ``refresh``, ``search``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, environment, handle_errors, open_library, out, say
from citetool.cli.output import print_outcomes, print_rows, progress_bar
from citetool.cli.values import manual_record, read_ids
from citetool.errors import ExitCode, UsageError


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
        record = manual_record(csl_type, title, author, editor, year, set_)
        if ids or from_file:
            raise UsageError("--manual takes no identifiers")
        print_outcomes([open_library().add_manual(record)], as_json)
        return
    if any(v for v in (csl_type, title, author, editor, year, set_)):
        raise UsageError("--type, --title, --author, --editor, --year and --set go with --manual")
    inputs = read_ids(ids or [], from_file)
    if not inputs:
        raise UsageError("no identifiers given (pass them as arguments, or '-' to read stdin)")
    with progress_bar(len(inputs)) as progress:
        outcomes = open_library().add(inputs, refresh=refresh, offline=offline, progress=progress)
    print_outcomes(outcomes, as_json)


@app.command()
@handle_errors
def refresh(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to refresh (default: all).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line per reference.")] = False,
) -> None:
    """Ask the sources that produced each reference again (never the cache) and merge.

    Crossref, doi.org, EconPapers, Open Library and web pages are all asked
    again. Fields you edited are never touched; what changed is reported on
    stderr, then "N refreshed, M changed" (and how many were not asked, having
    no source, and how many failed).
    Example: citetool refresh arduino2021russia
    """
    with progress_bar(what="refreshing") as progress:
        outcomes = open_library().refresh(keys, progress=progress)
    failed = sum(not o.ok for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    summary = (f"{len(outcomes) - failed - skipped} refreshed, {sum(o.status == 'updated' for o in outcomes)} changed"
               + (f", {skipped} not asked (no source made them: imported or typed in)" if skipped else "")
               + (f", {failed} failed" if failed else ""))
    print_outcomes(outcomes, as_json, summary=summary)


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
            texts.append(("<stdin>", environment().read_stdin()))
            continue
        try:
            texts.append((str(path), path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    from citetool.formats.imported import skipped_entries  # start-up: loaded only when needed

    with progress_bar(what="resolving") as progress:
        outcomes, problems = open_library().import_files(texts, resolve=resolve, progress=progress)
    for problem in problems:
        say(problem)
    print_outcomes(outcomes, as_json, verb="imported", also_failed=skipped_entries(problems))
    if problems:
        raise typer.Exit(int(ExitCode.IDENTIFIERS_FAILED))


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
    candidates = open_library().sources.search(text, rows)
    if as_json:
        out(json.dumps([c.as_dict() for c in candidates], ensure_ascii=False, indent=2))
        return
    print_rows(("score", "DOI", "year", "first author", "title"),
                [(c.shown_score, c.doi, str(c.year or ""), c.author, c.title) for c in candidates])
