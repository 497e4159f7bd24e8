"""What ``check`` found about a reference and stored on it: read without a
request by ``list --flagged``, ``show`` and the exports' warnings. Below the
store and the selection, which read it; ``updates`` writes it."""

from __future__ import annotations

from citetool.record import META, Record

UPDATES = "updates"
# A found record's META part (never stored): what its source says happened to the
# work, {"source": name, "findings": [...]}, as a Crossref answer to `add` carries it.
FOUND_NEWS = "news"
RELATIONS = "relations"
SERIOUS = ("retraction", "expression-of-concern")  # `check` exits 3; `export` warns

# kind -> how a person reads it
WHAT = {
    "retraction": "retracted",
    "expression-of-concern": "expression of concern",
    "correction": "corrected",
    "new-version": "new version",
    "published-version": "published version available",
    "notice": "is itself a notice",
}


def stored_findings(record: Record) -> list[dict]:
    """What the last check found for a reference (no request)."""
    updates = record.get(META, {}).get(UPDATES)
    found = updates.get("findings") if isinstance(updates, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def is_flagged(record: Record) -> bool:
    return bool(stored_findings(record))


def serious_findings(record: Record) -> list[dict]:
    return [f for f in stored_findings(record) if f.get("kind") in SERIOUS]


def describe(finding: dict) -> str:
    """One finding as a phrase: ``retracted: 10.1016/… (2010-02-06, retraction-watch)``."""
    kind = finding.get("kind", "")
    what = WHAT.get(kind, kind.replace("-", " "))
    if kind == "notice":
        what = f"is itself a {str(finding.get('type', 'update')).replace('_', ' ')} notice for"
    details = ", ".join(str(finding[k]) for k in ("date", "source") if finding.get(k))
    return f"{what}: {finding.get('doi', '?')}" + (f" ({details})" if details else "")


def retraction_notes(records: list[Record]) -> list[str]:
    """One line per reference that was retracted or has an expression of
    concern (from the stored check; no request): ``KEY retracted: DOI (…)``."""
    return [f"{rec.get('id')} {describe(finding)}" for rec in records for finding in serious_findings(rec)]


def retraction_warnings(records: list[Record]) -> list[str]:
    """:func:`retraction_notes` as stderr says them (``warning: …``); the
    bibliography itself stays as the user asked."""
    return [f"warning: {note}" for note in retraction_notes(records)]
