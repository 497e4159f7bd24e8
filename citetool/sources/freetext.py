"""References written out as text, as pasted from a paper's reference list
("Arduino, A., & Shuja, A. (2021). Russia's scalable soft power ...").

Crossref's ``/works?query.bibliographic=`` ranks works against the text. A
line is resolved only when the best candidate is clearly the one meant:

* its score is at least ``MARGIN`` times the next candidate's;
* its title's words are in the text (at least ``TITLE_COVERAGE`` of them);
* its first author's family name is in the text;
* one of its years (issued, print, online) is in the text.

Otherwise the line fails, naming the best candidates: citetool never adds a
guess. The record is Crossref's own, stored under its DOI (provenance
``crossref``), so ``refresh`` asks Crossref for that DOI like any other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from citetool.errors import LookupFailed, NotFound
from citetool.sources.crossref import SOURCE as CROSSREF
from citetool.sources.crossref_mapping import choose_date, work_to_record
from citetool.text import fold

SOURCE = "crossref-search"
ROWS = 5
MARGIN = 1.25  # the best score over the next one
TITLE_COVERAGE = 0.85  # share of the title's words found in the text
SHOWN = 3  # candidates named when a line cannot be resolved


@dataclass
class Candidate:
    score: float | None  # None: Crossref gave no finite number (NaN, Infinity, none at all)
    doi: str
    year: int | None
    author: str
    title: str
    work: dict
    problem: str = ""  # Crossref answered it of the wrong shape: why (it is never stored)

    @property
    def rank(self) -> float:
        """The score to compare: no score ranks below every score."""
        return self.score if self.score is not None else -math.inf

    @property
    def shown_score(self) -> str:
        return "none" if self.score is None else f"{self.score:g}"

    def as_dict(self) -> dict:
        return {"score": self.score, "DOI": self.doi, "year": self.year, "author": self.author, "title": self.title}

    def describe(self) -> str:
        title = self.title if len(self.title) <= 60 else self.title[:57] + "..."
        return f"{self.doi} ({self.year or 'n.d.'}, {self.author or 'no author'}, \"{title}\", score {self.shown_score})"


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def _years(work: dict) -> set[int]:
    years = set()
    for key in ("issued", "published-print", "published-online", "published"):
        parts = choose_date({key: work.get(key)}) if work.get(key) else []
        if parts:
            years.add(parts[0])
    return years


def score_of(work: dict) -> float | None:
    """Crossref's score of a work: a finite number, else None. NaN would make any
    candidate "stand out" (every comparison with it is false) and print as
    invalid JSON; Infinity would always win."""
    score = work.get("score")
    if type(score) not in (int, float):
        return None
    try:
        score = float(score)
    except OverflowError:  # an integer beyond a float's range
        return None
    return score if math.isfinite(score) else None


def candidate(work: dict) -> Candidate:
    """One of Crossref's candidates (a work of the wrong shape too: its ``problem`` says why)."""
    try:
        record = work_to_record(work)
    except LookupFailed as exc:
        return Candidate(score_of(work), work["DOI"], None, "", "", work, problem=str(exc))
    people = record.get("author") or record.get("editor") or []
    first = people[0] if people else {}
    year = (record.get("issued") or {}).get("date-parts", [[None]])[0][0]
    return Candidate(score_of(work), record.get("DOI", ""), year,
                     first.get("family") or first.get("literal") or "", record.get("title", ""), work)


def agrees(best: Candidate, text: str) -> list[str]:
    """What of ``best`` the text does not bear out ([] when everything agrees)."""
    said = set(_words(text))
    problems = []
    title = [w for w in _words(best.title) if len(w) > 1 or w.isdigit()]
    if not title or sum(w in said for w in title) < TITLE_COVERAGE * len(title):
        problems.append("its title is not the one in the text")
    family = _words(best.author)
    if not family or not all(w in said for w in family):
        problems.append("its first author is not named in the text")
    if not {str(y) for y in _years(best.work)} & said:
        problems.append("its year is not the one in the text")
    return problems


def choose(candidates: list[Candidate], text: str) -> tuple[Candidate | None, str]:
    """The candidate that is clearly meant, or None and why not."""
    if not candidates:
        return None, "Crossref has no candidate"
    best = candidates[0]
    if best.score is None:
        return None, "Crossref gave the best candidate no score"
    if len(candidates) > 1 and (candidates[1].score is None or best.score < MARGIN * candidates[1].score):
        return None, "no candidate stands out"
    if best.problem:
        return None, f"the best candidate cannot be read ({best.problem})"
    problems = agrees(best, text)
    if problems:
        return None, f"the best candidate does not match ({'; '.join(problems)})"
    return best, ""


class FreeTextSource:
    """A reference written out: the Crossref work it clearly describes, or a failure naming candidates."""

    name = SOURCE

    def __init__(self, settings, http, crossref):
        self.client = crossref.client  # the registry's Crossref client: its session, limits and cache

    def search(self, text: str, rows: int = ROWS) -> list[Candidate]:
        """Crossref's best candidates for ``text``, best first (never cached); those
        of the wrong shape are left out (they are never stored)."""
        return [c for c in self.candidates(text, rows) if not c.problem]

    def candidates(self, text: str, rows: int = ROWS) -> list[Candidate]:
        """Every candidate, best first, those of the wrong shape with their ``problem``
        (their scores still count: a line is resolved only when its best clearly stands out)."""
        params = {"query.bibliographic": text, "rows": str(rows)}
        shown = text if len(text) <= 60 else text[:57] + "..."
        items = self.client.query_list(params, strict=True, what=f"the reference {shown!r}")
        found = [candidate(item) for item in items if isinstance(item.get("DOI"), str)]
        return sorted(found, key=lambda c: -c.rank)

    def look_up(self, idents, offline: bool, fresh: bool, on_result) -> None:
        for ident in idents:
            shown = ident.value if len(ident.value) <= 80 else ident.value[:77] + "..."
            try:
                if offline:
                    raise LookupFailed(f"cannot search Crossref for a reference offline: {shown!r}")
                candidates = self.candidates(ident.value)
                best, why = choose(candidates, ident.value)
                if best is None:
                    named = "; ".join(c.describe() for c in candidates[:SHOWN] if not c.problem)
                    raise NotFound(f"no sure match in Crossref for {shown!r}: {why}"
                                   + (f"; candidates: {named}" if named else ""))
                self.client.remember(best.work)
                on_result(ident, found=[(CROSSREF, best.doi, work_to_record(best.work))])
            except LookupFailed as exc:
                on_result(ident, error=exc)

    def refetch(self, asked: str) -> None:
        return None  # its records are stored as Crossref's, refreshed by DOI
