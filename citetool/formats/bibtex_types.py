"""Which entry type and which fields a record becomes, table-driven: each kind
of work gets the BibTeX or biblatex type whose required fields are present
(else ``@misc``), and each CSL variable the field that type has for it."""

from __future__ import annotations

import re

from citetool.formats.latex_text import entry_mode, escape, verbatim
from citetool.identifiers import doi_url, isbn13
from citetool.record import (
    META,
    Record,
    date_parts,
    date_text,
    edtf_text,
    first_value,
    names,
    page_range,
    relation_notes,
    repec_handle,
    repec_link,
)

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


CLASSIC_TYPE = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "periodical": "article",  # a whole issue: BibTeX has no @periodical; journal, volume, number kept
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "paper-conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
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
    "periodical": "periodical",
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
    "periodical": ("editor", "title", "date"),
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


BIBLATEX_FIELDS["periodical"] = {"editor", "issn", "issue", "issuetitle", "note", "number", "series",
                                  "title", "volume", "language"}


BIBLATEX_FIELDS["collection"] = BIBLATEX_FIELDS["book"]


BIBLATEX_FIELDS["incollection"] = BIBLATEX_FIELDS["inbook"]


BIBLATEX_FIELDS["inreference"] = BIBLATEX_FIELDS["inbook"]


BIBLATEX_FIELDS["software"] = BIBLATEX_FIELDS["misc"]


_BIBLATEX_ALLOWED = {etype: fields | _BLX_COMMON for etype, fields in BIBLATEX_FIELDS.items()}


# Field order in the output (the rest follow alphabetically).
ORDER = ("author", "editor", "title", "journal", "journaltitle", "booktitle", "eventtitle",
         "series", "howpublished", "school", "institution", "organization", "publisher",
         "address", "location", "venue", "type", "year", "month", "date", "volume", "number",
         "issue", "pages", "eid", "edition", "isbn", "issn", "doi", "url", "urldate", "eprint",
         "eprinttype", "note", "addendum", "key", "abstract")


_NOT_LABEL = re.compile(r"[\[\]()]")


_DOI_LINK = doi_url("")  # "https://doi.org/"


# The characters doi_url writes as they are, asked of doi_url itself: it
# percent-encodes a character at a time, so a DOI of these alone ends its own link.
_AS_THEY_ARE_IN_A_DOI_LINK = bytes(code for code in range(128) if doi_url(chr(code)) == _DOI_LINK + chr(code))


def _is_doi_link(url: str, doi: str) -> bool:
    """Whether ``url`` is ``doi``'s link (:func:`doi_url`), case aside, as most
    are (Crossref's own URL); without percent-encoding the DOI when it has
    nothing to encode (checked in C, as urllib's quote does: rstrip of those characters leaves nothing)."""
    if doi.isascii() and not doi.encode().rstrip(_AS_THEY_ARE_IN_A_DOI_LINK):
        if len(url) == len(_DOI_LINK) + len(doi) and url.startswith(_DOI_LINK) and url.endswith(doi):
            return True  # the link itself, case and all (no lower case made of either)
        return url.lower() == (_DOI_LINK + doi).lower()
    return url.lower() == doi_url(doi).lower()


_known_dates: dict[tuple, tuple[tuple[str, tuple[str, str]], ...]] = {}


def _date_fields(rec: Record, biblatex: bool) -> tuple[tuple[str, tuple[str, str]], ...]:
    """The fields of the issued date: ``date``, or ``year`` and ``month``.

    They are a function of the first three parts of the first date alone (all
    :func:`date_parts` reads), and dates come back: remembered by those parts."""
    issued = rec.get("issued")
    key = None
    if type(issued) is dict and type(dates := issued.get("date-parts")) is list and dates and type(dates[0]) is list:
        key = (biblatex, *dates[0][:3])
        try:
            known = _known_dates.get(key)
        except TypeError:  # a part that is not a number nor text (a hand-edited store): not remembered
            key = known = None
        if known is not None:
            return known
    parts = date_parts(rec)
    if biblatex:
        fields: tuple[tuple[str, tuple[str, str]], ...] = (("date", ("macro", edtf_text(parts) if parts else "")),)
    elif len(parts) > 1 and 1 <= parts[1] <= 12:
        fields = (("year", ("text", str(parts[0]))), ("month", ("macro", MONTHS[parts[1] - 1])))
    else:
        fields = (("year", ("text", str(parts[0]))),) if parts else ()
    if key is not None:
        if len(_known_dates) > 1 << 14:
            _known_dates.clear()  # a bound on what is remembered
        _known_dates[key] = fields
    return fields


# CSL variables each written, when present, as one text field (the generic
# names _place_fields gives each entry type's own), as they are or, numbers, as text.
_TEXT_VARIABLES = (("container-title", "container"), ("collection-title", "series"), ("publisher", "publisher"),
                   ("genre", "genre"), ("event-title", "eventtitle"), ("event-place", "venue"), ("abstract", "abstract"))


_NUMBER_VARIABLES = (("volume", "volume"), ("edition", "edition"), ("issue", "issue"), ("number", "csl_number"),
                     ("keyword", "keywords"))


def _page_text(page: str, mode: str) -> str:
    """A page escaped; most are ASCII digits alone, which escape leaves as they are."""
    return page if page.isdigit() and page.isascii() else escape(page, mode)


def _base_fields(rec: Record, biblatex: bool, mode: str) -> dict[str, tuple[str, str]]:
    """Field name -> (kind, value) before choosing the entry type.

    kind: "text" (escaped), "title" (escaped + case-protected), "names", "verbatim", "macro".
    """
    f: dict[str, tuple[str, str]] = {}
    get = rec.get
    for role in ("author", "editor", "translator"):
        people = get(role)
        if people and isinstance(people, list):
            people = names(rec, role)
            if people:
                f[role] = ("names", people)  # type: ignore[assignment]
    if title := get("title"):
        f["title"] = ("title", title)
    for variable, field in _TEXT_VARIABLES:
        if value := get(variable):
            f[field] = ("text", value)
    for variable, field in _NUMBER_VARIABLES:
        if value := get(variable):
            f[field] = ("text", str(value))
    if get("page"):
        first, last = page_range(rec)
        if first:
            pages = _page_text(first, mode) + ("--" + _page_text(last, mode) if last else "")
            f["pages"] = ("latex", pages)
    if place := get("publisher-place"):
        f["location" if biblatex else "address"] = ("text", place)
    f.update(_date_fields(rec, biblatex))
    doi, url = get("DOI"), get("URL")
    if doi:
        f["doi"] = ("verbatim", doi)
    meta = get(META)
    # (repec_handle and relation_notes read these two keys of the metadata: most references have neither)
    handle = repec_handle(rec) if meta and "ids" in meta else None
    if url and not (doi and _is_doi_link(url, doi)):
        f["url"] = ("verbatim", url)
    elif handle:
        f["url"] = ("verbatim", repec_link(rec))  # as EconPapers' own BibTeX export does
    if biblatex and handle:
        f["eprint"] = ("verbatim", handle)
        f["eprinttype"] = ("text", "RePEc")
    if issns := get("ISSN"):
        issn = first_value(issns)
        if issn:
            f["issn"] = ("text", issn)
    if isbn := get("ISBN"):
        isbns = [i.strip() for i in str(isbn).split(",") if isbn13(i)]
        if isbns:
            f["isbn"] = ("text", isbns[0])
    note = get("note")
    if note:
        f["note"] = ("text", note)
    if get("accessed") and "url" in f:
        accessed = date_parts(rec, "accessed")
        if accessed:
            iso = date_text(accessed)
            if biblatex:
                f["urldate"] = ("macro", iso)
            else:
                f["note"] = ("text", f"{note}. Accessed {iso}" if note else f"Accessed {iso}")
    related = ". ".join(relation_notes(rec)) if meta and "relations" in meta else ""  # the preprint an upgrade replaced
    if related and biblatex:
        f["addendum"] = ("text", related)
    elif related:
        f["note"] = ("text", f"{f['note'][1]}. {related}" if f.get("note") else related)
    return f


# The generic fields _place_fields renames (or drops) for each entry type.
_PLACED = frozenset({"container", "csl_number", "issue", "genre", "publisher", "eventtitle", "venue"})


def _place_fields(etype: str, base: dict, biblatex: bool, mode: str) -> dict:
    """Rename the generic fields to what ``etype`` calls them."""
    f = dict(base)
    for name in _PLACED.intersection(base):
        del f[name]
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
        elif container and etype in ("dataset", "software") and container != publisher:
            # The repository or archive holding it (biblatex: organization).
            f["organization"] = container
    elif etype == "periodical":  # biblatex: a whole issue of a journal
        if container:
            if f.get("title"):
                f["issuetitle"] = f["title"]
            f["title"] = container
        if issue or number:
            f["number"] = issue or number
    else:  # misc, online
        if etype == "misc":
            # plain.bst prints only howpublished of a @misc: say the container,
            # volume, issue and pages there, as "Journal, vol. 56, no. 2, pp. 60--61".
            def latex(item):
                return item[1] if item[0] == "latex" else escape(item[1], mode)

            details = [latex(v) for v in (container or publisher,) if v]
            if not details and f.get("url") and not biblatex:
                details.append("\\url{" + verbatim(f["url"][1]) + "}")  # a web page
            for label, item in (("vol.", f.get("volume")), ("no.", issue or number), ("pp.", f.get("pages"))):
                if item:
                    details.append(f"{label} {latex(item)}")
            if details:
                f["howpublished"] = ("latex", ", ".join(details))
            if not biblatex:
                # ... and keep them as fields too (plain.bst ignores the fields a
                # @misc does not print; pandoc and citation-js read them). The
                # container twice: pandoc reads it from journal only, citation-js
                # from booktitle only, and a @misc has no field of its own for it.
                if issue or number:
                    f["number"] = issue or number
                if container:
                    f["booktitle"] = container
                    f["journal"] = container
        elif publisher and etype == "online":
            f["organization"] = publisher
        if base.get("genre") and etype == "misc":
            if biblatex:
                f["type"] = base["genre"]
            elif "note" not in f:
                f["note"] = base["genre"]
    return f


def choose_entry(rec: Record, biblatex: bool, mode: str | None = None) -> tuple[str, dict]:
    """The entry type and its fields: always the work's own type, with every
    field it has (a warning about a field the source truly lacks is better
    than a lost volume or journal)."""
    mode = mode or entry_mode(biblatex)
    base = _base_fields(rec, biblatex, mode)
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
    if rec.get("type") == "periodical" and not base.get("container") and base.get("title"):
        base["container"] = base["title"]  # a whole journal: its title is the journal's name
    if not base.get("title") and not (biblatex and etype == "periodical"):
        base["title"] = ("text", "[Untitled]")  # every consumer wants a title
    if biblatex and not base.get("date", ("", ""))[1]:
        # biblatex requires a date for most types; EDTF "XXXX" means "year
        # unspecified", and biblatex prints it as nothing.
        base["date"] = ("macro", "XXXX")
    if not biblatex and not base.get("year"):
        base["year"] = ("text", "n.d.")  # plain.bst wants a year; "n.d." only when no date exists
    fields = _place_fields(etype, base, biblatex, mode)
    if biblatex:
        if fields.get("date") == ("macro", "XXXX") and "date" not in required.get(etype, ()):
            del fields["date"]
        allowed = _BIBLATEX_ALLOWED.get(etype, _BIBLATEX_ALLOWED["misc"])
        for name in fields.keys() - allowed:
            del fields[name]
    elif not fields.get("author") and not fields.get("editor"):
        # "to sort, need author or key": give the sort key plain.bst asks for.
        # natbib reads the label plain/plainnat build from it as "Author(Year)" inside
        # \bibitem[...]: a bracket or parenthesis there breaks it ("[Untitled]").
        label = _NOT_LABEL.sub("", fields.get("title", ("", ""))[1]).strip()
        fields["key"] = ("text", label or "Anonymous")
    return etype, fields
