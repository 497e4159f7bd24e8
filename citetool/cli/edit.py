"""Commands that change references by hand: ``edit``, ``rekey``, ``remove``, ``resolve``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from citetool.cli.app import app, environment, handle_errors, open_library, out, say
from citetool.cli.values import csl_field, field_value, set_pairs
from citetool.errors import UsageError
from citetool.record import ITEM_VARIABLES, value_text


@app.command()
@handle_errors
def remove(
    keys: Annotated[list[str], typer.Argument(help="Citation keys to remove.")],
) -> None:
    """Remove references (all named keys must exist, else nothing is removed).

    Example: citetool remove arduino2021russia
    """
    for key in open_library().remove(keys):
        say(f"removed {key}")


@app.command()
@handle_errors
def edit(
    key: Annotated[str, typer.Argument(help="Citation key.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE (CSL field names, or BibTeX's: journal, keywords...; repeatable).")] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="FIELD to remove (repeatable).")] = None,
) -> None:
    """Correct a reference by hand; edited fields are yours and no source overwrites them.

    Names: "Family, Given and Family, Given"; dates: 2021, 2021-10 or 2021-10-28.
    With no --set/--unset on a terminal, opens $EDITOR on the record.
    Example: citetool edit arduino2021russia --set title="Russia's scalable soft power"
    """
    from citetool.record_input import check_field_name  # start-up: loaded only when needed

    pairs = set_pairs(set_)
    for name, text in pairs:
        if not text.strip():  # "--set title=" would remove the title while saying "changed title"
            raise UsageError(f"--set {name}= has no value: use --unset {name} to remove a field")
    values: dict[str, object] = {name: field_value(name, text) for name, text in pairs}
    for name in map(csl_field, unset or []):
        try:
            check_field_name(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if name == "type":
            raise UsageError("every reference needs a type: change it with --set type=..., not --unset")
        values[name] = None
    lib = open_library()
    if not values:
        values = edit_in_editor(lib, key)
    key, changed = lib.edit(key, values)
    out(key)
    say(f"{key}: {'changed ' + ', '.join(changed) if changed else 'nothing changed'}")


def edit_in_editor(lib, key: str) -> dict:
    """Open $EDITOR on the record's fields (JSON); return what the user changed."""
    import shlex
    import subprocess
    import tempfile

    from citetool.merge import bibliographic_fields  # start-up: loaded only when needed

    env = environment()
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
    keys: Annotated[list[str], typer.Argument(help="OLD NEW; with --pattern, the keys to re-key.", show_default=False)],
    pattern: Annotated[str | None, typer.Option("--pattern", help=(
        "Give KEYS the keys this pattern makes, e.g. [auth:lower][year][veryshorttitle:lower]; "
        "the old keys stay as aliases."))] = None,
) -> None:
    """Rename a citation key, or give references the keys a pattern makes (keys never change otherwise).

    Example: citetool rekey arduino2021russia arduino2021soft

    Example: citetool rekey --pattern "[auth][year][shorttitle]" arduino2021russia tosatto2015single
    """
    if pattern is not None:
        for old, new in open_library().rekey_by_pattern(keys, pattern):
            out(new)
            say(f"renamed {old} to {new} ({old} stays an alias)" if new != old else f"{old}: the pattern gives it again")
        return
    if len(keys) != 2:
        raise UsageError("rekey takes OLD NEW (or --pattern PATTERN KEY...)")
    old, new = keys
    old = open_library().rekey(old, new)
    out(new)
    say(f"renamed {old} to {new}")


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
    key, value = open_library().resolve_conflict(key, field, take)
    out(key)
    say(f"{key}: {field} is now {value_text(value)}")
