"""RePEc handles as a source: what a handle and RePEc's own series/archive
tables (2017, shipped gzipped) say, with no request. Every value is a hint
that real metadata overrides (its rank is below every online source's).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from functools import cache
from importlib import resources

from citetool.identifiers.repec import Handle, parse_handle
from citetool.record import META, Record

SOURCE = "repec-handle"

# RePEc template type -> CSL type.
CSL_TYPE = {"article": "article-journal", "paper": "report", "book": "book", "chapter": "chapter",
            "software": "software"}


@cache
def _table(name: str) -> dict[str, dict]:
    raw = resources.files("citetool").joinpath("data", name).read_bytes()
    rows = csv.DictReader(io.StringIO(gzip.decompress(raw).decode("utf-8")), delimiter="\t")
    key = "series_handle" if "series" in name else "archive_handle"
    return {row[key].lower(): row for row in rows}


def series_info(handle: Handle) -> dict | None:
    """{name, type, provider, issn} of the handle's series, from RePEc's 2017 tables."""
    return _table("repec-series-2017.tsv.gz").get(handle.series_handle.lower())


def archive_name(handle: Handle) -> str | None:
    row = _table("repec-archives-2017.tsv.gz").get(f"repec:{handle.archive}")
    return row["name"] if row else None


def kind_of(handle: Handle) -> str:
    """article, paper, book, chapter or software: what the URL said, then what
    the item's shape says for sure, then RePEc's series table, then guesses."""
    if handle.kind_hint:
        return handle.kind_hint
    info = series_info(handle) or {}
    table = info.get("type") if info.get("type") in CSL_TYPE else None
    series = handle.series.lower()
    if handle.volume or handle.year:
        return "chapter" if table == "chapter" or series.endswith(("chp", "chap")) else "article"
    if re.search(r"vol\.?_", handle.item, re.IGNORECASE) and re.search(r"no\.?_", handle.item, re.IGNORECASE):
        return "article"  # pjd_2005_vol._xxxii_no._2-c
    if handle.archive == "boc":
        return "software"  # Boston College: SSC components and Stata datasets
    if table:
        return table
    if series.endswith(("chp", "chap")):
        return "chapter"
    if handle.isbn and not handle.chapter:
        return "book"
    return "paper"


def handle_record(handle: Handle) -> Record:
    """What the handle and the tables alone say (``--offline``). Every value is
    a hint: real metadata from any other source overrides it."""
    kind = kind_of(handle)
    info = series_info(handle) or {}
    rec: Record = {"type": CSL_TYPE[kind], "URL": handle.persistent_link}
    series_name = info.get("name")
    provider = info.get("provider") or archive_name(handle)
    if kind == "article":
        if series_name:
            rec["container-title"] = series_name
        for key, value in (("volume", handle.volume), ("issue", handle.issue), ("page", handle.pages),
                           ("number", handle.article_number)):
            if value:
                rec[key] = value
        if info.get("issn"):
            rec["ISSN"] = info["issn"]
    else:
        if series_name:
            rec["collection-title"] = series_name
        if kind in ("paper", "software") and handle.number:
            rec["number"] = handle.number
        if kind == "paper":
            rec["genre"] = "Working paper"
        if handle.isbn:
            rec["ISBN"] = handle.isbn
        if handle.chapter:
            rec["chapter-number"] = handle.chapter
    if provider:
        rec["publisher"] = provider
    if handle.year:
        rec["issued"] = {"date-parts": [[handle.year]]}
    if handle.doi:
        rec["DOI"] = handle.doi.lower()
    rec[META] = {"ids": handle_ids(handle)}
    return rec


def handle_ids(handle: Handle) -> dict:
    ids = {"repec": handle.text}
    if handle.rebuilt:
        ids["repec-rebuilt"] = "from an IDEAS URL: colons and case restored by rule"
    return ids


class HandleSource:
    name = SOURCE

    def __init__(self, settings, http):
        pass

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            on_result(ident, found=[(SOURCE, ident.handle.text, handle_record(ident.handle))])

    def refetch(self, asked: str) -> Record:
        return handle_record(parse_handle(asked))
