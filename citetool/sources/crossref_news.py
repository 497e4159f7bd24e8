"""What Crossref's record of a work says happened to it (retractions,
expressions of concern, corrections, new versions, a preprint's published
version), read from the work's ``updated-by``, ``update-to`` and ``relation``:
pure parsing, shared by the Crossref source (an answer to ``add`` carries its
news) and by ``check`` (:mod:`citetool.sources.crossref_updates`)."""

from __future__ import annotations

import re
from typing import Any

from citetool.identifiers import normalise_doi
from citetool.record import strip_controls
from citetool.record_shape import date_problem
from citetool.text import one_line

SOURCE = "crossref"

# Crossref update type -> citetool's kind of finding.
KINDS = {
    "retraction": "retraction",
    "partial_retraction": "retraction",
    "withdrawal": "retraction",
    "removal": "retraction",
    "expression_of_concern": "expression-of-concern",
    "correction": "correction",
    "corrigendum": "correction",
    "erratum": "correction",
    "addendum": "correction",
    "clarification": "correction",
    "new_version": "new-version",
    "new_edition": "new-version",
}
# Relations of the work to other DOIs -> kind of finding. The others
# (``has-preprint``: the work is already the published one; ``is-version-of``
# / ``has-version``: versions under a concept DOI) are not news.
RELATIONS = {
    "is-preprint-of": "published-version",
}


def _text(value: Any) -> str:
    """A finding's text as a record's is stored: no control character (an ESC, a
    BEL, a NUL from a server would reach the terminal and the store), on one
    line (a line break in a label would forge a line of ``check``'s output)."""
    return one_line(strip_controls(str(value)))


def _doi(value: Any) -> str:
    """A DOI a finding names, as stored DOIs are compared: cleaned, any common
    spelling (``https://doi.org/10.…``) read as the DOI, lower case."""
    text = _text(value)
    return (normalise_doi(text) or text).lower()


def _date(entry: dict) -> str | None:
    """The notice's date, by the rules a record's date follows: numbers only, a
    real day (``[true, 99, -5]`` is no date); else the day of its time stamp."""
    updated = entry.get("updated")
    if not isinstance(updated, dict):
        return None
    rows = updated.get("date-parts") or []
    parts = rows[0] if rows and isinstance(rows[0], list) else []
    if parts and all(type(p) is int for p in parts[:3]) and date_problem({"date-parts": [parts[:3]]}) is None \
            and parts[0] >= 1:
        return "-".join([f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]])
    stamp = updated.get("date-time")
    if isinstance(stamp, str) and _DAY.match(stamp):
        day = [int(p) for p in stamp[:10].split("-")]
        return stamp[:10] if date_problem({"date-parts": [day]}) is None else None
    return None


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")


def _kind(update_type: str) -> str:
    return KINDS.get(update_type, update_type.replace("_", "-"))


def _update(entry: Any, kind: str | None = None) -> dict | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("DOI"), str) or not _text(entry["DOI"]):
        return None
    update_type = _text(entry.get("type") or "").lower()
    if not update_type:
        return None
    out = {"kind": kind or _kind(update_type), "doi": _doi(entry["DOI"]), "type": update_type}
    date = _date(entry)
    if date:
        out["date"] = date
    out["source"] = _text(entry.get("source") or "") or "publisher"
    if entry.get("label") and _text(entry["label"]):
        out["label"] = _text(entry["label"])
    if entry.get("record-id") not in (None, "") and _text(entry["record-id"]):
        out["record-id"] = _text(entry["record-id"])
    return out


def findings(work: dict) -> list[dict]:
    """Everything Crossref's record of ``work`` says happened to it, in a stable order.

    Each finding is ``{"kind", "doi", "source", ...}``:

    * ``kind`` ``retraction`` / ``expression-of-concern`` / ``correction`` /
      ``new-version`` (from ``updated-by``; ``doi`` is the notice's, with
      ``date``, ``type``, ``label``, ``record-id`` when Crossref gives them);
    * ``published-version`` (``relation.is-preprint-of``: ``doi`` is the
      published work's);
    * ``notice``: the work is itself a notice (``update-to``): ``doi`` is the
      work it updates, ``type`` what it is (a retraction notice...).

    Entries that point at the work itself (a publisher's new version deposited
    under the same DOI) are not news and are left out; duplicates are dropped.
    """
    own = _doi(work.get("DOI") or "")  # a relation to the work's own DOI, however spelt, is no news
    out: list[dict] = []
    seen: set[tuple] = set()

    def keep(item: dict | None) -> None:
        if item is None or item["doi"] == own:
            return
        ident = (item["kind"], item["doi"], item.get("source"), item.get("type"))
        if ident not in seen:
            seen.add(ident)
            out.append(item)

    for entry in work.get("updated-by") or []:
        keep(_update(entry))
    for entry in work.get("update-to") or []:
        keep(_update(entry, kind="notice"))
    relation = work.get("relation")
    if isinstance(relation, dict):
        for name, kind in RELATIONS.items():
            for entry in relation.get(name) or []:
                if (isinstance(entry, dict) and entry.get("id-type") == "doi" and isinstance(entry.get("id"), str)
                        and _text(entry["id"])):
                    keep({"kind": kind, "doi": _doi(entry["id"]), "type": name,
                          "source": "publisher", "asserted-by": _text(entry.get("asserted-by") or "")})
    return out
