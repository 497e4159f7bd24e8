"""Citation keys: deterministic, readable, ASCII, Google-Scholar-like
(``arduino2021russia``): first author's family name folded to ASCII, year,
first significant title word. Unique ignoring case: a newcomer that collides
takes a suffix (a, b, ..., z, aa, ...); a key never changes once assigned.
"""

from __future__ import annotations

import difflib
import heapq
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


def _suffix(n: int) -> str:
    """The n-th collision suffix (1: a, 26: z, 27: aa, ...), like pubs and JabRef."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = letters[r] + s
    return s


def keys_in_use(records: dict[str, Record]) -> set[str]:
    """Every key a reference answers to, lower-cased: its own and its aliases
    (``citetool.aliases``, e.g. from a git merge), so that no new key takes
    one that a manuscript may cite."""
    used = {key.lower() for key in records}
    for rec in records.values():
        if rec.get(META, {}).get("aliases"):  # few have any
            used.update(alias.lower() for alias in aliases(rec))
    return used


def unique_key(base: str, taken_lower: set[str], hints: dict[str, int] | None = None) -> str:
    """``base`` if free, else base+a, base+b, ...; ``taken_lower`` holds the
    keys in use, lower-cased (uniqueness ignores case). ``hints`` (a dict kept
    by a caller whose ``taken_lower`` only grows, such as an import) remembers
    the first suffix not yet tried for each base: 50,000 entries with one
    generated key cost 50,000 tries, not 50,000²/2."""
    if base.lower() not in taken_lower:
        return base
    n = hints.get(base.lower(), 1) if hints is not None else 1
    while (base + _suffix(n)).lower() in taken_lower:
        n += 1
    if hints is not None:
        hints[base.lower()] = n + 1
    return base + _suffix(n)


# The one rule for a key that comes from outside (a store read or merged, an
# imported entry, a rekey): what BibTeX and biber accept as an entry key, kept
# verbatim. White space, control characters and , { } % # \ ~ " end or escape
# a key in some reader: a key holding one could write past its entry
# (``evil,\n note = {\input{/etc/hostname}}``).
MAX_KEY_LENGTH = 200
_KEY_BREAKER = re.compile(r'[\s,{}%#\\~"\x00-\x1f\x7f-\x9f]')


def invalid_key_reason(key: object) -> str | None:
    """Why ``key`` cannot be a citation key (``"holds ','"``), or None if it can."""
    if not isinstance(key, str) or not key:
        return "is empty" if key == "" else "is not text"
    if len(key) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters"
    bad = _KEY_BREAKER.search(key)
    if bad is None:
        return None
    found = bad.group()
    if found.isspace():
        return f"holds white space ({found!r})"
    if found < " " or "\x7f" <= found <= "\x9f":
        return f"holds a control character ({found!r})"
    return f"holds {found!r}"


def all_citable(keys: list[str]) -> bool:
    """Whether every one of ``keys`` (text, known) follows the one key rule, found
    by one search of them all (a store of 10,000 keys: a tenth of checking each);
    False means: look at each with :func:`invalid_key_reason` to say which and why."""
    return (all(keys) and max(map(len, keys), default=0) <= MAX_KEY_LENGTH
            and _KEY_BREAKER.search("".join(keys)) is None)


def is_citable_key(key: object) -> bool:
    """Whether ``key`` follows the one key rule (:func:`invalid_key_reason`)."""
    return invalid_key_reason(key) is None


_VALID_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.+-]*$")


def is_valid_key(key: str) -> bool:
    """Keys citetool makes or takes from an import: ASCII, safe for BibTeX,
    biblatex, pandoc and file names (stricter than :func:`is_citable_key`)."""
    return bool(_VALID_KEY.match(key)) and len(key) <= 100


def sorted_keys(keys: Iterable[str]) -> list[str]:
    """The order of references everywhere (the store file, list, export): by key
    ignoring case, then by key (``Smith2020`` before ``smith2020``). Sorted by
    key, then stably by key in lower case: two sorts in C, no Python key."""
    return sorted(sorted(keys), key=str.lower)


_CANDIDATES = 50  # stored names ranked by shared three-letter runs that difflib then compares


def nearest_keys(keys: list[str], records: dict[str, Record], n: int = 3) -> list[list[str]]:
    """For each of ``keys``, the stored keys (and aliases) of ``records`` nearest
    to it, ignoring case and accents (``bib``'s and ``show``'s suggestions). The
    stored names are folded once for all of ``keys``, and difflib compares each
    key only with the names sharing most three-letter runs with it: 1,000 keys
    against 2,000 references take well under a second."""
    if not keys:
        return []
    names: dict[str, str] = {}
    for stored, rec in records.items():
        for name in [stored, *aliases(rec)]:
            names.setdefault(fold(name).casefold(), name)
    trigrams = {name: _trigrams(name) for name in names}
    found = []
    for key in keys:
        folded = fold(key).casefold()
        wanted = _trigrams(folded)
        near = heapq.nlargest(_CANDIDATES, names, key=lambda name: len(wanted & trigrams[name]))
        found.append([names[m] for m in difflib.get_close_matches(folded, near, n=n, cutoff=0.6)])
    return found


def _trigrams(text: str) -> set[str]:
    text = f"  {text} "
    return {text[i:i + 3] for i in range(len(text) - 2)}
