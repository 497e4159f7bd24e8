"""Splitting a .bib file into entries, as bibtexparser 2.x's ``parse_string``
reads it (its default middlewares too), in a few regular expressions; and what
each entry says as written (:attr:`_Entry.raw`), which import keeps so that the
exports can write it back unchanged. A field given twice is read as BibTeX reads
it: the first value counts, the others are kept aside (:attr:`_Entry.repeated`).
"""

from __future__ import annotations

import re
from array import array

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


class _NotSure(Exception):
    """A part of the file the splitter is not sure of: bibtexparser reads the whole file."""


def _entry_of(entry_type: str, key: str, body: str | None, line: int) -> tuple[_Entry, list[int]]:
    """The entry of that type, key (as written) and fields, and the indexes of its fields
    whose value is not one braced group (a @string's name, quotes, a number...): resolved later."""
    fields: list[tuple[str, str]] = []
    written: list[int] = []
    entry = _Entry(entry_type.lower(), key.strip(), fields, line)
    if body:
        for name, inside, value in _FIELD.findall(body):
            name = name.strip()
            if value:
                written.append(len(fields))
                fields.append((name, value.strip()))
            else:
                fields.append((name, inside))
                entry.raw.setdefault(name.lower(), "{" + inside + "}")
    return entry, written


def _blocks(text: str):
    """The blocks of ``text`` in order: ``(match, line, at)`` for an entry (``_ENTRY``'s
    match, the line it starts on, where its "@" is), ``(name, value)`` for a @string;
    raises _NotSure at the first part it is not sure of."""
    if '{"}' in text:  # a quote inside quotes: bibtexparser's special case
        raise _NotSure
    line, counted = 0, 0
    pos = 0
    find, count, entry_at = text.find, text.count, _ENTRY.match
    while (at := find("@", pos)) >= 0:
        # bibtexparser counts the line breaks that are not escaped by a backslash
        line += count("\n", counted, at) - count("\\\n", counted, at)
        counted = at
        m = entry_at(text, at)
        found = None
        if m is not None and not m.group(1).lower().startswith(("comment", "preamble", "string")):
            pos = m.end()
            found = (m, line, at)
        else:
            block = _BLOCK.match(text, at)
            if block is None:
                if _PAREN_BLOCK.match(text, at):
                    raise _NotSure
                pos = at + 1  # text between blocks (an address in a comment): for bibtexparser too
                continue
            kind = block.group(1).lower()
            if kind.startswith(("comment", "preamble")):
                m = _INSIDE.match(text, block.end())
            elif kind.startswith("string"):
                m = _STRING.match(text, block.end())
                if m is not None:
                    found = (m.group(1).strip(), text[m.end(1) + 1:m.end() - 1].strip())
            else:
                raise _NotSure  # an entry not read: a syntax error, "(" ... ")", braces nested too deeply...
            if m is None:
                raise _NotSure
            pos = m.end()
        if find("@", at + 1, pos) >= 0 and _at_line_start(text, at + 1, pos):
            raise _NotSure
        if found is not None:
            yield found


def _bare(value: str) -> bool:
    """Whether a value not in one braced group may be a @string's name (neither quoted nor braced)."""
    return not (value[:1] == value[-1:] == '"' or value[:1] == "{" and value[-1:] == "}")


_SPAN = 7  # numbers a SplitPlan keeps of an entry: where its type, key and fields start and end, its line


class SplitPlan:
    """What a first pass over a .bib file found, so that its entries can then be
    read one at a time (:func:`split_entries`) without holding them all, nor
    matching them again: the @string macros in force (``macros``, lower-case
    name -> value as written), where each entry's type, key and fields are in
    the text (``spans``: seven numbers an entry), and which entry a key is
    (``numbers``: the key in lower case -> the entry's number, the last entry
    of a key winning), for a ``crossref``."""

    __slots__ = ("macros", "spans", "numbers", "held")

    def __init__(self, macros: dict[str, str], spans: array, numbers: dict[str, int],
                 held: list[_Entry] | None = None):
        self.macros, self.spans, self.numbers = macros, spans, numbers
        self.held = held  # a small file's entries, read once (see HELD_BELOW)

    def __len__(self) -> int:
        return len(self.spans) // _SPAN

    def _parts(self, text: str, number: int) -> tuple[str, str, str | None, int]:
        type_start, type_end, key_start, key_end, body_start, body_end, line = \
            self.spans[number * _SPAN:(number + 1) * _SPAN]
        body = text[body_start:body_end] if body_start >= 0 else None
        return text[type_start:type_end], text[key_start:key_end], body, line

    def read(self, text: str, number: int) -> _Entry:
        """Entry ``number`` of ``text``, as bibtexparser reads it (see :func:`split_entries`)."""
        if self.held is not None:
            return self.held[number]
        return _resolved(*_entry_of(*self._parts(text, number)), self.macros)

    def entry(self, text: str, key_lower: str) -> _Entry | None:
        """The entry whose key is ``key_lower`` (ignoring case), if any."""
        number = self.numbers.get(key_lower)
        return None if number is None else self.read(text, number)


# Characters of a .bib file below which its entries are read in the first pass and
# held (~5 times the text's size): reading every entry's fields twice costs a
# tenth of a small import's time, and holding them is what a large file must not.
HELD_BELOW = 4_000_000


def split_plan(text: str, known: dict[str, str] | None = None) -> SplitPlan | None:
    """The first pass of :func:`split_entries` over ``text``: None when the
    splitter is not sure of any part of it (bibtexparser reads it then). Holds
    no entry of a large file: where each is, the macros and the values that
    name one. ``known``: the macros of the files before, to which this file's are added."""
    held: list[tuple[_Entry, list[int]]] | None = [] if len(text) < HELD_BELOW else None
    spans = array("q")
    numbers: dict[str, int] = {}
    cased: set[str] = set()  # keys that differ only in case from another entry's
    strings: list[tuple[str, str]] = []
    bare: set[str] = set()  # values that may name a macro: checked once all macros are known
    enclosing_unsure = False
    fields_in = _FIELD.findall
    try:
        for block in _blocks(text):
            if len(block) == 2:
                strings.append(block)
                continue
            m, line, _ = block
            key = m.group(2).strip()
            before = numbers.get(key.lower())
            if before is not None:  # a duplicate key is bibtexparser's failed block
                other = text[spans[before * _SPAN + 2]:spans[before * _SPAN + 3]].strip()
                if other == key or key in cased:
                    return None
                cased.update((key, other))
            numbers[key.lower()] = len(spans) // _SPAN
            spans.extend((*m.span(1), *m.span(2), *m.span(3), line))  # (no fields: -1, -1)
            body = m.group(3)
            if held is not None:
                entry, written = _entry_of(m.group(1), key, body, line)
                held.append((entry, written))
                values = [entry.fields[i][1] for i in written]
            else:  # not one braced group (see _entry_of)
                values = [value.strip() for _, _, value in fields_in(body) if value] if body else []
            for value in values:
                if _bare(value):
                    bare.add(value)
                elif _unenclosed(value) is None:
                    enclosing_unsure = True
    except _NotSure:
        return None
    if len({k for k, _ in strings}) < len(strings):  # a macro defined twice: bibtexparser's failed block
        return None
    macros = dict(known or {})
    macros.update({k.lower(): v for k, v in strings})
    if known is not None:
        known.update(macros)  # for the files read after this one
    if "" in macros:  # a @string without a name would stand for empty values
        return None
    if enclosing_unsure or any(_unenclosed(macros.get(value.lower(), value)) is None for value in bare):
        return None
    entries = None if held is None else [_resolved(entry, written, macros) for entry, written in held]
    return SplitPlan(macros, spans, numbers, entries)


def _resolved(entry: _Entry, written: list[int], macros: dict[str, str]) -> _Entry:
    """``entry`` with its ``written`` values resolved as bibtexparser's default
    middlewares resolve them, and a field given twice read as BibTeX reads it."""
    for i in written:
        key, value = as_written = entry.fields[i]
        if _bare(value):
            value = macros.get(value.lower(), value)  # bibtexparser's ResolveStringReferences
        value = _unenclosed(value)  # and its RemoveEnclosing (never None: split_plan checked)
        entry.fields[i] = (key, value)
        raw = raw_value(as_written[1], value, macros)
        if raw is not None:
            entry.raw.setdefault(key.lower(), raw)
    entry.drop_repeated()
    return entry


def split_entries(text: str, plan: SplitPlan):
    """The entries of ``text``, one at a time, as bibtexparser's ``parse_string``
    reads them (its default middlewares too: @string references resolved,
    enclosing braces or quotes removed), for the ``plan`` :func:`split_plan` made of it."""
    for number in range(len(plan)):
        yield plan.read(text, number)


def _split(text: str, known: dict[str, str] | None = None) -> list[_Entry] | None:
    """Every entry of ``text`` (see :func:`split_entries`); None when not sure of any part of it."""
    plan = split_plan(text, known)
    return None if plan is None else list(split_entries(text, plan))
