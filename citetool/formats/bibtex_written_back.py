"""The BibTeX and biblatex exports give an imported entry back as it was written
(kept by :mod:`citetool.formats.bibtex_kept`) wherever the stored reference
still says what the entry said: the user's braces, ``journal = \\mnras``,
``and others``, ``year = {forthcoming}``, their DOI's case, ``\\_`` in a URL,
``$…$`` in a title, and every field no CSL variable holds (``file``, ``groups``,
``adsurl``, a field of their own) come out unchanged, so their paper compiles to
the same bibliography. A value a source has since mended (Crossref's six
authors for the file's three) is written from the store instead.
"""

from __future__ import annotations

import re

from citetool.formats.bibtex_kept import MAPPED, READ_FROM, kept_entry, unwrapped, writable
from citetool.keys import is_citable_key
from citetool.record import META, Record, aliases, clean_record

# The fields the writer (bibtex.choose_entry) gives each CSL variable, which an
# entry's own fields replace while the variable is as read. Variables not here
# are always written by the writer when changed, by the entry when not.
WRITTEN_AS: dict[str, tuple[str, ...]] = {
    "author": ("author",), "editor": ("editor",), "translator": ("translator",),
    "title": ("title", "issuetitle"), "container-title": ("journal", "journaltitle", "booktitle", "howpublished"),
    "issued": ("year", "month", "date"), "page": ("pages",), "volume": ("volume",), "DOI": ("doi",),
    "URL": ("url",), "publisher": ("publisher", "institution", "school", "organization"),
    "publisher-place": ("address", "location"), "issue": ("number", "issue"), "note": ("note",),
    "ISSN": ("issn",), "ISBN": ("isbn",), "abstract": ("abstract",), "keyword": ("keywords",),
    "edition": ("edition",), "collection-title": ("series",), "accessed": ("urldate",),
    "genre": ("type",), "language": ("language",),
}


def as_read(kept: dict) -> Record:
    """The CSL record import made of the entry as written (what the store held
    before any source or edit changed it)."""
    from citetool.formats.bibtex_reader import entry_to_record  # the reader is needed only for imported entries

    fields = {name: unwrapped(value) for name, value in kept["fields"].items() if isinstance(value, str)}
    return clean_record(entry_to_record(str(kept.get("type") or "misc"), fields))


def _unchanged(rec: Record, read: Record) -> set[str]:
    """The variables whose stored value is still the one read from the entry."""
    return {var for var, value in read.items() if var != "type" and rec.get(var) == value}


def _only_imported(rec: Record, kept: dict) -> bool:
    """A reference no source and no edit has touched since its entry was imported
    from that file: every field still the entry's (the fast answer, without
    reading the entry again)."""
    meta = rec[META]
    sources, provenance = meta.get("sources"), meta.get("fields")
    if meta.get("edited") or not isinstance(sources, dict) or not isinstance(provenance, dict):
        return False
    imported = sources.get("import")
    return (len(sources) == 1 and isinstance(imported, dict) and imported.get("id") == kept.get("file")
            and all(provenance.get(var) == "import" for var in rec if var not in ("id", META)))


def _citable_aliases(rec: Record) -> list[str]:
    return [a for a in aliases(rec) if is_citable_key(a) and a != rec.get("id")]


def written_back(rec: Record, etype: str, fields: dict, biblatex: bool) -> tuple[str, dict]:
    """``(etype, fields)`` as the writer chose them, with the imported entry's own
    fields (kind ``"raw"``: written as they are) wherever the record still says
    what they said, and biblatex's ``ids`` for the reference's other keys."""
    kept = kept_entry(rec)
    own = _entry_of_key(kept, rec.get("id"))
    if own is not None:  # another entry of this work, under the key it is cited by: as it was written
        fields = {name: ("raw", value) for name, value in _raw_fields(own).items()}
        etype = _entry_type(own, etype)
    elif kept is not None:
        raw = _raw_fields(kept)
        whole = len(raw) == len(kept["fields"])  # else a value that cannot be written back: the store's
        if whole and _only_imported(rec, kept):
            read, same, stored = {"type": rec.get("type")}, set(), set()
        else:
            read = as_read(kept)
            same = _unchanged(rec, read)
            stored = {var for var in rec if var not in ("id", META, "type")}
        if whole and stored <= same and rec.get("type") == read.get("type"):
            # nothing changed since import: the entry as written, whole
            etype, fields = _entry_type(kept, etype), {name: ("raw", value) for name, value in raw.items()}
        else:
            fields = dict(fields)
            for var in sorted(same):  # as read: the entry's own fields for it, not the writer's
                own = [name for name in READ_FROM.get(var, ()) if name in raw]
                if own:
                    for name in WRITTEN_AS.get(var, ()):
                        fields.pop(name, None)
                    fields.update({name: ("raw", raw[name]) for name in own})
            fields.update({name: ("raw", value) for name, value in raw.items() if name not in MAPPED})
            held = {name for var in rec for name in READ_FROM.get(var, ())}
            fields.update({name: ("raw", value) for name, value in raw.items()  # say nothing the store
                           if name in MAPPED and name not in held and name not in fields})  # holds: doi = {}
            if rec.get("type") == read.get("type"):
                etype = _entry_type(kept, etype)
    if biblatex:
        others = _citable_aliases(rec)
        if others:
            fields = dict(fields)
            fields["ids"] = ("raw", "{" + ", ".join(others) + "}")
    return etype, fields


_FIELD_NAME = re.compile(r"[a-z][a-z0-9_:.+-]*")
_TYPE = re.compile(r"[a-z]+")


def _raw_fields(kept: dict) -> dict[str, str]:
    """The entry's fields that can be written back as they are (see :func:`writable`)."""
    return {name: value for name, value in kept["fields"].items()
            if isinstance(name, str) and isinstance(value, str) and _FIELD_NAME.fullmatch(name) and writable(value)}


def _entry_type(kept: dict, otherwise: str) -> str:
    kind = kept.get("type")
    return kind if isinstance(kind, str) and _TYPE.fullmatch(kind) else otherwise


def _entry_of_key(kept: dict | None, key) -> dict | None:
    """The other entry of the work imported under ``key`` (``others``), if any."""
    others = kept.get("others") if kept is not None else None
    if not isinstance(others, dict) or not isinstance(key, str):
        return None
    own = others.get(key)
    return own if isinstance(own, dict) and isinstance(own.get("fields"), dict) else None


def alias_records(rec: Record) -> list[Record]:
    """BibTeX has no ``ids``: for a full export, the reference under each of its
    other keys (written as the entry imported under that key, if one was, else
    as the reference), so that ``\\cite{alias}`` resolves. (Citing two keys of
    one work prints it twice; ``citetool bib`` writes each cited key once and warns.)"""
    meta = dict(rec.get(META) or {}, aliases=[])
    return [dict(rec, id=alias, **{META: meta}) for alias in _citable_aliases(rec)]


def nocase_title(rec: Record) -> str | None:
    """The stored title with each word the imported entry braced (``{Kyoto}``,
    or the whole title ``{{…}}``) as ``<span class="nocase">…</span>``, CSL-JSON's
    case protection (pandoc and citeproc-js honour it); None when the title is no
    longer the one read, or had no such braces."""
    kept = kept_entry(rec)
    title = rec.get("title")
    if kept is None or not isinstance(title, str) or not isinstance(kept["fields"].get("title"), str):
        return None
    raw = unwrapped(kept["fields"]["title"])
    if "{" not in raw or kept["fields"].get("subtitle"):
        return None
    from citetool.formats.bibtex_reader import decode_latex  # the reader is needed only for imported entries

    pieces, plain, depth, start, done = [], [], 0, 0, 0

    def piece(text: str) -> str:  # decoded, its spaces at either end kept (decode_latex trims them)
        if not text.strip():
            return text
        lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        return lead + decode_latex(text) + trail

    for m in re.finditer(r"\\.|[{}]", raw):
        mark = m.group()
        if mark == "{":
            if depth == 0:
                start = m.start()
            depth += 1
        elif mark == "}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                inside = raw[start + 1:m.start()]
                before = piece(raw[done:start])
                pieces.append(_html(before))
                plain.append(before)
                text = piece("{" + inside + "}" if inside.startswith("\\") else inside)
                # {\'e}, {\em x}: an accent or a command, not a protection
                pieces.append(_html(text) if inside.startswith("\\") else '<span class="nocase">' + _html(text) + "</span>")
                plain.append(text)
                done = m.end()
    if depth or done == 0:
        return None
    rest = piece(raw[done:])
    pieces.append(_html(rest))
    plain.append(rest)
    if " ".join("".join(plain).split()) != title:
        return None
    return " ".join("".join(pieces).split())


def _html(text: str) -> str:
    """Text as the CSL-JSON title holds it: as it is (``&`` too, as Crossref's titles
    have it; pandoc and citeproc-js read it so), but for ``<`` and ``>``, which
    would open a tag."""
    return text.replace("<", "&lt;").replace(">", "&gt;")
