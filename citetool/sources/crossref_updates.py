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

import threading

from citetool.errors import NotFound, SourceUnavailable
from citetool.sources.crossref_news import SOURCE, findings  # noqa: F401 (check's vocabulary)


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

    from citetool.sources.crossref_mapping import check_work  # start-up: loaded only when needed

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
            problems.append(f"{exc} (asking about {len(batch)} DOI{'s' if len(batch) != 1 else ''})")
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
