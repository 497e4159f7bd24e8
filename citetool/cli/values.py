"""What users type for references: identifiers a line, ``--set FIELD=VALUE``
pairs, values read as the record holds them, a reference typed in.
"""

from __future__ import annotations

from pathlib import Path

from citetool.cli.app import environment, say
from citetool.errors import UsageError
from citetool.record import ITEM_VARIABLES


def id_lines(text: str) -> list[str]:
    """One identifier a line (any line ends, a byte-order mark ignored);
    blank lines and # comments skipped."""
    lines = (line.strip().lstrip("\ufeff").strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def read_ids(ids: list[str], from_file: Path | None) -> list[str]:
    """Identifiers from the arguments (``-`` reads stdin) and ``--from FILE``;
    a line holding several DOIs (and nothing else) gives each."""
    from citetool.identifiers.pasted import dois_in_line  # start-up: the identifiers load only for commands that read some

    return [one for line in _lines(ids, from_file) for one in dois_in_line(line) or [line]]


def _lines(ids: list[str], from_file: Path | None) -> list[str]:
    env = environment()
    out: list[str] = []
    for item in ids:
        out.extend(id_lines(env.read_stdin()) if item == "-" else [item])
    if from_file is not None:
        if str(from_file) == "-":
            out.extend(id_lines(env.read_stdin()))
        else:
            try:
                out.extend(id_lines(from_file.read_text(encoding="utf-8-sig")))
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read {from_file}: {getattr(exc, 'strerror', None) or exc}") from None
    return out


# BibTeX/biblatex field names people type -> the CSL variable that holds them.
# (``number`` is left out: an article's issue, a report's number; CSL has both.)
BIBTEX_FIELDS = {
    "journal": "container-title", "journaltitle": "container-title", "booktitle": "container-title",
    "keywords": "keyword", "year": "issued", "date": "issued", "pages": "page", "address": "publisher-place",
    "location": "publisher-place", "school": "publisher", "institution": "publisher", "series": "collection-title",
    "urldate": "accessed", "doi": "DOI", "url": "URL", "isbn": "ISBN", "issn": "ISSN", "pmid": "PMID",
    "pmcid": "PMCID", "shorttitle": "title-short", "langid": "language",
}


def csl_field(name: str) -> str:
    """The CSL variable for a field name typed by the user: itself, or the CSL
    name of a BibTeX field (``journal`` -> ``container-title``), said on stderr."""
    csl = BIBTEX_FIELDS.get(name.lower()) if name not in ITEM_VARIABLES else None
    if csl is None:
        return name

    say(f"{name} is BibTeX's name: setting CSL's {csl}")
    return csl


def set_pairs(items: list[str] | None) -> list[tuple[str, str]]:
    """``--set FIELD=VALUE`` options as (field, value) pairs; BibTeX field names
    become CSL's (:data:`BIBTEX_FIELDS`)."""
    pairs = []
    for item in items or []:
        name, eq, text = item.partition("=")
        if not eq:
            raise UsageError(f"--set takes FIELD=VALUE, not {item!r}")
        pairs.append((csl_field(name.strip()), text))
    return pairs


def field_value(name: str, text: str):
    """A value typed for a field, as the record holds it (a usage error if it cannot be)."""
    from citetool.record_input import parse_field_value  # start-up: loaded only when needed

    try:
        return parse_field_value(name, text)
    except ValueError as exc:
        if name in ITEM_VARIABLES:  # a field CSL has, given a value it cannot hold: no word about names
            raise UsageError(str(exc)) from None
        raise UsageError(f"{exc}; BibTeX's names are read too: {', '.join(BIBTEX_FIELDS)}") from None


def manual_record(csl_type, title, authors, editors, year, sets) -> dict:
    values = {"type": csl_type or "book", "title": title,
              "author": " and ".join(authors or []) or None, "editor": " and ".join(editors or []) or None,
              "issued": year}
    values.update(set_pairs(sets))
    return {name: field_value(name, str(text)) for name, text in values.items()
            if text is not None and str(text).strip()}


def selection_filters(types, year_spec, search, flagged: bool = False, tags=None):
    from citetool.library import Filters  # start-up: loaded only when needed

    return Filters(types=list(types or []), year=year_spec, search=search, flagged=flagged, tags=list(tags or []))


def say_nothing_matched(keys, filters) -> None:
    """An empty selection is said on stderr (the output stays empty, exit 0):
    a filter that matches nothing must not pass for an empty library."""
    from citetool.library import Filters  # start-up: loaded only when needed

    if filters != Filters():
        say("no reference matches the filters (--type, --year, --search, --tag, --flagged)"
            + (" among the keys named" if keys else ""))
