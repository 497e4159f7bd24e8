"""Citation keys: deterministic, readable, ASCII, Google-Scholar-like
(``arduino2021russia``): first author's family name folded to ASCII, year,
first significant title word. Unique ignoring case: a newcomer that collides
takes a suffix (a, b, ..., z, aa, ...); a key never changes once assigned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from citetool.record import META, Record, aliases, is_organisation, names, year

STOPWORDS = frozenset(
    """a an and at by for from in into of on or the to with
    der die das ein eine und von zu zur zum le la les un une des du de et
    el los las il lo gli uno una""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """ASCII transliteration (Ünal -> Unal, Łukasz -> Lukasz, 王 -> Wang)."""
    from anyascii import anyascii

    return anyascii(text)


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text).lower().replace("'", ""))


def _first_significant(text: str) -> str:
    words = [w for w in re.split(r"\s+", fold(text).lower()) if w]
    for w in words:
        token = _WORD.findall(w)  # "russia's" -> "russia"
        if token and token[0] not in STOPWORDS:
            return token[0]
    return ""


def _author_part(record: Record) -> str:
    people = names(record, "author") or names(record, "editor")
    if not people:
        return "anon"
    first = people[0]
    if is_organisation(first):
        return _first_significant(first["literal"]) or "anon"
    family = first.get("family") or first.get("given") or ""
    return "".join(_words(family)) or "anon"


def base_key(record: Record) -> str:
    """The key before any collision suffix."""
    y = year(record)
    key = _author_part(record)[:30] + (str(y) if y else "nd")
    word = _first_significant(record.get("title") or "")
    return key + word[:20]


def _suffixes() -> Iterable[str]:
    """a..z, aa..az, ba.., like pubs and JabRef."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 1
    while True:
        index = n
        s = ""
        while index > 0:
            index, r = divmod(index - 1, 26)
            s = letters[r] + s
        yield s
        n += 1


def keys_in_use(records: dict[str, Record]) -> set[str]:
    """Every key a reference answers to, lower-cased: its own and its aliases
    (``citetool.aliases``, e.g. from a git merge), so that no new key takes
    one that a manuscript may cite."""
    used = {key.lower() for key in records}
    for rec in records.values():
        if rec.get(META, {}).get("aliases"):  # few have any
            used.update(alias.lower() for alias in aliases(rec))
    return used


def unique_key(base: str, taken_lower: set[str]) -> str:
    """``base`` if free, else base+a, base+b, ...; ``taken_lower`` holds the
    keys in use, lower-cased (uniqueness ignores case)."""
    if base.lower() not in taken_lower:
        return base
    for suffix in _suffixes():
        candidate = base + suffix
        if candidate.lower() not in taken_lower:
            return candidate
    raise AssertionError("unreachable")


_VALID_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.+-]*$")


def is_valid_key(key: str) -> bool:
    """Keys safe for BibTeX, biblatex, pandoc and file names."""
    return bool(_VALID_KEY.match(key)) and len(key) <= 100


# What a citation key cannot hold, for BibTeX, biber or LaTeX's \cite: a space
# (BibTeX ends the key there), the characters of BibTeX's syntax and LaTeX's
# specials; and control characters. Everything else (/ ' : + . - and letters of
# any script) is a key some .bib file uses and some paper cites.
_UNCITABLE = re.compile(r'[\s,{}%#\\~"\x00-\x1f\x7f-\x9f]')


def is_citable_key(key: str) -> bool:
    """A key a .bib file may hold and a paper cite: kept as it is by ``import``
    (``10.1257/aer.20161492``, ``d'Aspremont-2004``, ``Smith:2001:Book/Part``, ``Müller2001``)."""
    return bool(key) and _UNCITABLE.search(key) is None and len(key) <= 200
