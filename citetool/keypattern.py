"""Key patterns: how new citation keys are made, in JabRef's bracket notation
(``[auth:lower][year][veryshorttitle:lower]``, the default: today's
``arduino2021russia``). Set ``key-pattern`` in citetool.toml; ``rekey
--pattern`` applies one to stored references. Keys never change on their own.

A pattern is literal text and fields in brackets, each with modifiers after
colons. Fields (:data:`FIELDS`): ``auth`` the first author's family name (an
editor's, an organisation's first word); ``authors`` up to three family names,
more as the first one and ``EtAl``; ``year`` (``nd`` when undated);
``shortyear``; ``veryshorttitle`` the title's first word that is not a
function word; ``shorttitle`` its first three such words; ``title`` all of
them; ``journal`` those of the container (journal, book) title. Modifiers:
``lower``, ``upper``, ``capitalize``, ``abbr`` (first letters).

A work with no author takes ``auth`` from its container title's first word,
else its title's (whose words then start after that one), else its type
(``dataset``): never ``anon``.
Every part is folded to ASCII letters and digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from citetool.errors import UsageError
from citetool.keys import STOPWORDS, fold, is_valid_key
from citetool.record import Record, is_organisation, names, year

DEFAULT = "[auth:lower][year][veryshorttitle:lower]"
FIELDS = ("auth", "authors", "year", "shortyear", "veryshorttitle", "shorttitle", "title", "journal")
MODIFIERS = ("lower", "upper", "capitalize", "abbr")
_PART = re.compile(r"\[([^\[\]]*)\]")
_LITERAL = re.compile(r"^[A-Za-z0-9_:.+-]*$")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def _words(text: str) -> list[str]:
    """ASCII words of ``text``, case kept, each the first run of letters and
    digits of a blank-separated word ("Russia's" -> "Russia", "S-400" -> "S")."""
    found = []
    for chunk in fold(text or "").split():
        token = _TOKEN.findall(chunk)
        if token:
            found.append(token[0])
    return found


def significant(text: str) -> list[str]:
    """The words of ``text`` that are not function words (:data:`citetool.keys.STOPWORDS`)."""
    return [w for w in _words(text) if w.lower() not in STOPWORDS]


def _family(person: dict) -> str:
    if is_organisation(person):
        words = significant(person["literal"])
        return words[0].lower() if words else ""
    return "".join(_TOKEN.findall(fold(person.get("family") or person.get("given") or "").replace("'", "")))


class _Parts:
    """The values of the fields for one record."""

    def __init__(self, record: Record):
        people = names(record, "author") or names(record, "editor")
        self.families = [f for f in (_family(p) for p in people) if f]
        self.title_words = significant(str(record.get("title") or ""))
        self.journal_words = significant(str(record.get("container-title") or ""))
        self.year = year(record)
        if not self.families:  # never "anon": the container's first word, else the title's
            if self.journal_words:
                self.families = [self.journal_words[0]]
            elif self.title_words:
                self.families, self.title_words = [self.title_words[0]], self.title_words[1:]
            else:  # nothing but a type: "dataset"
                self.families = _TOKEN.findall(str(record.get("type") or "ref"))[:1]

    def value(self, field: str) -> str | list[str]:
        if field == "auth":
            return self.families[0][:30] if self.families else ""
        if field == "authors":
            return self.families if len(self.families) <= 3 else [self.families[0], "EtAl"]
        if field == "year":
            return str(self.year) if self.year else "nd"
        if field == "shortyear":
            return str(self.year)[-2:] if self.year else "nd"
        if field == "veryshorttitle":
            return self.title_words[0][:20] if self.title_words else ""
        if field == "shorttitle":
            return [w.capitalize() if w.islower() else w for w in self.title_words[:3]]
        if field == "title":
            return [w.capitalize() if w.islower() else w for w in self.title_words]
        return [w.capitalize() if w.islower() else w for w in self.journal_words]  # journal


def _modified(value: str | list[str], modifiers: list[str]) -> str:
    words = value if isinstance(value, list) else [value]
    for modifier in modifiers:
        if modifier == "abbr":
            words = [w[:1] for w in words]
    text = "".join(words)
    for modifier in modifiers:
        if modifier == "lower":
            text = text.lower()
        elif modifier == "upper":
            text = text.upper()
        elif modifier == "capitalize":
            text = text[:1].upper() + text[1:]
    return text


def compile_pattern(pattern: str) -> Callable[[Record], str]:
    """A function making the key (before any collision suffix) of a record by
    ``pattern``; a usage error naming what is wrong with a pattern it cannot read."""
    steps: list[tuple[str, str, list[str]]] = []  # (literal before, field, modifiers)
    position = 0
    for found in _PART.finditer(pattern):
        literal = pattern[position:found.start()]
        field, *modifiers = found.group(1).split(":")
        if field not in FIELDS:
            raise UsageError(f"key pattern {pattern!r}: unknown field [{found.group(1)}]; fields: "
                             f"{', '.join(FIELDS)} (modifiers: {', '.join(MODIFIERS)})")
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if unknown:
            raise UsageError(f"key pattern {pattern!r}: unknown modifier {unknown[0]!r} in [{found.group(1)}]; "
                             f"modifiers: {', '.join(MODIFIERS)}")
        steps.append((literal, field, modifiers))
        position = found.end()
    rest = pattern[position:]
    for literal in [step[0] for step in steps] + [rest]:
        if not _LITERAL.match(literal):
            raise UsageError(f"key pattern {pattern!r}: the text {literal!r} outside brackets may hold only "
                             "letters, digits and _ : . + -")
    if not steps:
        raise UsageError(f"key pattern {pattern!r} names no field: write fields in brackets, e.g. {DEFAULT}")

    def make(record: Record) -> str:
        parts = _Parts(record)
        key = "".join(literal + _modified(parts.value(field), modifiers) for literal, field, modifiers in steps) + rest
        key = key.lstrip("_:.+-")[:90]
        return key if key and is_valid_key(key) else "ref"
    return make


def key_maker(pattern: str | None) -> Callable[[Record], str]:
    """The configured pattern's key function (the default pattern's without one)."""
    return compile_pattern(pattern or DEFAULT)
