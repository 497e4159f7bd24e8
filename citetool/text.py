"""Turn the markup found in metadata (JATS, HTML, MathML, entities, also
double-escaped ones) into clean Unicode text. Pure functions."""

from __future__ import annotations

import re

# ASCII whitespace but the space, and line breaks; no-break and thin spaces are kept.
_WS_CHARS = "\t\n\r\f\v\u2028\u2029\x85"
_WS = re.compile("[ " + _WS_CHARS + "]+")  # runs of them and of spaces
_TAGLIKE = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_BLOCK_TAGS = {"p", "jats:p", "sec", "jats:sec", "br", "div", "li", "jats:list-item"}
_TITLE_TAGS = {"title", "jats:title"}


class _TextHandlers:
    """Callbacks for html.parser.HTMLParser (imported only when markup is seen)."""

    def __init__(self, paragraphs: bool):
        self.paragraphs = paragraphs
        self.parts: list[str] = []
        self.skip_depth = 0  # inside <jats:title> at the start of an abstract

    def handle_starttag(self, tag, attrs):
        if self.paragraphs and tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif self.paragraphs and tag in _TITLE_TAGS and not "".join(self.parts).strip():
            self.skip_depth += 1

    def handle_endtag(self, tag):
        if self.skip_depth and tag in _TITLE_TAGS:
            self.skip_depth -= 1
        elif self.paragraphs and tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)


def _one_pass(text: str, paragraphs: bool) -> str:
    if "<" not in text and "&" not in text:
        return text
    from html.parser import HTMLParser

    class Extractor(_TextHandlers, HTMLParser):
        def __init__(self):
            HTMLParser.__init__(self, convert_charrefs=True)
            _TextHandlers.__init__(self, paragraphs)

    parser = Extractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def clean_text(text: str | None) -> str:
    """Markup-free single-line text: tags dropped, entities decoded (repeatedly,
    for double-escaped titles such as ``&amp;lt;sup&amp;gt;``), whitespace collapsed."""
    if not text:
        return ""
    for _ in range(3):
        new = _one_pass(text, paragraphs=False)
        if new == text:
            break
        text = new
    return _WS.sub(" ", text).strip()


def clean_paragraphs(text: str | None) -> str:
    """Like :func:`clean_text` but keeps paragraph breaks (as blank lines), and
    drops a leading JATS ``<title>`` such as "Abstract"."""
    if not text:
        return ""
    if _TAGLIKE.search(text):
        text = _one_pass(text, paragraphs=True)
    paragraphs = [clean_text(p) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces, and drop
    control characters, which no export format can carry."""
    if (text.isprintable() and "  " not in text) or _UNUSUAL.search(text) is None:
        return text.strip(" ")  # (isprintable: no control character, line or paragraph separator; in C)
    # What _WS.sub(" ", _CONTROL.sub("", text)).strip() gives, by str methods
    # (in C, where the two patterns took most of an abstract's export).
    for space in _WS_CHARS:
        if space in text:
            text = text.replace(space, " ")
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip()

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_UNUSUAL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]|  ")


def fold(text: str) -> str:
    """Lower case, accents dropped, whitespace collapsed: for comparing as people read."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())
