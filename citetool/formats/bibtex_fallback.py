"""A .bib file citetool's splitter is not sure of (:mod:`citetool.formats.bibtex_split`),
read by bibtexparser itself, whose answer and failed blocks then stand."""

from __future__ import annotations

from citetool.formats.bibtex_kept import writable
from citetool.formats.bibtex_split import _MONTH_NAMES, _Entry, raw_value


def _bibtexparser_entry(entry, shift: int = 0) -> _Entry:
    """bibtexparser's entry as the splitter gives one (values braced again as its ``raw``);
    ``shift``: lines added before the file's text."""
    fields = [(f.key, f.value) for f in entry.fields]
    out = _Entry(entry.entry_type.lower(), entry.key, fields, (entry.start_line or 0) - shift)
    for name, value in fields:
        if isinstance(value, str):
            raw = raw_value(value, value, {}) if value.isdigit() or value.lower() in _MONTH_NAMES else "{" + value + "}"
            if raw and writable(raw):
                out.raw.setdefault(name.lower(), raw)
    out.drop_repeated()
    return out



def read_with_bibtexparser(text: str, origin: str, macros: dict[str, str] | None, problems: list[str]) -> list[_Entry]:
    """The entries of a file the splitter is not sure of, as bibtexparser reads them; its failed blocks in ``problems``."""
    import logging

    import bibtexparser

    # bibtexparser logs each failed block over several lines; citetool reports
    # them itself, one line each, with the file and line.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    # the macros of the files read before, as BibTeX has them when it reads this one
    prefix = "".join(f"@string{{{name} = {value}}}\n" for name, value in (macros or {}).items())
    library = bibtexparser.parse_string(prefix + text)
    shift = prefix.count("\n")  # lines of the prefix, taken off every block's line
    if macros is not None:
        macros.update({s.key.lower(): "{" + s.value + "}" for s in library.strings if isinstance(s.value, str)})
    entries = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1 - shift
        kept = getattr(block, "ignore_error_block", None)
        if type(block).__name__ == "DuplicateFieldKeyBlock" and kept is not None:
            entries.append(_bibtexparser_entry(kept, shift))  # a field given twice: read as BibTeX reads it
            continue
        if str(getattr(block, "raw", "")).lstrip()[:7].lower() == "@string":
            continue  # a macro defined again: BibTeX takes the new value too, and warns no one
        error = getattr(block, "error", None)
        reason = " ".join(str(getattr(error, "abort_reason", "") or error or "malformed entry").split())
        problems.append(f"{origin}:{line}: skipped a malformed entry ({reason})")
    entries += [_bibtexparser_entry(e, shift) for e in library.entries]
    entries.sort(key=lambda e: e.start_line or 0)
    return entries
