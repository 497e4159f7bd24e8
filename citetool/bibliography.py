"""The bibliography of a manuscript: exactly the references it cites, each
under the key it is cited by.

``build(library, keys)`` resolves every cited key against the store (ignoring
case; aliases count), resolves and stores the keys that are identifiers
(Manubot's ``doi:…``, ``isbn:…``, ``repec:…``, ``https://…``, ``url:…``,
``arxiv:…``), and renders the references in any export format with each
``id`` set to the key as cited, so ``@doi:10.1080/…`` finds its entry in
pandoc and ``\\cite{Arduino2021}`` in biber, and one work cited under two keys
is written under both. Keys found nowhere come back with the closest stored
keys (ignoring case and accents).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Protocol

from citetool.errors import KeyNotInStore
from citetool.keys import invalid_key_reason, nearest_keys
from citetool.manuscript import ALL
from citetool.record import META, Record


class Library(Protocol):
    """What a bibliography uses of :class:`citetool.library.Library` (named here,
    not imported: :meth:`Library.bib` calls this module, not the other way)."""

    records: dict[str, Record]

    def resolve_key(self, key: str) -> str: ...

    def aliases(self, record: Record) -> list[str]: ...

    def add(self, inputs: list[str], offline: bool = False, progress: Callable[[int, int], None] | None = None,
            typed: bool = True) -> list: ...

    def render(self, fmt: str, records: list[Record], style: str | None = None, unicode: bool = False) -> str: ...


# Keys that name an identifier, as Manubot writes them (prefix case ignored).
_IDENTIFIER_KEY = re.compile(r"^(doi|isbn|repec|arxiv|url|https?):", re.IGNORECASE)
SUPPORTED_PREFIXES = ("doi:", "isbn:", "repec:", "arxiv:", "url:", "https://", "http://")
# Manubot's other prefixes: identifiers, but of sources citetool does not ask.
_UNSUPPORTED_KEY = re.compile(r"^(pmid|pmcid|wikidata):.", re.IGNORECASE)
_ARXIV_VERSION = re.compile(r"v\d+$")


def identifier_of(key: str) -> str | None:
    """The identifier a citation key names (``doi:10.1/x`` -> ``doi:10.1/x``,
    ``arxiv:2101.00001v2`` -> its DataCite DOI ``10.48550/arXiv.2101.00001``,
    ``url:https://…`` -> ``https://…``), or None for an ordinary key."""
    m = _IDENTIFIER_KEY.match(key)
    if m is None:
        return None
    prefix, rest = m.group(1).lower(), key[m.end():]
    if not rest:
        return None
    if prefix == "arxiv":  # arXiv registers a DOI for every paper (with DataCite, so doi.org answers)
        return "10.48550/arXiv." + _ARXIV_VERSION.sub("", rest)
    if prefix == "url":
        return rest
    if prefix == "repec":
        return "RePEc:" + rest
    return key  # doi:…, isbn:…, http(s)://… are what `citetool add` takes


@dataclass
class Citation:
    """What became of one cited key."""

    key: str  # as cited
    status: str  # "stored" | "added" | "missing" | "failed" | "unsupported"
    stored: str | None = None  # the key of the reference in the store
    error: str | None = None
    suggestions: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.stored is not None and self.status != "failed"

    def message(self) -> str:
        """One line for stderr about a key that did not resolve."""
        if self.status == "failed":
            return f"{self.key}: {self.error}"
        if self.status == "unsupported":
            prefix = self.key.split(":", 1)[0]
            return (f"{self.key}: citetool cannot look up {prefix}: identifiers; cite the work by a stored key "
                    f"or one of: {', '.join(p + '…' for p in SUPPORTED_PREFIXES)}")
        hint = f" (closest: {', '.join(self.suggestions)})" if self.suggestions else ""
        return f"{self.key}: not in the store{hint}"


@dataclass
class Bibliography:
    citations: list[Citation]
    records: list[Record] = field(default_factory=list)  # each resolved reference, ``id`` as cited
    text: str | None = None  # the rendered bibliography (None with render=False)
    notes: list[str] = field(default_factory=list)  # what citing by these keys brings (keys BibTeX takes for one)
    warnings: list[str] = field(default_factory=list)  # everything the user must hear (set by Library.bib)
    retracted: list[str] = field(default_factory=list)  # those of the warnings that are retractions or of concern

    @property
    def missing(self) -> list[Citation]:
        return [c for c in self.citations if not c.resolved]

    def as_dict(self) -> dict:
        return {
            "keys": [c.key for c in self.citations],
            "resolved": {c.key: c.stored for c in self.citations if c.resolved},
            "added": [c.key for c in self.citations if c.status == "added"],
            "missing": [{k: v for k, v in asdict(c).items() if k in ("key", "error", "suggestions")}
                        | ({"error": c.message().split(": ", 1)[1]} if c.status == "unsupported" else {})
                        for c in self.missing],
        }


# Characters a key may not hold in a .bib file, found by running the real tools
# (tests/test_bib.py): classic BibTeX (and LaTeX's \cite) stop at these, and
# biber's parser (btparse) also refuses " ' ( ) =.
_NOT_IN_BIBTEX_KEYS = set(' \t\n,{}%#\\~')
_NOT_IN_BIBER_KEYS = _NOT_IN_BIBTEX_KEYS | set("\"'()=")


def unwritable(key: str, fmt: str) -> str | None:
    """Why ``key`` cannot be an entry key in format ``fmt``, or None if it can."""
    forbidden = {"bibtex": _NOT_IN_BIBTEX_KEYS, "biblatex": _NOT_IN_BIBER_KEYS}.get(fmt, set())
    bad = sorted(set(key) & forbidden)
    reader = "biber" if fmt == "biblatex" else "BibTeX"
    if not bad:
        why = invalid_key_reason(key) if forbidden else None  # the one key rule: nothing past the entry
        return f"{reader} cannot read a key that {why}: cite the work by another key" if why else None
    return (f"{reader} cannot read a key holding {' '.join(repr(c) for c in bad)}: cite the work by another key"
            + (" or use --format csl-json (pandoc)" if "=" in bad or " " in bad else ""))


SUGGESTED_AT_MOST = 20  # missing keys given the closest stored keys (each costs a pass over the store)


def closest_keys(keys: list[str], library: Library, n: int = 3) -> list[list[str]]:
    """For each of ``keys``, the stored keys (and aliases) nearest to it (see :func:`citetool.keys.nearest_keys`)."""
    return nearest_keys(keys, library.records, n)


def resolve(library: Library, keys: Iterable[str], offline: bool = False, look_up: bool = True,
            progress: Callable[[int, int], None] | None = None) -> list[Citation]:
    """One :class:`Citation` per key, in order; ``*`` (``\\nocite{*}``) stands for
    every stored reference not cited otherwise. Identifier keys missing from the
    store are looked up and stored (``look_up``; ``offline`` uses the cache only)."""
    keys = list(dict.fromkeys(keys))
    citations: list[Citation] = []
    to_add: list[Citation] = []
    unknown: list[Citation] = []  # the first missing keys, to be given the closest stored ones
    find = library.key_finder()
    for key in keys:
        if key == ALL:
            continue
        try:
            citations.append(Citation(key, "stored", stored=find(key)))
        except KeyNotInStore:
            citation = Citation(key, "unsupported" if _UNSUPPORTED_KEY.match(key) else "missing")
            citations.append(citation)
            if citation.status == "unsupported":
                continue
            if identifier_of(key) is not None and look_up:
                to_add.append(citation)
            elif len(unknown) < SUGGESTED_AT_MOST:
                unknown.append(citation)
    for citation, suggestions in zip(unknown, closest_keys([c.key for c in unknown], library), strict=True):
        citation.suggestions = suggestions
    if to_add:
        outcomes = library.add([identifier_of(c.key) for c in to_add], offline=offline, progress=progress,
                               typed=False)  # found in a manuscript: its web addresses must be public
        for citation, outcome in zip(to_add, outcomes, strict=True):
            if outcome.ok:
                citation.status = "added" if outcome.status == "added" else "stored"
                citation.stored = outcome.key
            else:
                citation.status, citation.error = "failed", outcome.error
    if ALL in keys:
        cited = {c.stored for c in citations if c.key.lower() == (c.stored or "").lower()}
        citations += [Citation(k, "stored", stored=k) for k in sorted(library.records, key=str.lower)
                      if k not in cited]
    return citations


def _as_cited(rec: Record, key: str, other_keys: list[str]) -> Record:
    """``rec`` under the key it is cited by; its other keys are only the ones also cited."""
    meta = dict(rec.get(META) or {})
    meta["aliases"] = other_keys
    return dict(rec, id=key, **{META: meta})


def build(library: Library, keys: Iterable[str], fmt: str = "bibtex", style: str | None = None,
          unicode: bool = False, offline: bool = False, look_up: bool = True, render: bool = True,
          progress: Callable[[int, int], None] | None = None) -> Bibliography:
    """The bibliography of ``keys``: each resolved reference, in citation order,
    under the key it is cited by (rendered in ``fmt`` unless ``render`` is False)."""
    citations = resolve(library, keys, offline=offline, look_up=look_up, progress=progress)
    for citation in citations:
        why = unwritable(citation.key, fmt) if citation.resolved else None
        if why:
            citation.status, citation.error = "failed", why
    records, notes, seen = [], [], {}
    by_work: dict[str, list[str]] = {}  # stored key -> the keys it is cited by
    for c in citations:
        if not c.resolved:
            continue
        if fmt == "bibtex" and c.key.lower() in seen:  # BibTeX: one key ignoring case ("Repeated entry")
            notes.append(f"{seen[c.key.lower()]} and {c.key} differ only in case: BibTeX takes them for one "
                         f"key (and complains of a case mismatch); {seen[c.key.lower()]} is written")
            continue
        seen[c.key.lower()] = c.key
        by_work.setdefault(c.stored, []).append(c.key)
    done: set[str] = set()
    for c in citations:
        keys = by_work.get(c.stored or "", [])
        if c.key not in keys or c.key in done:
            continue
        rec = library.records[c.stored]
        if len(keys) == 1:
            records.append(_as_cited(rec, c.key, []))
        elif fmt == "biblatex":  # one entry, the work's other cited keys in its ``ids``
            # (a key differing only in case gets an entry of its own: biber tells them apart)
            others = [k for k in keys if k.lower() != c.key.lower()]
            records.append(_as_cited(rec, c.key, [k for k in others if k not in done]))
            done.update(others)
        else:
            if c.key == keys[0]:
                notes.append(f"{', '.join(keys)} are one work ({c.stored}): cited under {len(keys)} keys, "
                             "it is printed that many times (cite one key, or use biblatex)")
            records.append(_as_cited(rec, c.key, []))
        done.add(c.key)
    text = library.render(fmt, records, style=style, unicode=unicode) if render else None
    return Bibliography(citations, records, text, notes)
