"""What ``citetool import`` keeps of a .bib entry as it was written.

A stored reference is CSL-JSON; what a .bib entry says beyond its CSL reading
(the braces that protect a word, ``journal = \\mnras``, ``and others``, a
``file``, ``groups`` or ``adsurl`` field, a field of the user's own) would be
lost there. So import keeps the entry as written under the reference's
``citetool`` part::

    "citetool": {"bibtex": {"type": "article", "file": "refs.bib",
                            "fields": {"author": "{Smith, J. and others}", "journal": "{\\\\mnras}",
                                       "year": "2001", "month": "jan", "adsurl": "{https://…}"},
                            "repeated": {"title": ["{a second title}"]}}}

``fields`` maps each field (lower case) to its value as written, delimiters
included, a @string's name replaced by its value; ``repeated`` holds the values
of a field given twice that BibTeX ignores. The BibTeX and biblatex exports
write these back (see :mod:`citetool.formats.bibtex_written_back`) wherever the
stored value is still the one read from them.
"""

from __future__ import annotations

import re

from citetool.record import META, Record

KEPT = "bibtex"  # the part of ``citetool`` that holds an entry as written

# Which .bib fields each CSL variable is read from (bibtex_reader.entry_to_record):
# a field is written back as it was while every variable it gave is unchanged.
READ_FROM: dict[str, tuple[str, ...]] = {
    "author": ("author",), "editor": ("editor",), "translator": ("translator",),
    "title": ("title", "subtitle", "issuetitle"),
    "container-title": ("journaltitle", "journal", "booktitle", "howpublished"),
    "collection-title": ("series",), "volume": ("volume",), "edition": ("edition",),
    "abstract": ("abstract",), "note": ("note",), "language": ("language",),
    "ISBN": ("isbn",), "ISSN": ("issn",), "issue": ("issue", "number"), "number": ("number", "eid"),
    "page": ("pages",), "publisher": ("publisher", "institution", "school", "organization"),
    "publisher-place": ("location", "address"), "issued": ("date", "year", "month"),
    "DOI": ("doi",), "URL": ("url",), "keyword": ("keywords",), "annote": ("annote", "annotation"),
    "accessed": ("urldate",), "title-short": ("shorttitle",), "container-title-short": ("shortjournal",),
    "genre": ("type",), "chapter-number": ("chapter",), "PMID": ("pmid",), "PMCID": ("pmcid",),
    "event-title": ("eventtitle",), "event-place": ("venue",), "version": ("version",),
    "original-date": ("origdate",),
}
# Every .bib field some CSL variable is read from.
MAPPED = frozenset(name for names in READ_FROM.values() for name in names)
# Fields that point at another entry: the fields an entry inherits through them
# are copied into it on import (the other entry may not be exported with it).
POINTERS = frozenset({"crossref", "xref"})


def keep_as_written(rec: Record, entry, origin: str, parent=None) -> None:
    """Keep ``entry`` (a :class:`~citetool.formats.bibtex_split._Entry`) as written under
    ``rec``'s ``citetool`` part; ``parent``: the entry its ``crossref`` names, whose
    fields it inherits."""
    fields = dict(entry.raw)
    if parent is not None:
        for name, value in parent.raw.items():
            if name == "title" and "booktitle" not in fields:
                fields["booktitle"] = value
            elif name not in fields and name not in ("title", "ids", *POINTERS):
                fields[name] = value
    if not fields:
        return
    kept: dict = {"type": entry.entry_type, "key": entry.key, "file": origin, "fields": fields}
    if entry.repeated:
        repeated: dict[str, list[str]] = {}
        for name, value in entry.repeated:
            repeated.setdefault(name, []).append(value)
        kept["repeated"] = repeated
    rec.setdefault(META, {})[KEPT] = kept


def kept_entry(rec: Record) -> dict | None:
    """The entry ``rec`` was imported from, as written (see the module's docstring), if any."""
    meta = rec.get(META)
    kept = meta.get(KEPT) if isinstance(meta, dict) else None
    return kept if isinstance(kept, dict) and isinstance(kept.get("fields"), dict) else None


def unmapped_fields(rec: Record) -> dict[str, str]:
    """The fields of the imported entry that no CSL variable holds (file, groups,
    adsurl, a field of the user's own...), as written."""
    kept = kept_entry(rec)
    if kept is None:
        return {}
    return {name: value for name, value in kept["fields"].items() if name not in MAPPED}


def same_entry(existing: Record, incoming: Record) -> bool:
    """Whether ``incoming`` is the entry ``existing`` was imported from, read again
    (the same key; or ``existing`` came from no entry), not another entry of the same work."""
    old, new = kept_entry(existing), kept_entry(incoming)
    if old is None or new is None:
        return True
    return str(old.get("key") or "").lower() == str(new.get("key") or "").lower()


def merge_kept(existing: Record, incoming: Record) -> None:
    """Bring ``incoming``'s entry as written into ``existing``: the same entry read
    again replaces it; another entry of the same work (a second key for it) is
    kept beside it, under ``others`` by its key, and written back under that key."""
    new = kept_entry(incoming)
    if new is None:
        return
    info = existing.setdefault(META, {})
    old = kept_entry(existing)
    copy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in new.items() if k != "others"}
    if old is None or same_entry(existing, incoming):
        if old is not None and isinstance(old.get("others"), dict):
            copy["others"] = old["others"]
        info[KEPT] = copy
    elif new.get("key"):
        others = old.setdefault("others", {})
        if isinstance(others, dict):
            others.setdefault(str(new["key"]), copy)


def unwrapped(raw: str) -> str:
    """A value as written without its delimiters (``{x}`` or ``"x"`` -> ``x``)."""
    if len(raw) >= 2 and (raw[0], raw[-1]) in (("{", "}"), ('"', '"')):
        return raw[1:-1]
    return raw


_BARE = re.compile(r"[0-9]+|[A-Za-z]{3}")  # a number, a month macro (BibTeX's macros ignore case)
_INNERMOST = re.compile(r"\{[^{}]*\}")


def writable(value: str) -> bool:
    """A value as written that stays one field's value when written back, by
    BibTeX's own rule (every brace counts, a backslash escapes none): one braced
    group that no brace closes early, a quoted string whose braces balance and
    which holds no quote outside them, a number or a month macro. (A hand-edited
    store's ``{x}, author = {y}`` or ``{x}}@preamble{…`` is not.)"""
    if _BARE.fullmatch(value):
        return True
    if len(value) < 2 or (value[0], value[-1]) not in (("{", "}"), ('"', '"')):
        return False
    inside = value[1:-1]
    while True:  # take out the innermost groups until none is left
        fewer = _INNERMOST.sub("", inside)
        if fewer == inside:
            break
        inside = fewer
    return "{" not in inside and "}" not in inside and (value[0] == "{" or '"' not in inside)
