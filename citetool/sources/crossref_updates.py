"""What Crossref says happened to works after publication, as a neutral structure.

Crossref's schema (2024 onwards) carries this on a work's record:

* ``updated-by``: the notices about this work, each ``{"type", "DOI", "updated":
  {date-parts}, "source", "label", "record-id"}``. ``type`` is Crossref's update
  type (``retraction``, ``expression_of_concern``, ``correction``,
  ``new_version``...); ``source`` is ``"retraction-watch"`` for entries from the
  Retraction Watch database (with its ``record-id``), ``"publisher"`` for the
  publisher's own deposit.
* ``update-to``: on a notice, the works it updates (same entry shape).
* ``relation``: ``is-preprint-of`` / ``has-preprint`` and ``is-version-of`` /
  ``has-version``, each a list of ``{"id-type": "doi", "id", "asserted-by"}``.

:func:`findings` turns one work into a list of plain dicts (see
:data:`KINDS`), which is all the rest of citetool sees; :func:`ask` gets them
for many DOIs with ``filter=doi:`` list queries (never the cache: news is the point).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from citetool.record import date_problem, strip_controls
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
    from citetool.identifiers import normalise_doi

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


def ask(client, dois: list[str], progress=None) -> tuple[dict[str, list[dict]], set[str], list[str]]:
    """Crossref's findings for ``dois`` (``filter=doi:`` list queries of at most
    100 DOIs, under the client's limiter; never the cache). A DOI with a comma
    cannot be written in a filter (commas separate filters, and one bad filter
    fails the whole query): it is asked alone, still not from the cache.

    Returns ``({doi lower: findings}, unasked, problems)``: a DOI absent from
    the answers but not in ``unasked`` is not a Crossref DOI (or not indexed);
    the DOIs (lower case) of a list query that failed are in ``unasked``, and
    the failure in ``problems``. ``progress(done, total)`` counts the DOIs
    whose query came back.
    """
    from concurrent.futures import ThreadPoolExecutor

    from citetool.errors import NotFound, SourceUnavailable
    from citetool.sources.crossref import check_work

    answers: dict[str, list[dict]] = {}
    unasked: set[str] = set()
    problems: list[str] = []
    listable = sorted({d for d in dois if "," not in d}, key=str.lower)
    alone_dois = sorted({d for d in dois if "," in d})
    total = len(listable) + len(alone_dois)
    done = 0
    counting = threading.Lock()

    def count(n: int) -> None:
        nonlocal done
        with counting:
            done += n
            if progress:
                progress(done, total)

    def one(batch: list[str]) -> None:
        try:
            ask_list(batch)
        finally:
            count(len(batch))

    def ask_list(batch: list[str]) -> None:
        params = {"filter": ",".join("doi:" + d for d in batch), "rows": str(len(batch))}
        try:
            items = client.query_list(params, strict=True)
        except SourceUnavailable as exc:
            problems.append(f"{exc} (asking about {len(batch)} DOIs)")
            unasked.update(d.lower() for d in batch)
            return
        wanted = {d.lower() for d in batch}
        for item in items:
            doi = str(item.get("DOI") or "").lower()
            if doi in wanted:
                try:
                    answers[doi] = findings(check_work(item))
                except SourceUnavailable as exc:  # that work of the wrong shape: not asked, the others go on
                    problems.append(str(exc))
                    unasked.add(doi)

    def alone(doi: str) -> None:
        try:
            ask_alone(doi)
        finally:
            count(1)

    def ask_alone(doi: str) -> None:
        try:
            answers[doi.lower()] = findings(check_work(client.fetch(doi, fresh=True)))
        except NotFound:
            pass
        except SourceUnavailable as exc:
            problems.append(str(exc))
            unasked.add(doi.lower())

    with ThreadPoolExecutor(max_workers=client.lists.concurrency) as pool:
        list(pool.map(one, client.batches(listable)))
        list(pool.map(alone, alone_dois))
    return answers, unasked, problems
