"""Conflicts a git merge left on references (``citetool.unresolved``), for
the commands that report and settle them: ``doctor``, ``export`` (a warning),
``show`` and ``resolve``. Light on purpose: reading commands import it.

A conflict is ``{field: {"ours": value, "theirs": value}}`` under the
reference's ``citetool`` data (``null`` for a removed field); our value stays
in place until :func:`settle` (``citetool resolve``) keeps one.
"""

from __future__ import annotations

from collections.abc import Iterable

from citetool.errors import UsageError
from citetool.record import META, Record, value_text

UNRESOLVED = "unresolved"  # citetool.unresolved: merge conflicts waiting for `citetool resolve`


def unresolved_problems(records: Iterable[Record]) -> list[str]:
    """One line per conflict a merge left, by key (``doctor`` lists them,
    ``export`` warns of them)."""
    problems = []
    with_conflicts = [rec for rec in records if isinstance(rec.get(META), dict) and rec[META].get(UNRESOLVED)]
    for rec in sorted(with_conflicts, key=lambda r: str(r.get("id", "")).lower()):
        pending = rec[META][UNRESOLVED]
        if not isinstance(pending, dict):  # a hand edit that doctor reports as such
            continue
        for name, sides in sorted(pending.items()):
            if not isinstance(sides, dict):
                continue
            key = rec.get("id")
            problems.append(f"{key}: unresolved merge conflict in {name} (ours: {value_text(sides.get('ours'))}; "
                            f"theirs: {value_text(sides.get('theirs'))}); settle it with "
                            f"`citetool resolve {key} {name} --take ours|theirs|VALUE`")
    return problems


def settle(record: Record, name: str, take: str) -> object:
    """Settle the conflict on field ``name``: ``take`` is "ours", "theirs" or a
    value as ``edit --set`` reads it. The value becomes the user's. Returns it."""
    from citetool.merge import set_user_field  # start-up: loaded only when needed
    from citetool.record_input import parse_field_value  # start-up: loaded only when needed
    from citetool.record_shape import field_problem  # start-up: loaded only when needed

    info = record.setdefault(META, {})
    pending = info.get(UNRESOLVED) or {}
    if name not in pending:
        known = ", ".join(sorted(pending)) or "none"
        raise UsageError(f"{record['id']} has no unresolved merge conflict in {name!r} (unresolved: {known})")
    if take in ("ours", "theirs"):
        value = pending[name].get(take)
        if value is not None and field_problem(name, value):  # e.g. "bad" for a date: read as edit --set reads it
            if not isinstance(value, str):
                raise UsageError(f"{record['id']}: {take} value of {name} {field_problem(name, value)}; "
                                 f"give the value: --take VALUE")
            try:
                value = parse_field_value(name, value)
            except ValueError as exc:
                raise UsageError(f"{record['id']}: {take} value of {name}: {exc}; give the value: --take VALUE") from None
    else:
        try:
            value = parse_field_value(name, take)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    set_user_field(record, name, value)
    del pending[name]
    if not pending:
        del info[UNRESOLVED]
    return value
