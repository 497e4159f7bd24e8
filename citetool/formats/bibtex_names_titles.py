"""Titles and names as BibTeX and biblatex read them: the capitals a style must
not lowercase protected with braces (``{S-400}``, an ALL-CAPS title left as it
is), and names written so that bibtex, biber and pandoc split them as stored
(particles, organisations, family names holding a comma, joined initials)."""

from __future__ import annotations

import re

from citetool.formats.latex_text import CLASSIC, REMEMBERED_LENGTH, char_out, escape, is_plain
from citetool.record import (
    is_organisation,
)
from citetool.text import one_line

_LEADING_PUNCT = "\"'([{\u2018\u201c\u00ab-"


_TRAILING_PUNCT = ",.:;!?)]}'\"\u2019\u201d\u00bb"


# A title word's kind. Titles share most of their words ("of", "the",
# "Evidence"), so each distinct word is looked at once and its kind remembered.
# A kind is a sum of the counters below, so that the sum of a title's kinds
# (one sum() in C) counts each of them for the whole title at once. Each
# counter has 15 bits, so that a sum stays in a machine word, where sum() adds
# in C without making a Python int of each step (a title of more words is
# counted otherwise: :func:`_counts`).
_STARTS_WITH_LETTERS = 1  # its first four characters (all, if fewer) are letters


_CAPITALISED = 1 << 15    # ... and the first is a capital


_KEEP_CAPITALS = 1 << 30  # capitals kept wherever it stands: NATO, McDonald, mRNA, S-400, 3D, CO2


_PROPER_NOUN = 1 << 45    # capitalised: a proper noun when past the first word of a sentence-case title


_COUNTER = (1 << 15) - 1  # one counter's bits


class _WordKinds(dict):
    """Word -> its kind; a word not yet known is classified (``__missing__``), so
    that ``map(_word_kinds.__getitem__, words)`` gives every kind in C for the
    known words. A word is remembered when short: a title in Chinese is one "word"."""

    def __missing__(self, word: str) -> int:
        kind = _classify(word)
        if len(word) <= REMEMBERED_LENGTH:
            if len(self) > 1 << 18:
                self.clear()  # a bound on what is remembered; the words seen most come back soon
            self[word] = kind
        return kind


_word_kinds = _WordKinds()


def _counts(kinds: list[int]) -> tuple[int, int, int, int]:
    """How many of the words past the first (their ``kinds``) start with
    letters, are capitalised, keep capitals, are proper nouns."""
    if len(kinds) <= _COUNTER:  # no counter of the sum can reach the next
        total = sum(kinds) - kinds[0]
        return total & _COUNTER, total >> 15 & _COUNTER, total >> 30 & _COUNTER, total >> 45
    rest = kinds[1:]
    return (sum(kind & 1 for kind in rest), sum(kind >> 15 & 1 for kind in rest),
            sum(kind >> 30 & 1 for kind in rest), sum(kind >> 45 & 1 for kind in rest))


def _classify(word: str) -> int:
    kind = 0
    if word[:4].isalpha():
        kind = _STARTS_WITH_LETTERS + (_CAPITALISED if word[0].isupper() else 0)
    if word.islower():
        return kind  # most words; no capital to keep
    first, rest = word[:1], word[1:].rstrip(_TRAILING_PUNCT)
    if first.isupper() and first.isalpha() and (not rest or rest.isalpha() and rest.islower()):
        # "Evidence," "A": capitalised, no other capital, no digit: a proper
        # noun only in a sentence-case title, past its first word.
        return kind + _PROPER_NOUN
    w = word.lstrip(_LEADING_PUNCT)
    if not w or not w[0].isalpha():
        return kind + (_KEEP_CAPITALS if any(c.isupper() for c in w) else 0)  # "3D", "2019-nCoV"
    rest = w[1:]
    if rest != rest.lower():
        return kind + _KEEP_CAPITALS  # NATO, McDonald, mRNA, iPhone, U.S.
    if w[0].isupper() and any(c.isdigit() for c in rest):
        return kind + _KEEP_CAPITALS  # S-400, CO2
    # In a sentence-case title a capitalised word past the first is a proper noun.
    return kind + (_PROPER_NOUN if w[0].isupper() else 0)


def protect_title(title: str, mode: str) -> str:
    """Escape ``title`` and brace the words whose capitals a style must keep.

    A title is in title case when more than half of its words past the first
    that begin with letters are capitalised; there, a capitalised word is
    left to the style, elsewhere it is a proper noun and kept."""
    if is_plain(title):  # most titles: one_line and escape leave it as it is
        title = escaped = title.strip(" ")
    else:
        title, escaped = one_line(title), None
    if title.isupper() and " " in title:
        # An ALL-CAPS title (as some publishers deposit them): its capitals say
        # nothing about proper nouns, and braced they would be frozen in every style.
        return escaped or escape(title, mode)
    first, _, rest = title.partition(" ")
    if rest.isascii() and rest.islower() and not _word_kinds[first] & _KEEP_CAPITALS:
        # No capital past the first word (ASCII: no A-Z), so no word there is capitalised, keeps
        # capitals or is a proper noun (:func:`_classify`): the title is in sentence case, and
        # only its first word could be braced. Many titles; known without a look at each word.
        return escaped or escape(title, mode)
    words = title.split(" ")
    kinds = list(map(_word_kinds.__getitem__, words))  # (in C: most words are known)
    starts_with_letters, capitalised, keep_capitals, proper_nouns = _counts(kinds)
    title_case = capitalised * 2 > starts_with_letters
    keep = _KEEP_CAPITALS if title_case else _KEEP_CAPITALS | _PROPER_NOUN
    if not (kinds[0] & _KEEP_CAPITALS or keep_capitals or (proper_nouns and not title_case)):
        return escaped or escape(title, mode)  # nothing to brace: most titles
    escaped = escaped or escape(title, mode)
    pieces = words if escaped == title else escaped.split(" ")  # (most titles: nothing to escape)
    if len(pieces) != len(words):  # escaping never adds spaces; stay safe if it did
        pieces = [escape(w, mode) for w in words]
    braced = ["{" + piece + "}" if kind & keep else piece for piece, kind in zip(pieces, kinds, strict=True)]
    braced[0] = "{" + pieces[0] + "}" if kinds[0] & _KEEP_CAPITALS else pieces[0]  # the first word: its own rule
    return " ".join(braced)


def _name_part(text: str, mode: str) -> str:
    return _protected(text, escape(text, mode))


def _protected(text: str, escaped: str) -> str:
    """A name part as written (``escaped``), braced when ``text`` would split the name list."""
    return "{" + escaped + "}" if _splits_name_list(text) else escaped


def _splits_name_list(text: str) -> bool:
    """A comma or a lone "and" in a name part would split the name list."""
    return "," in text or ("and" in text.lower() and AND_WORD.search(text) is not None)


def _unmarked_particle(family: str) -> bool:
    """The family name is "van Lieshout", "Gómez de Aranda", "Revault d'Allonnes",
    "Bagora (Menaria)" or Arabic (no particle stored): a word of it that does
    not begin with a capital would be split off as a particle ("von" part) by
    bibtex, biber and pandoc, and the rest moved, unless the name is one unit."""
    return " " in family and any(not word[:1].isupper() for word in family.split())


def _joined_initials(given: str) -> bool:
    """"M.F.": one given name, not "M. F."."""
    return "." in given and _JOINED_INITIALS.search(given) is not None


_JOINED_INITIALS = re.compile(r"\.\w")


def _family_part(person: dict, mode: str) -> str:
    particle, family = person.get("non-dropping-particle"), person.get("family") or ""
    if particle:
        return " ".join((_name_part(particle, mode), _name_part(family, mode)))
    if _unmarked_particle(family) or _joined_initials(family):  # "R.G.": pandoc would read "R. G."
        return "{" + escape(family, mode) + "}"
    return _name_part(family, mode) if family else ""


def _given_part(given: str, mode: str) -> str:
    if mode == CLASSIC and not given.isascii() and _UTF8_INITIAL.search(given):
        given_tex = _UTF8_INITIAL.sub(_mark_utf8_initial, given)
        escaped = escape(given_tex, mode).replace("\ue000", "{\\textup{").replace("\ue001", "}}")
    else:
        escaped = escape(given, mode)
    if _joined_initials(given):
        return "{" + escaped + "}"
    return _protected(given, escaped)


# bibtex abbreviates a given name ("{f.}", abbrv.bst) to its first byte when it
# begins with a character written as UTF-8 (Γιώργος, 小明): broken UTF-8, or
# the whole name (Þór). Such a first character goes in a "special character"
# ({\textup{Γ}}ιώργος), which bibtex keeps whole as the initial and every
# other reader reads as Γ.
_UTF8_INITIAL = re.compile(r"(^|[\s-])([^\x00-\x7f])")


def _mark_utf8_initial(m: re.Match) -> str:
    if char_out(m.group(2), CLASSIC).startswith(("\\", "{\\")):
        return m.group(0)  # a LaTeX letter ({\'E}) is a special character already
    return m.group(1) + "\ue000" + m.group(2) + "\ue001"


AND_WORD = re.compile(r"\band\b", re.IGNORECASE)


# "Family, Given" that every mode writes as it is: printable ASCII words,
# single-spaced, with no LaTeX special and no comma (but the one between the
# two parts); a family name of several words has each capitalised (a word in
# lower case is read as a particle: :func:`_unmarked_particle`).
_PLAIN = r"[\x21-\x22\x27-\x2b\x2d-\x5b\x5d\x61-\x7a\x7c]"
_PLAIN_NAME = re.compile(rf"(?:[A-Z]{_PLAIN}*+(?: [A-Z]{_PLAIN}*+)*+|{_PLAIN}++), {_PLAIN}++(?: {_PLAIN}++)*+")


def _plain_name(written: str) -> bool:
    """Whether "family, given" is the name as written, with no escape or brace
    (most names): escape leaves both parts as they are, and no rule braces them
    (the tests of :func:`_unmarked_particle`, :func:`_joined_initials` and
    :func:`_splits_name_list`, made inline on the whole: this runs for every
    name exported, and none of them can match across the ", ")."""
    return (_PLAIN_NAME.fullmatch(written) is not None
            and "--" not in written and "''" not in written  # TeX ligatures: escaped ("``": no backquote is plain)
            and not ("." in written and _JOINED_INITIALS.search(written))
            and not ("and" in written.lower() and AND_WORD.search(written)))


# The names not written as they are (a letter in LaTeX, a brace), remembered by
# (family, given, mode), of which such a name is a function when it has no
# particle and no suffix: one costs many times a plain name to write, and a
# library cites the same people again.
_written_names: dict[tuple[str, str, str], str] = {}


def format_names(people: list[dict], mode: str) -> str:
    out = []
    for person in people:
        family, given = person.get("family"), person.get("given")
        if (family and given and type(family) is str and type(given) is str
                and not person.get("non-dropping-particle") and not person.get("suffix")):
            written = family + ", " + given
            if not _plain_name(written):
                key = (family, given, mode)
                written = _written_names.get(key)
                if written is None:
                    written = _name(person, mode)
                    if len(_written_names) > 1 << 14:
                        _written_names.clear()  # a bound on what is remembered
                    _written_names[key] = written
            out.append(written)
        else:
            out.append(_name(person, mode))
    return " and ".join(out)


def _name(person: dict, mode: str) -> str:
    """One person (or organisation) as BibTeX reads the name."""
    if is_organisation(person):
        return "{" + escape(person["literal"], mode) + "}"
    family = _family_part(person, mode)
    given = _given_part(person["given"], mode) if person.get("given") else ""
    suffix = _name_part(person["suffix"], mode) if person.get("suffix") else ""
    if not family:
        return "{" + given + "}"
    if suffix:
        return f"{family}, {suffix}, {given}"
    if given:
        return f"{family}, {given}"
    # One name only ("Ehtisham-ul-Haq", "Suharto"): a unit, or readers
    # split "ul" off as a particle.
    return family if family.startswith("{") and family.endswith("}") else "{" + family + "}"
