"""HTML and plain text in the style of an EconPapers page (the seed document)::

    Alessandro Arduino and Asif Shuja
    Russia’s scalable soft power: leveraging defense diplomacy through the transfer of S-400 triumph
    Defense & Security Analysis, 2021, vol. 37, issue 4, 435-452

HTML: a complete HTML5 document, one ``<li>`` a reference with the title linked
to its DOI (or URL); every piece of text is escaped, nothing from the metadata
becomes markup.
"""

from __future__ import annotations

from html import escape

from citetool.identifiers import doi_url
from citetool.record import (
    Record,
    date_parts,
    date_text,
    name_given_first,
    names,
    relations,
    repec_handle,
    repec_link,
)

_SOURCE_FIRST = ("article-journal", "article-magazine", "article-newspaper", "chapter",
                 "paper-conference", "entry-encyclopedia", "entry-dictionary")


def join_names(people: list[dict]) -> str:
    """"A", "A and B", "A, B and C" (as EconPapers writes them)."""
    shown = [name_given_first(p) for p in people]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def authors_line(rec: Record) -> str:
    authors = names(rec, "author")
    if authors:
        return join_names(authors)
    editors = names(rec, "editor")
    if editors:
        return join_names(editors) + (" (eds.)" if len(editors) > 1 else " (ed.)")
    return ""


def source_line(rec: Record) -> str:
    """"Defense & Security Analysis, 2021, vol. 37, issue 4, 435-452"; for a
    working paper "No 11309, NBER Working Papers from National Bureau of
    Economic Research, Inc, 2005"."""
    if rec.get("type") == "report" and rec.get("collection-title"):
        head = f"No {rec['number']}, " if rec.get("number") else ""
        head += rec["collection-title"]
        if rec.get("publisher"):
            head += f" from {rec['publisher']}"
        year = date_parts(rec)[:1]
        return head + (f", {year[0]}" if year else "")
    parts: list[str] = []
    container = rec.get("container-title")
    if container:
        parts.append(f"in {container}" if rec.get("type") == "chapter" else container)
    if rec.get("type") not in _SOURCE_FIRST or not container:
        for key in ("genre", "publisher", "publisher-place"):
            if rec.get(key) and rec.get(key) != container:
                parts.append(str(rec[key]))
    year = date_parts(rec)[:1]
    if year:
        parts.append(str(year[0]))
    if rec.get("volume"):
        parts.append(f"vol. {rec['volume']}")
    if rec.get("issue"):
        parts.append(f"issue {rec['issue']}")
    accessed = date_parts(rec, "accessed")
    if accessed and rec.get("type") in ("webpage", "post-weblog", "article-newspaper", "post"):
        parts.append("accessed " + date_text(accessed))
    if rec.get("page"):
        parts.append(str(rec["page"]))
    elif rec.get("number"):
        parts.append(f"article {rec['number']}" if rec.get("type") == "article-journal" else f"no. {rec['number']}")
    return ", ".join(parts)


def link(rec: Record) -> str:
    """The address the title points to: the DOI as https, else the record's
    URL when it is http(s). Anything else (``javascript:``, ``data:``...) is no
    link: :func:`plain_url` shows it as text."""
    if rec.get("DOI"):
        return doi_url(rec["DOI"])
    url = (rec.get("URL") or "").strip()
    return _url(url) if is_web_url(url) else ""


def is_web_url(url: str) -> bool:
    """Only http and https addresses may become links (or be clicked)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def plain_url(rec: Record) -> str:
    """A URL that may not be a link, to show as text (nothing is lost)."""
    url = (rec.get("URL") or "").strip()
    return url if url and not rec.get("DOI") and not is_web_url(url) else ""


def _url(url: str) -> str:
    """Percent-encode what an href may not hold (handles carry ':' and '/', which are fine)."""
    from urllib.parse import quote

    return quote(url, safe=":/?#@!$&'()*+,;=%-._~")


def title(rec: Record) -> str:
    return rec.get("title") or "[Untitled]"


def render_text(records: list[Record]) -> str:
    blocks = []
    for rec in records:
        lines = [authors_line(rec), title(rec), source_line(rec), link(rec) or plain_url(rec)]
        if repec_link(rec) and repec_link(rec) != link(rec):
            lines.append(repec_link(rec))
        lines += [f"{str(r.get('type') or 'related').capitalize()}: {doi_url(r['DOI'])}" for r in relations(rec)]
        blocks.append("\n".join(line for line in lines if line))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _html_item(rec: Record) -> str:
    href = link(rec)
    title_html = escape(title(rec))
    if href:
        title_html = f'<a href="{escape(href, quote=True)}">{title_html}</a>'
    lines = [
        f'<span class="authors">{escape(authors_line(rec))}</span>' if authors_line(rec) else "",
        f'<cite class="title">{title_html}</cite>',
        f'<span class="source">{escape(source_line(rec))}</span>' if source_line(rec) else "",
        f'<span class="url">{escape(plain_url(rec))}</span>' if plain_url(rec) else "",
    ]
    if repec_link(rec) and repec_link(rec) != href:
        lines.append(f'<span class="repec">Persistent link: <a href="{escape(_url(repec_link(rec)), quote=True)}">'
                     f"{escape(repec_handle(rec))}</a></span>")
    for relation in relations(rec):  # the preprint an upgrade replaced
        url = doi_url(relation["DOI"])
        lines.append(f'<span class="relation">{escape(str(relation.get("type") or "related").capitalize())}: '
                     f'<a href="{escape(_url(url), quote=True)}">{escape(url)}</a></span>')
    body = "<br>\n".join(line for line in lines if line)
    return f'<li id="{escape("ref-" + rec["id"], quote=True)}">\n{body}\n</li>'


def render_html(records: list[Record]) -> str:
    items = "\n".join(_html_item(r) for r in records)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>References</title>\n"
        "<style>li { margin-bottom: 1em; } cite { font-style: normal; font-weight: bold; }</style>\n"
        "</head>\n<body>\n<h1>References</h1>\n"
        + (f'<ul class="references">\n{items}\n</ul>\n' if records else "<p>No references.</p>\n")
        + "</body>\n</html>\n"
    )
