"""RePEc handles and the URLs that carry them: pure functions, no I/O.

A handle is ``RePEc:<archive>:<series>:<item>``; the item has no single
grammar. Journal items are usually ``key:value`` pairs with one-letter keys
(``v`` volume, ``y`` year, ``i`` issue, ``p`` pages, ``n`` article number,
``s`` Elsevier id, ``d`` DOI with "/" written "_") in any order. Everything
read from a handle is a hint that real metadata overrides.

URL forms understood: the EconPapers persistent link, EconPapers abstract
pages (exactly reversible), ``scripts/redir.pf?...;h=`` and
``d.repec.org/n?u=`` redirects, and IDEAS pages (lossy: colons dropped and
case lost; article items are rebuilt and marked ``rebuilt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

PERSISTENT_BASE = "https://EconPapers.repec.org/"
_PREFIXES = ("repec", "relis", "mapin")
_ISBN_ITEM = re.compile(r"^(97[89]\d{10}|\d{9}[\dXx])$")
_ISBN_CHAPTER = re.compile(r"^(97[89][\d-]{10,14}|\d{9}[\dXx])_(\d+)$")
_IDEAS_ARTICLE = re.compile(r"^v(.+?)y(\d{4})i(.+?)(p|s|d|n)(.+)$")
ECONPAPERS_DIRS = {"article": "article", "paper": "paper", "book": "bookchap", "chapter": "bookchap",
                   "software": "software"}
IDEAS_LETTERS = {"a": "article", "p": "paper", "b": "book", "h": "chapter", "c": "software"}


class NotAHandle(ValueError):
    pass


@dataclass(frozen=True)
class Handle:
    """A parsed handle. ``text`` is the normalised handle (prefix written
    ``RePEc``, spaces around parts dropped, the item's case kept)."""

    archive: str
    series: str
    item: str
    prefix: str = "RePEc"
    rebuilt: bool = False  # rebuilt from a lossy IDEAS URL
    kind_hint: str | None = None  # article/paper/book/chapter/software, when the URL said
    pairs: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def text(self) -> str:
        return f"{self.prefix}:{self.archive}:{self.series}:{self.item}"

    @property
    def series_handle(self) -> str:
        return f"{self.prefix}:{self.archive}:{self.series}"

    @property
    def key(self) -> str:
        return self.text.lower()

    @property
    def persistent_link(self) -> str:
        return PERSISTENT_BASE + self.text

    def value(self, key: str) -> str | None:
        for k, v in self.pairs:
            if k == key:
                return v
        return None

    # --- what the item says -------------------------------------------------

    @property
    def volume(self) -> str | None:
        return self.value("v")

    @property
    def year(self) -> int | None:
        y = self.value("y")
        return int(y) if y and re.fullmatch(r"\d{4}", y) else None

    @property
    def issue(self) -> str | None:
        """The issue; Elsevier's ``i:c`` ("continuous volume") means none."""
        i = self.value("i")
        return None if i is None or i.lower() == "c" else i

    @property
    def pages_raw(self) -> str | None:
        return self.value("p")

    @property
    def pages(self) -> str | None:
        """"435-452"; abbreviated last pages expanded (347-70 -> 347-370);
        OUP's trailing dot and CUP's ``_00`` dropped."""
        raw = self.pages_raw
        if not raw:
            return None
        raw = re.sub(r"_\d+$", "", raw.rstrip("."))
        first, sep, last = raw.partition("-")
        if sep and first.isdigit() and last.isdigit() and len(last) < len(first):
            last = first[: len(first) - len(last)] + last
        return f"{first}-{last}" if sep and last else first

    @property
    def article_number(self) -> str | None:
        return self.value("n")

    @property
    def doi(self) -> str | None:
        """The DOI in a Springer/Kluwer ``d:`` item (10.1007_s10479-... -> 10.1007/s10479-...)."""
        d = self.value("d")
        if not d:
            return None
        m = re.match(r"^(10\.\d{4,9})_(.+)$", d)
        return f"{m.group(1)}/{m.group(2)}" if m else None

    @property
    def isbn(self) -> str | None:
        """A book item that is an ISBN, or a chapter item ISBN_chapter."""
        if self.pairs:
            return None
        m = _ISBN_ITEM.match(self.item) or _ISBN_CHAPTER.match(self.item)
        return m.group(1).replace("-", "") if m else None

    @property
    def chapter(self) -> str | None:
        m = _ISBN_CHAPTER.match(self.item) if not self.pairs else None
        return str(int(m.group(2))) if m else None

    @property
    def number(self) -> str | None:
        """An opaque item (working-paper number, software id...)."""
        return None if self.pairs else self.item


_KEYS = "vyipnsd"


def _pairs(item: str) -> tuple[tuple[str, str], ...]:
    """``v:37:y:2021:i:4:p:435-452`` -> (("v", "37"), ...). Keys may be fused to
    their value (Elsevier ``...:i:c:s0176268023000824``, JSS ``v:005:i07``);
    an item that is not all key:value pairs is opaque: ()."""
    tokens = item.split(":")
    pairs = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if len(token) == 1 and token.lower() in _KEYS and i + 1 < len(tokens) and tokens[i + 1]:
            pairs.append((token.lower(), tokens[i + 1]))
            i += 2
        elif len(token) > 1 and token[0].lower() in _KEYS and re.fullmatch(r"[A-Za-z]\d[\w.-]*", token) and pairs:
            pairs.append((token[0].lower(), token[1:]))
            i += 1
        else:
            return ()
    return tuple(pairs)


def parse_handle(text: str) -> Handle:
    """Parse ``RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452`` (any prefix case)."""
    parts = [p.strip() for p in text.strip().split(":", 3)]
    if len(parts) < 4 or parts[0].lower() not in _PREFIXES:
        raise NotAHandle(f"not a RePEc handle: {text!r}")
    prefix, archive, series, item = parts
    if not re.fullmatch(r"[A-Za-z]{3}", archive):
        raise NotAHandle(f"not a RePEc handle (the archive must be 3 letters): {text!r}")
    if not re.fullmatch(r"[A-Za-z0-9]{3,10}", series):
        raise NotAHandle(f"not a RePEc handle (bad series code {series!r}): {text!r}")
    if not item or re.search(r"\s", item):
        raise NotAHandle(f"not a RePEc handle (empty or spaced item): {text!r}")
    prefix = {"repec": "RePEc", "relis": "ReLIS", "mapin": "mapin"}[prefix.lower()]
    return Handle(archive=archive.lower(), series=series, item=item, prefix=prefix, pairs=_pairs(item))


def looks_like_handle(text: str) -> bool:
    return text.strip().lower().startswith(tuple(p + ":" for p in _PREFIXES))


# --- URLs ----------------------------------------------------------------------

def econpapers_escape(item: str) -> str:
    """EconPapers' file-name escape: every byte but [A-Za-z0-9.-] as _xx."""
    return "".join(c if re.fullmatch(r"[A-Za-z0-9.\-]", c) else "".join(f"_{b:02x}" for b in c.encode("utf-8"))
                   for c in item)


def econpapers_unescape(name: str) -> str:
    data = bytearray()
    i = 0
    while i < len(name):
        if name[i] == "_" and re.fullmatch(r"[0-9a-fA-F]{2}", name[i + 1:i + 3]):
            data.append(int(name[i + 1:i + 3], 16))
            i += 3
        else:
            data.extend(name[i].encode("utf-8"))
            i += 1
    return data.decode("utf-8", errors="replace")


def econpapers_page(handle: Handle, kind: str) -> str:
    """``https://econpapers.repec.org/article/tafcdanxx/v_3a37....htm``."""
    return (f"https://econpapers.repec.org/{ECONPAPERS_DIRS[kind]}/{handle.archive}{handle.series}/"
            f"{econpapers_escape(handle.item)}.htm")


def ideas_page(handle: Handle, kind: str) -> str:
    letter = {v: k for k, v in IDEAS_LETTERS.items()}[kind]
    item = handle.item.replace(":", "").replace("/", "-").lower()
    return f"https://ideas.repec.org/{letter}/{handle.archive}/{handle.series.lower()}/{item}.html"


def _rebuild_ideas_item(x: str, kind: str) -> str:
    """IDEAS drops the colons of article items: v37y2021i4p435-452 -> v:37:y:2021:i:4:p:435-452."""
    if kind in ("article", "chapter"):
        m = _IDEAS_ARTICLE.match(x)
        if m:
            v, y, i, k, rest = m.groups()
            return f"v:{v}:y:{y}:i:{i}:{k}:{rest}"
    return x


def handle_from_url(url: str) -> Handle | None:
    """The handle a RePEc URL carries, or None when the URL is not a RePEc one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = unquote(parts.path)
    if host in ("econpapers.repec.org", "www.econpapers.repec.org"):
        if path.lstrip("/").lower().startswith(_PREFIXES):
            return parse_handle(path.lstrip("/"))
        if path.startswith("/scripts/"):
            for key, value in parse_qsl(parts.query.replace(";", "&")):
                if key == "h":
                    return parse_handle(value)
            return None
        m = re.fullmatch(r"/(article|paper|bookchap|software)/([A-Za-z]{3})([A-Za-z0-9]+)/([^/]+)\.htm", path)
        if m:
            directory, archive, series, name = m.groups()
            kind = {"bookchap": None}.get(directory, directory)
            handle = parse_handle(f"RePEc:{archive}:{series}:{econpapers_unescape(name)}")
            return Handle(handle.archive, handle.series, handle.item, kind_hint=kind, pairs=handle.pairs)
        return None
    if host == "d.repec.org":
        for key, value in parse_qsl(parts.query):
            if key == "u":
                return parse_handle(value)
        return None
    if host in ("ideas.repec.org", "www.ideas.repec.org"):
        m = re.fullmatch(r"/([aphbc])/([A-Za-z]{3})/([A-Za-z0-9]+)/(.+)\.html", path)
        if not m:
            return None
        letter, archive, series, x = m.groups()
        kind = IDEAS_LETTERS[letter]
        item = _rebuild_ideas_item(x, kind)
        handle = parse_handle(f"RePEc:{archive}:{series}:{item}")
        return Handle(handle.archive, handle.series, handle.item, rebuilt=True, kind_hint=kind, pairs=handle.pairs)
    return None
