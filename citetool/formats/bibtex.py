"""BibTeX (classic: ASCII with LaTeX escapes, for bibtex + .bst styles) and
biblatex (UTF-8, ``date``, ``journaltitle``, ``@online``/``@dataset``/``@report``).

What the real consumers demand, and how this module meets it:

* LaTeX specials ``& % $ # _ { } ~ ^ \\`` are escaped; braces always as
  ``\\textbraceleft{}``/``\\textbraceright{}`` because bibtex and biber count
  braces even after a backslash.
* Classic output is ASCII: non-ASCII letters become LaTeX (``{\\"U}nal``) via
  pylatexenc; characters LaTeX has no name for (CJK, emoji) are kept as UTF-8
  rather than lost.
* ``url``, ``doi`` and ``eprint`` are verbatim for biblatex: never escaped.
* Capitals a style must not lowercase are protected with braces (``{S-400}``).
* Each entry gets the type for its kind of work when the fields that type
  requires are present, else ``@misc``, so no consumer warns of a missing field.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from citetool.identifiers import doi_url, isbn13
from citetool.record import (
    Record,
    date_parts,
    date_text,
    first_value,
    is_organisation,
    names,
    page_range,
    relation_notes,
    repec_handle,
    repec_link,
)
from citetool.text import one_line

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_RE = re.compile(r"[\\{}&%$#_~^]")
_WS = re.compile(r"\s+")

_encoder = None
_char_latex: dict[str, str] = {}  # one pylatexenc answer per character, remembered


def _char_to_latex(ch: str) -> str:
    latex = _char_latex.get(ch)
    if latex is None:
        global _encoder
        if _encoder is None:
            import logging

            from pylatexenc.latexencode import UnicodeToLatexEncoder

            logging.getLogger("pylatexenc").setLevel(logging.ERROR)
            _encoder = UnicodeToLatexEncoder(
                non_ascii_only=True,
                replacement_latex_protection="braces-all",
                unknown_char_policy="keep",
            )
        latex = _char_latex[ch] = _encoder.unicode_to_latex(ch)
    return latex


def _unicode_to_latex(text: str) -> str:
    """Non-ASCII characters as LaTeX (pylatexenc's table, one character at a
    time after NFC, so each answer can be remembered); ASCII untouched."""
    text = unicodedata.normalize("NFC", text)
    return _NON_ASCII.sub(lambda m: "".join(_char_to_latex(c) for c in m.group(0)), text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _pdflatex_reads(ch: str) -> bool:
    """Characters a UTF-8 biblatex file may carry as they are: pdflatex's utf8
    input handles Latin letters and common punctuation, not Greek or math."""
    if ch.isascii():
        return True
    name = unicodedata.name(ch, "")
    return name.startswith("LATIN") or 0x2010 <= ord(ch) <= 0x2027 or 0xA0 <= ord(ch) <= 0xBF


def escape(text: str, ascii_only: bool) -> str:
    """LaTeX-escape ``text`` for a BibTeX field value (whitespace collapsed).

    ``ascii_only`` (classic BibTeX): every non-ASCII character LaTeX has a name
    for becomes LaTeX. Otherwise (biblatex, UTF-8) Latin letters stay as they
    are and only what pdflatex cannot read (Greek, math) becomes LaTeX.
    """
    text = one_line(text)  # no-break spaces survive (as ~ in classic BibTeX)
    text = _SPECIAL_RE.sub(lambda m: _SPECIALS[m.group(0)], text)
    if "--" in text or "``" in text or "''" in text:
        # TeX ligatures would turn these into dashes and quotes: break them.
        text = text.replace("--", "-{}-").replace("``", "`{}`").replace("''", "'{}'")
    if text.isascii():
        return text
    if ascii_only:
        return _unicode_to_latex(text)
    return "".join(c if _pdflatex_reads(c) else _unicode_to_latex(c) for c in text)


def _verbatim(text: str) -> str:
    """url/doi: raw, except what would break the field: braces, backslashes, spaces."""
    text = _WS.sub("", text)
    return re.sub(r"[{}\\]", lambda m: quote(m.group(0)), text)


# --- title case protection --------------------------------------------------

def _is_title_case(words: list[str]) -> bool:
    long_words = [w for w in words[1:] if w[:4].isalpha()]
    if not long_words:
        return False
    capitalised = sum(1 for w in long_words if w[0].isupper())
    return capitalised * 2 > len(long_words)


_LEADING_PUNCT = "\"'([{\u2018\u201c\u00ab-"


def _needs_protection(word: str, position: int, title_case: bool) -> bool:
    w = word.lstrip(_LEADING_PUNCT)
    if not w or not w[0].isalpha():
        return bool(w) and any(c.isupper() for c in w)  # "3D", "2019-nCoV"
    rest = w[1:]
    if rest != rest.lower():
        return True  # NATO, McDonald, mRNA, iPhone, U.S.
    if w[0].isupper() and any(c.isdigit() for c in rest):
        return True  # S-400, CO2
    # In a sentence-case title a capitalised word past the first is a proper noun.
    return position > 0 and not title_case and w[0].isupper()


def protect_title(title: str, ascii_only: bool) -> str:
    """Escape ``title`` and brace the words whose capitals a style must keep."""
    title = one_line(title)
    words = title.split(" ")
    escaped = escape(title, ascii_only).split(" ")
    if len(escaped) != len(words):  # escaping never adds spaces; stay safe if it did
        escaped = [escape(w, ascii_only) for w in words]
    title_case = _is_title_case(words)
    return " ".join("{" + e + "}" if _needs_protection(w, i, title_case) else e
                    for i, (w, e) in enumerate(zip(words, escaped, strict=True)))


# --- names -------------------------------------------------------------------

def _name_part(text: str, ascii_only: bool) -> str:
    escaped = escape(text, ascii_only)
    # A comma or a lone "and" inside a part would split the name list: protect it.
    if "," in text or _AND.search(text):
        return "{" + escaped + "}"
    return escaped


_AND = re.compile(r"\band\b", re.IGNORECASE)


def format_names(people: list[dict], ascii_only: bool) -> str:
    out = []
    for person in people:
        if is_organisation(person):
            out.append("{" + escape(person["literal"], ascii_only) + "}")
            continue
        family = " ".join(p for p in (person.get("non-dropping-particle"), person.get("family")) if p)
        family = _name_part(family, ascii_only) if family else ""
        given = _name_part(person["given"], ascii_only) if person.get("given") else ""
        suffix = _name_part(person["suffix"], ascii_only) if person.get("suffix") else ""
        if not family:
            out.append("{" + given + "}")
        elif suffix:
            out.append(f"{family}, {suffix}, {given}")
        elif given:
            out.append(f"{family}, {given}")
        else:
            out.append("{" + family + "}" if " " in family else family)
    return " and ".join(out)


# --- entry types ----------------------------------------------------------------

CLASSIC_TYPE = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "paper-conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
}
# What plain.bst checks (output.check / either.or.check), so nothing warns.
CLASSIC_REQUIRED = {
    "article": ("author", "title", "journal", "year"),
    "book": ("author|editor", "title", "publisher", "year"),
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
    "misc": (),
}

BIBLATEX_TYPE = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "inreference",
    "entry-dictionary": "inreference",
    "paper-conference": "inproceedings",
    "report": "report",
    "thesis": "thesis",
    "dataset": "dataset",
    "webpage": "online",
    "post": "online",
    "post-weblog": "online",
    "article": "online",  # preprints (posted content)
    "software": "software",
}
# biblatex's data model (blx-dm.def \DeclareDatamodelConstraints), as biber checks it.
BIBLATEX_REQUIRED = {
    "article": ("author", "title", "journaltitle", "date"),
    "book": ("author", "title", "date"),
    "collection": ("editor", "title", "date"),
    "inbook": ("author", "title", "booktitle", "date"),
    "incollection": ("author", "editor", "title", "booktitle", "date"),
    "inreference": ("author", "editor", "title", "booktitle", "date"),
    "inproceedings": ("author", "title", "booktitle", "date"),
    "report": ("author", "title", "type", "institution", "date"),
    "thesis": ("author", "title", "type", "institution", "date"),
    "online": ("title", "date", "url|doi"),
    "dataset": ("title",),
    "software": ("title",),
    "misc": ("title", "date"),
}
_BLX_COMMON = {"abstract", "addendum", "doi", "url", "date", "urldate", "keywords", "eprint", "eprinttype",
               "shorttitle"}
# Fields each biblatex type accepts (blx-dm.def \DeclareDatamodelEntryfields), for the
# fields citetool writes; biber --validate-datamodel warns about any other.
BIBLATEX_FIELDS = {
    "article": {"author", "editor", "eid", "issn", "issue", "journaltitle", "note", "number",
                "pages", "series", "title", "translator", "version", "volume", "language"},
    "book": {"author", "editor", "edition", "eid", "isbn", "location", "note", "number", "pages",
             "pagetotal", "publisher", "series", "title", "translator", "volume", "language"},
    "inbook": {"author", "booktitle", "editor", "edition", "eid", "isbn", "location", "note",
               "number", "publisher", "pages", "series", "title", "translator", "volume", "language"},
    "dataset": {"author", "edition", "editor", "location", "note", "number", "organization",
                "publisher", "series", "title", "type", "version", "language"},
    "misc": {"author", "editor", "howpublished", "location", "note", "organization", "title",
             "type", "version", "language"},
    "online": {"author", "editor", "note", "organization", "title", "version", "language"},
    "inproceedings": {"author", "booktitle", "editor", "eid", "eventtitle", "isbn", "location",
                      "note", "number", "organization", "pages", "publisher", "series", "title",
                      "venue", "volume", "language"},
    "report": {"author", "eid", "institution", "isrn", "location", "note", "number", "pages",
               "pagetotal", "title", "type", "version", "language"},
    "thesis": {"author", "eid", "institution", "location", "note", "pages", "pagetotal", "title",
               "type", "language"},
}
BIBLATEX_FIELDS["collection"] = BIBLATEX_FIELDS["book"]
BIBLATEX_FIELDS["incollection"] = BIBLATEX_FIELDS["inbook"]
BIBLATEX_FIELDS["inreference"] = BIBLATEX_FIELDS["inbook"]
BIBLATEX_FIELDS["software"] = BIBLATEX_FIELDS["misc"]

# Field order in the output (the rest follow alphabetically).
ORDER = ("author", "editor", "title", "journal", "journaltitle", "booktitle", "eventtitle",
         "series", "howpublished", "school", "institution", "organization", "publisher",
         "address", "location", "venue", "type", "year", "month", "date", "volume", "number",
         "issue", "pages", "eid", "edition", "isbn", "issn", "doi", "url", "urldate", "eprint",
         "eprinttype", "note", "addendum", "key", "abstract")


def _satisfied(fields: dict, required: tuple[str, ...]) -> bool:
    return all(any(fields.get(alt) for alt in req.split("|")) for req in required)


def _date_value(rec: Record) -> str | None:
    parts = date_parts(rec)
    if not parts:
        return None
    return date_text(parts)


def _base_fields(rec: Record, biblatex: bool) -> dict[str, tuple[str, str]]:
    """Field name -> (kind, value) before choosing the entry type.

    kind: "text" (escaped), "title" (escaped + case-protected), "names", "verbatim", "macro".
    """
    f: dict[str, tuple[str, str]] = {}
    for role in ("author", "editor", "translator"):
        if names(rec, role):
            f[role] = ("names", names(rec, role))  # type: ignore[assignment]
    if rec.get("title"):
        f["title"] = ("title", rec["title"])
    if rec.get("container-title"):
        f["container"] = ("text", rec["container-title"])
    if rec.get("collection-title"):
        f["series"] = ("text", rec["collection-title"])
    for csl, bib in (("volume", "volume"), ("edition", "edition")):
        if rec.get(csl):
            f[bib] = ("text", str(rec[csl]))
    if rec.get("issue"):
        f["issue"] = ("text", str(rec["issue"]))
    if rec.get("number"):
        f["csl_number"] = ("text", str(rec["number"]))
    first, last = page_range(rec)
    if first:
        ascii_only = not biblatex
        pages = escape(first, ascii_only) + (f"--{escape(last, ascii_only)}" if last else "")
        f["pages"] = ("latex", pages)
    if rec.get("publisher"):
        f["publisher"] = ("text", rec["publisher"])
    if rec.get("publisher-place"):
        f["location" if biblatex else "address"] = ("text", rec["publisher-place"])
    parts = date_parts(rec)
    if biblatex:
        f["date"] = ("macro", _date_value(rec) or "")
    elif parts:
        f["year"] = ("text", str(parts[0]))
        if len(parts) > 1 and 1 <= parts[1] <= 12:
            f["month"] = ("macro", MONTHS[parts[1] - 1])
    if rec.get("DOI"):
        f["doi"] = ("verbatim", rec["DOI"])
    url = rec.get("URL")
    if url and not (rec.get("DOI") and url.lower() == doi_url(rec["DOI"]).lower()):
        f["url"] = ("verbatim", url)
    elif repec_link(rec):
        f["url"] = ("verbatim", repec_link(rec))  # as EconPapers' own BibTeX export does
    if biblatex and repec_handle(rec):
        f["eprint"] = ("verbatim", repec_handle(rec))
        f["eprinttype"] = ("text", "RePEc")
    issn = first_value(rec.get("ISSN"))
    if issn:
        f["issn"] = ("text", issn)
    isbns = [i.strip() for i in str(rec.get("ISBN") or "").split(",") if isbn13(i)]
    if isbns:
        f["isbn"] = ("text", isbns[0])
    if rec.get("genre"):
        f["genre"] = ("text", rec["genre"])
    if rec.get("event-title"):
        f["eventtitle"] = ("text", rec["event-title"])
    if rec.get("event-place"):
        f["venue"] = ("text", rec["event-place"])
    if rec.get("note"):
        f["note"] = ("text", rec["note"])
    accessed = date_parts(rec, "accessed")
    if accessed and f.get("url"):
        iso = date_text(accessed)
        if biblatex:
            f["urldate"] = ("macro", iso)
        else:
            note = f"Accessed {iso}"
            f["note"] = ("text", f"{rec['note']}. {note}" if rec.get("note") else note)
    related = ". ".join(relation_notes(rec))  # the preprint an upgrade replaced
    if related and biblatex:
        f["addendum"] = ("text", related)
    elif related:
        f["note"] = ("text", f"{f['note'][1]}. {related}" if f.get("note") else related)
    if rec.get("abstract"):
        f["abstract"] = ("text", rec["abstract"])
    return f


def _place_fields(etype: str, base: dict, biblatex: bool) -> dict:
    """Rename the generic fields to what ``etype`` calls them."""
    f = {k: v for k, v in base.items() if k not in ("container", "csl_number", "issue", "genre",
                                                    "publisher", "eventtitle", "venue")}
    container = base.get("container")
    issue, number, publisher = base.get("issue"), base.get("csl_number"), base.get("publisher")
    if etype == "article":
        if container:
            f["journaltitle" if biblatex else "journal"] = container
        if issue:
            f["number"] = issue  # biblatex: number is the issue of a journal
        if number:
            if biblatex:
                f["eid"] = number
            elif "pages" not in f:
                f["pages"] = number
        if not biblatex and publisher:
            f["publisher"] = publisher
    elif etype in ("incollection", "inbook", "inreference", "inproceedings"):
        if container:
            f["booktitle"] = container
        if publisher:
            f["publisher"] = publisher
        if etype == "inproceedings" and biblatex:
            for k in ("eventtitle", "venue"):
                if base.get(k) and base[k] != container:
                    f[k] = base[k]
    elif etype in ("techreport", "report"):
        if publisher:
            f["institution"] = publisher
        if number:
            f["number"] = number
        # The series names the kind of report: "NBER Working Papers" 11309.
        series = f.pop("series", None)
        if series:
            f["type"] = series
        elif biblatex:
            f["type"] = ("text", "techreport")
    elif etype in ("phdthesis", "mastersthesis", "thesis"):
        if publisher:
            f["institution" if biblatex else "school"] = publisher
        if biblatex:
            genre = (base.get("genre") or ("", ""))[1].lower()
            f["type"] = ("text", "mathesis" if "master" in genre else "phdthesis")
    elif etype in ("book", "collection", "dataset", "software"):
        if publisher:
            f["publisher"] = publisher
        if number:
            f["number"] = number
        if container and etype in ("book", "collection") and "series" not in f:
            f["series"] = container
    else:  # misc, online, periodical
        if etype == "misc":
            # @misc has no volume, issue or pages: say them in howpublished,
            # as "Journal, vol. 56, no. 2, pp. 60--61", so nothing is lost.
            def latex(item):
                return item[1] if item[0] == "latex" else escape(item[1], not biblatex)

            details = [latex(v) for v in (container or publisher,) if v]
            if not details and f.get("url") and not biblatex:
                details.append("\\url{" + _verbatim(f["url"][1]) + "}")  # a web page
            for label, item in (("vol.", f.pop("volume", None)), ("no.", issue or number),
                                ("pp.", f.pop("pages", None))):
                if item:
                    details.append(f"{label} {latex(item)}")
            if details:
                f["howpublished"] = ("latex", ", ".join(details))
        elif publisher and etype == "online":
            f["organization"] = publisher
        if base.get("genre") and etype == "misc":
            if biblatex:
                f["type"] = base["genre"]
            elif "note" not in f:
                f["note"] = base["genre"]
    return f


def choose_entry(rec: Record, biblatex: bool) -> tuple[str, dict]:
    """The entry type and its fields: the work's own type when its required
    fields are present, else ``misc``."""
    base = _base_fields(rec, biblatex)
    if biblatex:
        etype = BIBLATEX_TYPE.get(rec.get("type", ""), "misc")
        if etype == "book" and not base.get("author") and base.get("editor"):
            etype = "collection"
        if etype == "incollection" and not base.get("editor"):
            etype = "inbook"
        if etype == "inreference" and not base.get("editor"):
            etype = "inbook"
        required = BIBLATEX_REQUIRED
    else:
        etype = CLASSIC_TYPE.get(rec.get("type", ""), "misc")
        if etype == "phdthesis" and "master" in str(rec.get("genre", "")).lower():
            etype = "mastersthesis"
        required = CLASSIC_REQUIRED
    # Placeholders that keep a work's real type when the title or date is unknown.
    if not base.get("title"):
        base["title"] = ("text", "[Untitled]")  # every consumer wants a title
    if biblatex and not base.get("date", ("", ""))[1]:
        # biblatex requires a date for most types; EDTF "XXXX" means "year
        # unspecified", and biblatex prints it as nothing.
        base["date"] = ("macro", "XXXX")
    if not biblatex and not base.get("year"):
        base["year"] = ("text", "n.d.")  # plain.bst wants a year; "n.d." as APA writes it
    fields = _place_fields(etype, base, biblatex)
    if not _satisfied({k: v[1] for k, v in fields.items()}, required.get(etype, ())):
        etype = "misc"
        fields = _place_fields(etype, base, biblatex)
    if biblatex:
        if fields.get("date") == ("macro", "XXXX") and "date" not in required.get(etype, ()):
            del fields["date"]
        allowed = BIBLATEX_FIELDS.get(etype, BIBLATEX_FIELDS["misc"]) | _BLX_COMMON
        fields = {k: v for k, v in fields.items() if k in allowed}
    else:
        _satisfy_plain_bst(etype, fields)
    return etype, fields


def _satisfy_plain_bst(etype: str, fields: dict) -> None:
    """Move what plain.bst would warn about where it reads well, losing nothing."""
    notes = []
    if etype == "book" and fields.get("author") and fields.get("editor"):
        # "can't use both author and editor fields": keep the editors in the note.
        editors = fields.pop("editor")[1]
        from citetool.formats.html import join_names

        notes.append("Edited by " + join_names(editors))
    if etype == "article" and fields.get("number") and not fields.get("volume"):
        # "there's a number but no volume"
        notes.append("No. " + fields.pop("number")[1])
    if notes:
        if fields.get("note"):
            notes.insert(0, fields["note"][1])
        fields["note"] = ("text", ". ".join(notes))
    if not fields.get("author") and not fields.get("editor"):
        # "to sort, need author or key": give the sort key plain.bst asks for.
        fields["key"] = ("text", fields.get("title", ("", ""))[1] or "Anonymous")


def _value(kind: str, value, ascii_only: bool) -> str:
    if kind == "names":
        return "{" + format_names(value, ascii_only) + "}"
    if kind == "title":
        return "{" + protect_title(value, ascii_only) + "}"
    if kind == "verbatim":
        return "{" + _verbatim(value) + "}"
    if kind == "macro":
        return value if re.fullmatch(r"[a-z]{3}", value) else "{" + value + "}"
    if kind == "latex":  # escaped already
        return "{" + value + "}"
    return "{" + escape(value, ascii_only) + "}"


def _order(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def render_entry(rec: Record, biblatex: bool) -> str:
    etype, fields = choose_entry(rec, biblatex)
    ascii_only = not biblatex
    lines = [f"@{etype}{{{rec['id']},"]
    for name in sorted(fields, key=_order):
        kind, value = fields[name]
        lines.append(f"  {name} = {_value(kind, value, ascii_only)},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_bibtex(records: list[Record]) -> str:
    return "\n".join(render_entry(r, biblatex=False) for r in records)


def render_biblatex(records: list[Record]) -> str:
    return "\n".join(render_entry(r, biblatex=True) for r in records)
