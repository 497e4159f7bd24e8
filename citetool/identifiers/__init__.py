"""Recognise and normalise the identifiers users paste: pure functions, no I/O.

``parse_identifier(text)`` returns an :class:`Identifier` or raises
:class:`~citetool.errors.IdentifierError` with a one-line message naming the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from citetool.errors import IdentifierError
from citetool.identifiers.pasted import doi_in_publisher_url, without_query
from citetool.identifiers.repec import Handle, NotAHandle, handle_from_url, looks_like_handle, parse_handle

# A DOI: "10." + registrant code (dotted subdivisions allowed) + "/" + suffix without spaces.
_DOI_RE = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
_DOI_PREFIXES = re.compile(
    r"^(?:doi(?:\s*:\s*|\s+)|info:doi/|urn:doi:|https?://(?:dx\.|www\.)?doi\.org/|(?:dx\.)?doi\.org/)",
    re.IGNORECASE,
)
_TRAILING_DEBRIS = ".,;:"
_PAIRS = {")": "(", "]": "[", ">": "<", "}": "{"}
_OPENERS = {v: k for k, v in _PAIRS.items()}


@dataclass(frozen=True)
class Identifier:
    """A recognised identifier. ``value`` is the normalised form to look up and
    display; ``key`` the canonical form for comparing (DOIs and RePEc handles
    are compared ignoring case)."""

    kind: str  # "doi" | "repec" | "url" | "isbn" | "reference" (a reference written out as text)
    value: str
    raw: str
    handle: Handle | None = None  # for kind "repec"
    typed: bool = True  # False: found in a document, not typed by the user (a URL then must be public)
    # Another reading of the same text, asked only when no source knows ``value``:
    # a DOI that ended in "." read without it (the end of a sentence), and with it.
    also: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value.lower()}"

    def second_reading(self) -> Identifier:
        """The identifier of :attr:`also`, the other reading of the same text (asked next)."""
        return Identifier(self.kind, self.also or self.value, self.raw, self.handle, self.typed)

    def __str__(self) -> str:
        return self.value


def _strip_debris(text: str) -> str:
    """Remove copy-paste debris: spaces, wrapping quotes, trailing punctuation and
    closing brackets that have no opening partner in the text."""
    text = text.strip().strip("\"'“”‘’").strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    while text:
        first, last = text[0], text[-1]
        if first in _OPENERS and (text.endswith(_OPENERS[first]) or text.count(first) > text.count(_OPENERS[first])):
            text = text[1:].lstrip()  # "(10.1/x)" or a stray "(" in front
        elif last in _TRAILING_DEBRIS or last in _PAIRS and text.count(last) > text.count(_PAIRS[last]):
            text = text[:-1]
        else:
            break
    return text


def normalise_doi(text: str) -> str | None:
    """The DOI in ``text`` (any common spelling), or None. Case is kept: compare
    with ``.lower()``; Crossref itself answers with lower-case DOIs."""
    candidate = _strip_debris(text)
    if re.match(r"^https?://(?:dx\.|www\.)?doi\.org/", candidate, re.IGNORECASE):
        candidate = without_query(candidate)  # ?utm_source=x: a tracking tail, not the DOI
    candidate = _DOI_PREFIXES.sub("", candidate, count=1).strip()
    if "%" in candidate:
        candidate = unquote(candidate)
    candidate = _strip_debris(candidate)
    if _DOI_RE.match(candidate):
        return candidate
    return None


def doi_with_its_full_stop(text: str, doi: str) -> str | None:
    """The DOI of ``text`` with the full stop(s) it ended in, when reading it without
    them gave ``doi``: "10.21052/kcmr." is a genuine DOI, and so is "10.1/x" at
    the end of a sentence. None when the text did not end so."""
    tail = text.rstrip(" \t\r\n,;:)]>}\"'“”‘’")
    stops = len(tail) - len(tail.rstrip("."))
    dotted = doi + "." * stops
    if not stops or not tail.lower().endswith(dotted.lower()) and dotted.lower() not in unquote(tail).lower():
        return None
    if dot_segment_error(dotted) is not None or not _DOI_RE.match(dotted):
        return None
    return dotted


def _ean_sum(digits: str) -> int:
    return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))


def isbn13(text: str, check: bool = True) -> str | None:
    """An ISBN-10 or -13 in any punctuation as a bare ISBN-13, or None.

    ``check``: the given check digit must be right; without it, the check digit
    is recomputed whatever it was (for comparing ISBNs as metadata gives them).
    """
    digits = re.sub(r"[^0-9Xx]", "", text).upper()
    if len(digits) == 10 and digits[:9].isdigit():
        if check and sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits)) % 11:
            return None
        core = "978" + digits[:9]
    elif len(digits) == 13 and digits.isdigit():
        if check and _ean_sum(digits) % 10:
            return None
        core = digits[:12]
    else:
        return None
    return core + str((10 - _ean_sum(core) % 10) % 10)


def normalise_isbn(text: str) -> str | None:
    """``isbn:978-...`` or a bare ISBN-10/13 whose check digit is right, as ISBN-13."""
    candidate = _strip_debris(text)
    explicit = re.match(r"^isbn(?:-1[03])?\s*:?\s*", candidate, re.IGNORECASE)
    if explicit:
        candidate = candidate[explicit.end():]
    if not re.fullmatch(r"[0-9][0-9\- ]{8,15}[0-9Xx]", candidate):
        return None
    isbn = isbn13(candidate)
    return isbn if isbn and isbn.startswith(("978", "979")) else None


MAX_LENGTH = 2000  # characters: no identifier (nor a reference written out) is longer


def _shown(text: str) -> str:
    shown = text.strip()
    return shown[:77] + "..." if len(shown) > 80 else shown


def unrecognised(text: str) -> IdentifierError:
    return IdentifierError("not a recognisable identifier (expected a DOI, a RePEc handle, an ISBN or a web "
                           f"address): {_shown(text)!r}")


def looks_like_reference(text: str) -> bool:
    """A reference written out (``Arduino, A. (2021). Russia's scalable...``):
    at least four words, some letters, and a year."""
    words = text.split()
    return (len(words) >= 4 and sum(any(c.isalpha() for c in w) for w in words) >= 3
            and re.search(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)", text) is not None)


def parse_line(text: str) -> Identifier:
    """An identifier, or else a reference written out as text (kind ``reference``)."""
    try:
        return parse_identifier(text)
    except IdentifierError as exc:  # only what is no kind of identifier may be a reference
        if exc.message == unrecognised(text).message and looks_like_reference(text):
            return Identifier("reference", " ".join(text.split()), text)
        raise


# user:password@ in a web address (up to the last "@" before the path, as browsers read it)
_CREDENTIALS = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")


def without_credentials(text: str) -> str:
    """``text`` without the ``user:password@`` of a web address it starts with:
    a password typed into an address is never stored, printed or sent on."""
    return _CREDENTIALS.sub(r"\1", text, count=1)


def parse_identifier(text: str) -> Identifier:
    """Classify one user-supplied identifier (credentials in an address dropped first)."""
    text = without_credentials(text)
    raw = text
    if not text or not text.strip():
        raise IdentifierError("empty identifier")
    shown = _shown(text)
    if len(text) > MAX_LENGTH:
        raise IdentifierError(f"too long to be an identifier ({len(text):,} characters): {shown!r}")
    control = _CONTROL.search(text.strip())
    if control:  # a NUL from a binary file, an escape sequence: never sent to a source as %00
        raise IdentifierError(f"holds a control character (U+{ord(control.group()):04X}), which no identifier "
                              f"has: {shown!r}")
    # A handle may end in "." or ":" (OUP's p:675-689.): only spaces, quotes and
    # trailing , ; are debris there.
    candidate = text.strip().strip("\"'“”‘’").strip().rstrip(",;").strip()
    if looks_like_handle(candidate):
        try:
            handle = parse_handle(candidate)
        except NotAHandle as exc:
            raise IdentifierError(str(exc)) from None
        return Identifier("repec", handle.text, raw, handle)
    isbn = normalise_isbn(text)
    if isbn is not None:
        return Identifier("isbn", isbn, raw)
    url = _strip_debris(text)
    if re.match(r"^https?://", url, re.IGNORECASE) and "doi.org/" not in url.lower():
        try:
            handle = handle_from_url(url)
        except NotAHandle as exc:
            raise IdentifierError(f"{exc} (in the URL {shown!r})") from None
        if handle is not None:
            return Identifier("repec", handle.text, raw, handle)
        doi = doi_in_publisher_url(url)  # tandfonline.com/doi/full/10.…: the DOI, not the page
        if doi is not None:
            return Identifier("doi", doi, raw)
    doi = normalise_doi(text)
    if doi is not None:
        error = dot_segment_error(doi)
        if error is not None:
            raise error
        return Identifier("doi", doi, raw, also=doi_with_its_full_stop(text, doi))
    if re.match(r"^https?://[^\s/?#]+", url, re.IGNORECASE) and not re.search(r"\s", url) and is_http_url(url):
        return Identifier("url", url.split("#", 1)[0], raw)  # a web page
    raise unrecognised(text)


# C0 and C1 control characters and DEL (tabs and line breaks inside a line too:
# surrounding ones are stripped before this is asked).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an http(s) address a client can ask: a host (an IPv6
    one bracketed and valid), a port that is a number below 65536."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return False
        _ = parts.port  # ValueError for "host:99999" or "host:x"
        if "[" in parts.netloc:
            ipaddress.IPv6Address(parts.hostname.split("%", 1)[0])
            if not re.search(r"\](?::\d*)?$", parts.netloc):
                return False  # "[::1]x": nothing but a port may follow the address
    except ValueError:
        return False
    return not re.search(r"[\x00-\x20\x7f<>\"{}|\\^`%]", parts.hostname) or _percent_host(parts.hostname)


def _percent_host(host: str) -> bool:
    """A host name written with %-escapes (IDNA in a URL) whose escapes are real."""
    return re.fullmatch(r"(?:[^%\x00-\x20\x7f<>\"{}|\\^`]|%[0-9A-Fa-f]{2})+", host) is not None


# A "." or ".." path segment: servers, proxies and browsers resolve it (so does
# %2E: it is the same character), so 10.1234/../../../admin/delete asked at
# /works/{doi} would reach /admin/delete. No DOI in use has one.
_DOT_SEGMENT = re.compile(r"(?:^|[/\\])\.{1,2}(?:[/\\]|$)")


def dot_segment_error(doi: str) -> IdentifierError | None:
    """The error for a DOI that would leave its route (a "." or ".." segment), or None."""
    if _DOT_SEGMENT.search(doi) is None:
        return None
    return IdentifierError(f"{_shown(doi)!r} is not a DOI citetool asks for: its '.' or '..' part would take "
                           "the request to another address than the DOI's")


def doi_route(base: str, doi: str) -> str:
    """The address of ``doi`` under ``base`` (Crossref's /works, doi.org): the
    DOI percent-encoded, "/" kept. The one place a DOI becomes a request path:
    a DOI with a dot segment is refused (IdentifierError), never sent."""
    error = dot_segment_error(doi)
    if error is not None:
        raise error
    return f"{base}/{quote(doi, safe='/')}"


def doi_url(doi: str) -> str:
    """The https://doi.org/ link for ``doi``, percent-encoding what a URL may not
    hold (SICI DOIs carry < > [ ] and friends)."""
    return "https://doi.org/" + quote(doi, safe="/:;()!*'@=+$,-._~")
