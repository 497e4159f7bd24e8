"""Commands that look after the store file itself: ``doctor``, ``git-setup``, ``merge-driver``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, current_settings, current_store_path, handle_errors, out, say
from citetool.errors import ExitCode


@app.command()
@handle_errors
def doctor(
    repair: Annotated[bool, typer.Option("--repair", help="Repair what can be repaired (a backup of the file is kept).")] = False,
) -> None:
    """Check the store; with --repair, fix what can be fixed safely.

    Exit 0 when the store is (now) healthy, 4 when a problem remains.
    Example: citetool doctor --repair
    """
    from citetool.doctor import doctor as examine_store  # start-up: loaded only when needed
    from citetool.store import Store  # start-up: loaded only when needed

    store = Store(current_store_path(), current_settings().lock_timeout)
    report = examine_store(store, repair=repair)
    for line in report.lines(store.path):
        out(line)
    if not report.fine:
        raise typer.Exit(int(ExitCode.STORE))


@app.command("git-setup")
@handle_errors
def git_setup(
    global_config: Annotated[bool, typer.Option("--global", help="Register the driver in your user git config (every repository).")] = False,
) -> None:
    """Let git merge the store with citetool's merge driver (no conflict markers).

    Registers the driver (merge.citetool.*) in git's config and adds the store
    (--store, $CITETOOL_STORE, citetool.toml or ./citetool.json) to the work
    tree's .gitattributes with merge=citetool, and its lock file to .gitignore.
    Safe to run again.
    Example: citetool --store refs/citetool.json git-setup
    """
    from citetool.gitmerge import git_setup as setup  # start-up: loaded only when needed

    for line in setup(current_store_path(), global_config=global_config):
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
    from citetool.gitmerge import merge_files  # start-up: loaded only when needed

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
