"""Splitting a .bib file into entries, as bibtexparser 2.x's ``parse_string``
reads it (its default middlewares too), in a few regular expressions; and what
each entry says as written (:attr:`_Entry.raw`), which import keeps so that the
exports can write it back unchanged. A field given twice is read as BibTeX reads
it: the first value counts, the others are kept aside (:attr:`_Entry.repeated`).
"""

from __future__ import annotations

import re

# --- splitting a file into entries ------------------------------------------------
#
# bibtexparser's Splitter walks the file mark by mark in Python (~0.3 s for 5,000
# entries), and its default middlewares (@string references, enclosing braces)
# take another quarter of that. _split reads the files nearly everyone has, with
# the same rules, in a few regular expressions; whatever it is not sure of (a
# parenthesised block, an "@" outside an entry, braces nested more than six deep,
# a duplicate key, any syntax error...) it gives up on, and the whole file goes
# to bibtexparser, whose answer (and failed blocks) then stand. Its rules,
# bibtexparser's: a brace or quote right after a backslash is text; inside
# quotes braces are text; a value ends at a "," or "}" outside braces and quotes.

def _braced(depth: int) -> str:
    text = r"[^{}]*+(?:(?<=\\)[{}][^{}]*+)*+"  # a brace right after a backslash is text
    inside = text if depth == 0 else text + "(?:" + _braced(depth - 1) + text + ")*+"
    return r"\{" + inside + r"\}"


_BRACED = _braced(6)
_INSIDE = re.compile(_BRACED[2:-2] + r"\}")  # a braced group's inside, and its closing brace
_BRACED_RE = re.compile(_BRACED)
_QUOTED = r'"[^"]*+(?:(?<=\\)"[^"]*+)*+"'
_QUOTED_RE = re.compile(_QUOTED)
_VALUE = r'(?:[^{}",]++|(?<=\\)[{}",]|' + _QUOTED + "|" + _BRACED + r")*+"
_KEY = r'[^{}",=@\\]*+'  # up to the "=" (a field's name), or the "," (an entry's key)
# An entry from its "@": type, key, and its fields as one stretch of text (any
# number of "name = value," then one more, or a comma and spaces, before the "}").
_ENTRY = re.compile(r"@(\w*)[ \t]*\{(" + _KEY + r")(?:,((?:" + _KEY + "=" + _VALUE + ",)*+(?:" + _KEY + "="
                    + _VALUE + r")?)\s*+)?\}")
# A field: its name, then the inside of its braces if its value is one braced
# group (nearly all are), else the value as written.
_FIELD = re.compile("(" + _KEY + r")=\s*+(?:" + _BRACED[:2] + "(" + _BRACED[2:-2] + ")" + _BRACED[-2:]
                    + r"\s*+(?=,|\Z)|(" + _VALUE + "))")
_STRING = re.compile("(" + _KEY + ")=" + _BRACED[2:-2] + r"\}")  # @string{name = value}
_BLOCK = re.compile(r"@(\w*)[ \t]*\{")
_PAREN_BLOCK = re.compile(r"@\w*[ \t]*\(")


class _Entry:
    """One entry: its type (lower case), key, fields (name as written, value as
    bibtexparser reads it), the line it starts on; ``raw``: each field's value as
    written, delimiters included (lower-case name -> ``{...}``, ``"..."``, ``1999``,
    ``jan``), where it can be written back alone (a @string's name is given its
    value); ``repeated``: the values of a field given again, which BibTeX ignores."""

    __slots__ = ("entry_type", "key", "fields", "start_line", "raw", "repeated")

    def __init__(self, entry_type: str, key: str, fields: list[tuple[str, str]], start_line: int,
                 raw: dict[str, str] | None = None):
        self.entry_type, self.key, self.fields, self.start_line = entry_type, key, fields, start_line
        self.raw = raw if raw is not None else {}
        self.repeated: list[tuple[str, str]] = []

    def drop_repeated(self) -> None:
        """Keep the first value of each field (names ignoring case), as BibTeX does;
        a later value that differs goes to :attr:`repeated`."""
        names = {name.lower() for name, _ in self.fields}
        if len(names) == len(self.fields):
            return
        first: dict[str, str] = {}
        kept = []
        for name, value in self.fields:
            lower = name.lower()
            if lower not in first:
                first[lower] = value
                kept.append((name, value))
            elif value != first[lower] and (lower, value) not in self.repeated:
                self.repeated.append((lower, value))
        self.fields = kept


_MONTH_NAMES = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())


def raw_value(written: str, value: str, macros: dict[str, str]) -> str | None:
    """How a field whose value was ``written`` (not one braced group) is written
    back: quotes, a number or a month macro as they were; a @string's name or a
    concatenation as its value, braced; None if that value cannot be braced."""
    if written[:1] == '"' and _QUOTED_RE.fullmatch(written):
        return written
    lower = written.lower()
    if written.isdigit() or (lower in _MONTH_NAMES and lower not in macros):
        return written
    braced = "{" + value + "}"
    return braced if _BRACED_RE.fullmatch(braced) else None


def _unenclosed(value: str) -> str | None:
    """``value`` without the braces or quotes around the whole of it (bibtexparser's
    RemoveEnclosingMiddleware); None where not sure (``{a} # {b}``)."""
    if len(value) >= 2:
        if value[0] == "{" and value[-1] == "}":
            return value[1:-1] if _BRACED_RE.fullmatch(value) else None
        if value[0] == '"' and value[-1] == '"':
            return value[1:-1] if _QUOTED_RE.fullmatch(value) else None
    return value


def _at_line_start(text: str, start: int, end: int) -> bool:
    """Whether an "@" in ``text[start:end]`` (inside a block) is first on its line:
    for bibtexparser, a new block cutting the one being read short."""
    at = text.find("@", start, end)
    while at >= 0:
        before = text[text.rfind("\n", 0, at) + 1:at]
        if not before or before.isspace():
            return True
        at = text.find("@", at + 1, end)
    return False


def _split(text: str, known: dict[str, str] | None = None) -> list[_Entry] | None:
    """The entries of ``text`` as bibtexparser's ``parse_string`` reads them
    (its default middlewares too: @string references resolved, enclosing braces
    or quotes removed); None when not sure of any part of it."""
    if '{"}' in text:  # a quote inside quotes: bibtexparser's special case
        return None
    entries: list[_Entry] = []
    strings: list[tuple[str, str]] = []
    written: list[tuple[list, int]] = []  # fields whose value is not one braced group
    line, counted = 0, 0
    pos = 0
    find, count, entry_at, fields_in = text.find, text.count, _ENTRY.match, _FIELD.findall
    while (at := find("@", pos)) >= 0:
        # bibtexparser counts the line breaks that are not escaped by a backslash
        line += count("\n", counted, at) - count("\\\n", counted, at)
        counted = at
        m = entry_at(text, at)
        if m is not None and not m.group(1).lower().startswith(("comment", "preamble", "string")):
            pos = m.end()
            body = m.group(3)
            fields = []
            entry = _Entry(m.group(1).lower(), m.group(2).strip(), fields, line)
            if body:
                for key, inside, value in fields_in(body):
                    key = key.strip()
                    if value:  # not one braced group: a @string's name, quotes, a number...
                        written.append((entry, len(fields)))
                        fields.append((key, value.strip()))
                    else:
                        fields.append((key, inside))
                        entry.raw.setdefault(key.lower(), "{" + inside + "}")
            entries.append(entry)
        else:
            block = _BLOCK.match(text, at)
            if block is None:
                if _PAREN_BLOCK.match(text, at):
                    return None
                pos = at + 1  # text between blocks (an address in a comment): for bibtexparser too
                continue
            kind = block.group(1).lower()
            if kind.startswith(("comment", "preamble")):
                m = _INSIDE.match(text, block.end())
            elif kind.startswith("string"):
                m = _STRING.match(text, block.end())
                if m is not None:
                    strings.append((m.group(1).strip(), text[m.end(1) + 1:m.end() - 1].strip()))
            else:
                return None  # an entry not read: a syntax error, "(" ... ")", braces nested too deeply...
            if m is None:
                return None
            pos = m.end()
        if find("@", at + 1, pos) >= 0 and _at_line_start(text, at + 1, pos):
            return None
    # duplicate keys are bibtexparser's failed blocks
    if len({e.key for e in entries}) < len(entries) or len({k for k, _ in strings}) < len(strings):
        return None
    macros = dict(known or {})
    macros.update({k.lower(): v for k, v in strings})
    if known is not None:
        known.update(macros)  # for the files read after this one
    if "" in macros:  # a @string without a name would stand for empty values
        return None
    for entry, i in written:
        key, value = as_written = entry.fields[i]
        if not (value[:1] == value[-1:] == '"' or value[:1] == "{" and value[-1:] == "}"):
            value = macros.get(value.lower(), value)  # bibtexparser's ResolveStringReferences
        value = _unenclosed(value)  # and its RemoveEnclosing
        if value is None:
            return None
        entry.fields[i] = (key, value)
        raw = raw_value(as_written[1], value, macros)
        if raw is not None:
            entry.raw.setdefault(key.lower(), raw)
    for entry in entries:
        entry.drop_repeated()
    return entries
