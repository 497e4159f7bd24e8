"""Commands that ask what happened to stored works since: ``check`` and ``upgrade``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, handle_errors, open_library, out, say
from citetool.cli.output import progress_bar
from citetool.errors import ExitCode


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
    from citetool.findings import describe  # start-up: loaded only when needed

    with progress_bar(what="checking") as progress:
        results, problems = open_library().check(keys, progress=progress)
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
    with progress_bar(what="upgrading") as progress:
        plans, problems = open_library().upgrade(keys, dry_run=dry_run, progress=progress)
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
