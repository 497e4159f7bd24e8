"""DOIs in what people paste: a publisher's article address that carries the
DOI in its path, and a line holding several DOIs. Pure functions, no I/O.

Publisher addresses read (the DOI is the path after the marker, up to a query
or fragment; percent-escapes decoded):

* ``/doi/10.…`` and ``/doi/<view>/10.…`` on any host: the Atypon platform's
  convention (Taylor & Francis ``tandfonline.com/doi/full/…``, Wiley
  ``onlinelibrary.wiley.com/doi/abs/…``, SAGE ``journals.sagepub.com/doi/pdf/…``,
  PNAS ``pnas.org/doi/…``, ACS, Science, NEJM, ACM's ``dl.acm.org/doi/…``);
  ``<view>`` is one of :data:`VIEWS`;
* Springer's ``link.springer.com/article/10.…`` (and ``chapter``, ``book``,
  ``referenceworkentry``, ``protocol``, ``content/pdf/10.….pdf``).

Addresses that carry no DOI (ScienceDirect's ``/pii/``, Nature's article
names, OUP's ``academic.oup.com/…/article/…/<number>``) stay web pages.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# What Atypon sites put between /doi/ and the DOI.
VIEWS = ("abs", "full", "pdf", "epdf", "pdfdirect", "epub", "reader", "book", "figure", "suppl", "ref",
         "references", "citedby", "abstract", "fulltext", "full-xml", "doi")
_ATYPON = re.compile(r"/doi/(?:(?:" + "|".join(VIEWS) + r")/)?(10\.\d{4,9}(?:\.\d+)*/.+)$", re.IGNORECASE)
_SPRINGER = re.compile(r"^/(?:article|chapter|book|referenceworkentry|protocol|content/pdf)/(10\.\d{4,9}/.+?)(?:\.pdf)?$",
                       re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")


def doi_in_publisher_url(url: str) -> str | None:
    """The DOI a publisher's article address carries in its path, or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    path = unquote(parts.path)
    host = parts.hostname.lower()
    found = _SPRINGER.match(path) if host in ("link.springer.com", "rd.springer.com") else None
    found = found or _ATYPON.search(path)
    if found is None:
        return None
    doi = found.group(1).rstrip("/")
    return doi if _DOI.match(doi) else None


def without_query(url: str) -> str:
    """A doi.org address without its query and fragment (``?utm_source=x``: a
    tracking tail, never part of the DOI, which a link would percent-encode)."""
    return re.split(r"[?#]", url, maxsplit=1)[0]


# A DOI in running text, with what may come before it.
_DOI_IN_TEXT = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi\s*:?\s*)?10\.\d{4,9}(?:\.\d+)*/[^\s,;]+", re.IGNORECASE)
_SEPARATORS = re.compile(r"^[\s,;|]*(?:(?:and|&)[\s,;|]*)*$", re.IGNORECASE)


def dois_in_line(line: str) -> list[str] | None:
    """The DOIs of a line holding two or more and nothing else (separated by
    spaces, commas, semicolons, "and"), each as written; None for any other
    line (one DOI, a reference written out that quotes DOIs, ...)."""
    found = list(_DOI_IN_TEXT.finditer(line))
    if len(found) < 2:
        return None
    rest, last = [], 0
    for match in found:
        rest.append(line[last:match.start()])
        last = match.end()
    rest.append(line[last:])
    if not all(_SEPARATORS.match(part) for part in rest):
        return None
    return [match.group().strip() for match in found]
