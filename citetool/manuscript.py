"""The citation keys a manuscript cites: pure text scanning, no store, no network.

``cited_keys(path)`` reads a LaTeX file (``.tex``, following ``\\input``,
``\\include``, ``\\subfile``, ``\\import``), a LaTeX ``.aux`` file, or pandoc
Markdown (``.md``, ``.markdown``, ``.qmd``, ``.Rmd``) and returns the keys in
first-cited order, each once. ``*`` stands for ``\\nocite{*}`` / ``@*`` (every
reference). The rules follow what the real tools do; the tests compare them
with the ``.aux`` pdflatex writes and the ``Cite`` elements of ``pandoc -t json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from citetool.errors import UsageError
from citetool.scanning import BacktickRuns, Brackets, NextSpace

LATEX_SUFFIXES = (".tex", ".ltx", ".latex")
AUX_SUFFIXES = (".aux",)
MARKDOWN_SUFFIXES = (".md", ".markdown", ".qmd", ".rmd", ".pmd")

ALL = "*"  # \nocite{*}, nocite: @*


@dataclass
class Scan:
    """Keys in first-cited order, and notes for the user (an \\input that is missing...)."""

    keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, keys) -> None:
        seen = set(self.keys)
        for key in keys:
            if key and key not in seen:
                self.keys.append(key)
                seen.add(key)


def cited_keys(path: str | Path) -> Scan:
    """The keys ``path`` cites, by its extension (LaTeX, .aux or Markdown)."""
    path = Path(path)
    suffix = path.suffix.lower()
    scan = Scan()
    if suffix in LATEX_SUFFIXES:
        scan.add(_latex_file(path, path.parent, scan, set()))
    elif suffix in AUX_SUFFIXES:
        scan.add(_aux_file(path, scan, set()))
    elif suffix in MARKDOWN_SUFFIXES:
        try:
            scan.add(markdown_keys(_read(path), quarto=suffix == ".qmd"))
        except UsageError as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
    else:
        raise UsageError(f"cannot tell what {path} is: expected LaTeX (.tex), a LaTeX .aux file "
                         "or pandoc Markdown (.md, .qmd, .Rmd)")
    return scan


def _read(path: Path) -> str:
    """The text of a manuscript: a regular file only (``/dev/zero`` would fill
    the memory, a FIFO would wait for ever), as the store is read."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"cannot read {path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old LaTeX sources (inputenc latin1): keys are ASCII anyway


# --- LaTeX -------------------------------------------------------------------

# Commands whose one mandatory argument is a list of keys (natbib, biblatex,
# apacite's and the kernel's), optionally starred, after [prenote][postnote].
_SINGLE = {
    # LaTeX kernel, natbib
    "cite", "nocite", "citet", "citep", "citealt", "citealp", "citeauthor", "citefullauthor",
    "citeyear", "citeyearpar", "citenum", "citetalias", "citepalias",
    "Citet", "Citep", "Citealt", "Citealp", "Citeauthor", "Citefullauthor",
    # biblatex
    "Cite", "parencite", "Parencite", "footcite", "footcitetext", "textcite", "Textcite",
    "smartcite", "Smartcite", "supercite", "autocite", "Autocite", "citetitle", "Citetitle",
    "citedate", "citeurl", "citeurldate", "fullcite", "footfullcite", "notecite", "Notecite",
    "pnotecite", "Pnotecite", "fnotecite", "citename", "citelist", "citefield", "Citeyear", "Citedate",
    "mancite",  # biblatex verbose-trad styles
    # apacite, harvard-style packages
    "citeA", "citeNP", "citeANP", "shortcite", "shortciteA", "shortciteNP", "fullciteA", "fullciteNP",
    "citeyearNP", "citePossessive",
}
# biblatex multicite commands: (pre)(post) then any number of [pre][post]{keys} groups.
_MULTI = {
    "cites", "Cites", "parencites", "Parencites", "footcites", "footcitetexts", "smartcites",
    "Smartcites", "textcites", "Textcites", "supercites", "autocites", "Autocites",
    "volcites", "Volcites", "pvolcites", "Pvolcites", "fvolcites", "ftvolcites", "svolcites",
    "tvolcites", "Tvolcites", "avolcites", "Avolcites",
}
# biblatex \volcite[pre]{volume}[pages]{key}: the key is the second mandatory argument.
_VOLUME = {"volcite", "Volcite", "pvolcite", "Pvolcite", "fvolcite", "ftvolcite", "svolcite",
           "tvolcite", "Tvolcite", "avolcite", "Avolcite"}

_VERBATIM_ENVS = r"(?:verbatim\*?|Verbatim\*?|BVerbatim|LVerbatim|lstlisting|minted|comment|filecontents\*?)"
# One pass over the source, left to right: escapes first (so \% is no comment),
# then comments, verbatim environments and \verb, which all vanish. The regular
# expression finds where each starts; where a verbatim part ends is found by a
# look-up (an unclosed \verb repeated must not scan the rest of the text again).
_LATEX_NOISE = re.compile(
    r"(?P<keep>\\[\\%{}])"
    r"|(?P<comment>%[^\n]*\n?[ \t]*)"
    r"|(?P<env>\\begin\s*\{(?P<envname>" + _VERBATIM_ENVS + r")\})"
    r"|(?P<verb>\\(?:verb|lstinline|mintinline\{[^{}\s]{0,64}\})\*?(?P<delim>[^\sa-zA-Z{]))"
    r"|(?P<verbbrace>\\(?:lstinline|mintinline\{[^{}\s]{0,64}\})\{)"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)(\*?)")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")


def strip_latex_noise(text: str) -> str:
    """The source without comments, verbatim material and what follows \\end{document}:
    a comment vanishes with its line end and the next line's leading spaces (as in
    TeX), a verbatim part becomes one space. Linear in the length of ``text``."""
    pieces: list[str] = []
    copied = pos = 0
    last_at: dict[str, int] | None = None  # each character's last position (built at the first \verb)
    while True:
        m = _LATEX_NOISE.search(text, pos)
        if m is None:
            break
        if m.group("keep"):
            pos = m.end()
            continue
        if m.group("comment") is not None:
            end, replacement = m.end(), ""
        elif m.group("env"):
            closing = re.compile(r"\\end\s*\{" + re.escape(m.group("envname")) + r"\}").search(text, m.end())
            end, replacement = (closing.end() if closing else len(text)), " "
        else:
            stop = m.group("delim") or "}"
            if last_at is None:
                last_at = {ch: i for i, ch in enumerate(text)}
            if last_at.get(stop, -1) < m.end():  # never closed: not verbatim (as the regex had it)
                pos = m.start() + 1
                continue
            end, replacement = text.index(stop, m.end()) + 1, " "
        pieces += [text[copied:m.start()], replacement]
        copied = pos = end
    pieces.append(text[copied:])
    text = "".join(pieces)
    end = _END_DOCUMENT.search(text)
    return text[:end.start()] if end else text


def _skip_space(text: str, pos: int) -> int:
    """Past spaces and at most one line end (a blank line is a paragraph: TeX stops there)."""
    m = re.compile(r"[ \t]*(?:\n[ \t]*)?").match(text, pos)
    return m.end()


def _group(text: str, pos: int, open_: str, brackets: Brackets) -> tuple[int, int] | None:
    """The balanced ``open_ ... close`` group starting at ``pos`` (after spaces):
    (where its content starts, where the group ends)."""
    pos = _skip_space(text, pos)
    if pos >= len(text) or text[pos] != open_:
        return None
    close = brackets.close_of(pos, open_)
    return None if close is None else (pos + 1, close + 1)


def _content(text: str, span: tuple[int, int]) -> str:
    return text[span[0]:span[1] - 1]


def _optionals(text: str, pos: int, brackets: Brackets, limit: int = 2) -> int:
    """Past up to ``limit`` [..] groups."""
    for _ in range(limit):
        found = _group(text, pos, "[", brackets)
        if found is None:
            break
        pos = found[1]
    return pos


def _split_keys(arg: str) -> list[str]:
    """Keys of a cite argument; ``#1`` (a macro's parameter, in a \\def) is none."""
    return [k.strip() for k in arg.split(",") if k.strip() and "#" not in k]


def latex_keys(text: str) -> list[tuple[str, str]]:
    """Cited keys and include directives of LaTeX source, in order:
    ``("key", k)``, ``("input", file)``, ``("subfile", file)`` items."""
    text = strip_latex_noise(text)
    brackets = Brackets(text)
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _COMMAND.search(text, pos)
        if m is None:
            return out
        name, pos = m.group(1), m.end()
        if name in _SINGLE:
            pos = _optionals(text, pos, brackets)
            found = _group(text, pos, "{", brackets)
            if found:
                out += [("key", k) for k in _split_keys(_content(text, found))]
                pos = found[1]
        elif name in _VOLUME:
            pos = _optionals(text, pos, brackets, 1)
            volume = _group(text, pos, "{", brackets)
            if volume:
                pos = _optionals(text, volume[1], brackets, 1)
                found = _group(text, pos, "{", brackets)
                if found:
                    out += [("key", k) for k in _split_keys(_content(text, found))]
                    pos = found[1]
        elif name in _MULTI:
            for _ in range(2):  # (global prenote)(global postnote)
                found = _group(text, pos, "(", brackets)
                if found is None:
                    break
                pos = found[1]
            volume = name.lower().endswith("volcites")
            while True:
                after = _optionals(text, pos, brackets, 1 if volume else 2)
                if volume:
                    vol = _group(text, after, "{", brackets)
                    if vol is None:
                        break
                    after = _optionals(text, vol[1], brackets, 1)
                found = _group(text, after, "{", brackets)
                if found is None:
                    break
                out += [("key", k) for k in _split_keys(_content(text, found))]
                pos = found[1]
        elif name in ("input", "include", "subfile", "includeonly"):
            if name == "includeonly":
                continue
            found = _group(text, pos, "{", brackets)
            if found:
                out.append(("subfile" if name == "subfile" else name, _content(text, found).strip()))
                pos = found[1]
            elif name == "input":  # TeX's own syntax: \input file
                bare = re.compile(r"[ \t]+([^\s{}\\%]+)").match(text, pos)
                if bare:
                    out.append(("input", bare.group(1)))
                    pos = bare.end()
        elif name in ("import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom"):
            folder = _group(text, pos, "{", brackets)
            if folder:
                found = _group(text, folder[1], "{", brackets)
                if found:
                    relative = "sub" if name.startswith("sub") else "abs"
                    where = _content(text, folder).strip() + "\x00" + _content(text, found).strip()
                    out.append((f"import-{relative}", where))
                    pos = found[1]


def _tex_file(name: str, *folders: Path) -> Path | None:
    """The file LaTeX would read for ``name`` (``.tex`` added when missing)."""
    for folder in folders:
        for candidate in (folder / name, folder / (name + ".tex")):
            if candidate.is_file():
                return candidate
    return None


def _latex_file(path: Path, root: Path, scan: Scan, seen: set[Path]) -> list[str]:
    """Keys of a LaTeX file and the files it includes, in order: depth first,
    with a stack of the files open rather than recursion (a chain of 1,500
    ``\\input`` files is read like one of three)."""
    keys: list[str] = []
    stack: list[tuple[Path, Path, Iterator[tuple[str, str]]]] = []

    def enter(path: Path, root: Path) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            stack.append((path, root, iter(latex_keys(_read(path)))))

    enter(path, root)
    while stack:
        path, root, items = stack[-1]
        kind, value = next(items, ("", ""))
        if not kind:
            stack.pop()
        elif kind == "key":
            keys.append(value)
        else:
            target, sub_root = _include_target(path, root, kind, value)
            if target is not None:
                enter(target, sub_root)
            elif not value.lower().endswith((".bbl", ".aux", ".toc", ".sty", ".cls")):
                scan.notes.append(f"{path}: \\{kind.split('-')[0]}{{{value.replace(chr(0), '}{')}}} not found; skipped")
    return keys


def _include_target(path: Path, root: Path, kind: str, value: str) -> tuple[Path | None, Path]:
    """The file an include directive of ``path`` reads, and the folder its own includes resolve from."""
    if kind.startswith("import-"):
        folder, name = value.split("\x00")
        base = path.parent if kind == "import-sub" else Path()
        target = _tex_file(name, (base / folder) if not Path(folder).is_absolute() else Path(folder))
        return target, (target.parent if target else root)
    # \input and \include resolve from the main file's folder (where
    # LaTeX runs); \subfile and nested files also from their own folder.
    folders = (path.parent, root) if kind == "subfile" else (root, path.parent)
    return _tex_file(value, *folders), root


# --- .aux ----------------------------------------------------------------------

_AUX = re.compile(
    r"\\citation\{(?P<bibtex>[^}]*)\}"
    r"|\\abx@aux@cite\{(?P<first>[^}]*)\}(?:\{(?P<second>[^}]*)\})?"
    r"|\\@input\{(?P<input>[^}]*)\}"
)


def aux_keys(text: str) -> list[tuple[str, str]]:
    """``("key", k)`` and ``("input", file)`` items of a .aux file, in order:
    BibTeX's ``\\citation{a,b}``, biblatex's ``\\abx@aux@cite{refsection}{key}``
    (``\\abx@aux@cite{key}`` before biblatex 3.13) and ``\\@input{chapter.aux}``."""
    out: list[tuple[str, str]] = []
    # Past the last "}" nothing can close: without it, each unclosed
    # \citation{ repeated would be scanned to the end again.
    for m in _AUX.finditer(text, 0, text.rfind("}") + 1):
        if m.group("input") is not None:
            out.append(("input", m.group("input")))
        elif m.group("bibtex") is not None:
            out += [("key", k) for k in _split_keys(m.group("bibtex"))]
        else:
            key = m.group("second") if m.group("second") is not None else m.group("first")
            out.append(("key", key.strip()))
    return out


def _aux_file(path: Path, scan: Scan, seen: set[Path]) -> list[str]:
    """Keys of a .aux file and those it ``\\@input``s, in order (a stack, no recursion)."""
    keys: list[str] = []
    stack: list[tuple[Path, Iterator[tuple[str, str]]]] = []

    def enter(path: Path) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            stack.append((path, iter(aux_keys(_read(path)))))

    enter(path)
    while stack:
        path, items = stack[-1]
        kind, value = next(items, ("", ""))
        if not kind:
            stack.pop()
        elif kind == "key":
            keys.append(value)
        elif (path.parent / value).is_file():
            enter(path.parent / value)
        else:
            scan.notes.append(f"{path}: \\@input{{{value}}} not found; skipped")
    return keys


# --- pandoc Markdown -----------------------------------------------------------

# pandoc-crossref's references (@fig:x, @sec:x...) and Quarto's (@fig-x...) are not citations.
CROSSREF = re.compile(r"^(?:fig|tbl|eq|sec|lst):", re.IGNORECASE)
QUARTO_CROSSREF = re.compile(
    r"^(?:fig|tbl|lst|tip|nte|wrn|imp|cau|thm|lem|cor|prp|cnj|def|exm|exr|sol|rem|eq|sec)-", re.IGNORECASE)

_INTERNAL = set(":.#$%&-+?<>~/")


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _simple_key(text: str, pos: int) -> int:
    """End of a key without braces starting at ``pos`` (pandoc's rule: letters,
    digits, ``_``, and single internal punctuation; ``://`` as in URLs)."""
    if pos >= len(text) or not (_word_char(text[pos]) or text[pos] == "*"):  # @* : every reference
        return pos
    end = pos + 1
    while end < len(text):
        ch = text[end]
        nxt = text[end + 1] if end + 1 < len(text) else ""
        internal = ch in _INTERNAL and nxt and _word_char(nxt)
        if not (_word_char(ch) or internal or (ch in ":/" and nxt == "/")):
            break
        end += 1
    return end


def _braced_key(text: str, pos: int, brackets: Brackets, spaces: NextSpace) -> tuple[str, int] | None:
    """``{...}`` with balanced braces and no space, as pandoc reads ``@{key}``."""
    close = brackets.close_of(pos, "{")
    if close is None or spaces.after(pos) < close:
        return None
    return text[pos + 1:close], close + 1


# Inline material where '@' is no citation: code spans, autolinks, raw HTML
# (comments and tags), math, link destinations, escapes.
_INLINE_NOISE = re.compile(
    r"(?P<escape>\\[!-/:-@\[-`{-~])"
    r"|(?P<ticks>`+)"  # a code span: where it ends is looked up (BacktickRuns)
    r"|(?P<autolink><(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>)"
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s+[^<>]*?)?/?>)"
    r"|(?P<displaymath>\$\$.+?\$\$)"
    r"|(?P<math>\$(?=\S)(?:[^$\\]|\\.)+?(?<=\S)\$(?!\d))"
    r"|(?P<destination>\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\))",
    re.DOTALL,
)


def _inline_keys(text: str) -> list[str]:
    """Citation keys in a run of inline Markdown (a paragraph, a table, a header...)."""
    keys: list[str] = []
    plain = []  # the text with the noise replaced by spaces
    last = 0
    runs: BacktickRuns | None = None
    while m := _INLINE_NOISE.search(text, last):
        end = m.end()
        start = m.start()
        if m.group("ticks"):
            runs = runs or BacktickRuns(text)
            span = runs.code_span(start, end)
            if span is None:  # backticks that close nothing are text
                plain.append(text[last:end])
                last = end
                continue
            start, end = span
        plain.append(text[last:start])
        plain.append(" " * (end - start))
        last = end
    plain.append(text[last:])
    text = "".join(plain)
    pos = 0
    cite_end = -1  # where the last citation ended: an '@' right there follows no word
    brackets, spaces = Brackets(text, escapes=False), NextSpace(text)
    while True:
        at = text.find("@", pos)
        if at < 0:
            return keys
        pos = at + 1
        before = text[at - 1] if at > 0 else ""
        if at != cite_end and before and (before.isalnum() or before == "."):
            continue  # e-mail addresses, "e.g.@x": pandoc wants no word right before '@'
        if text.startswith("{", at + 1):
            braced = _braced_key(text, at + 1, brackets, spaces)
            if braced is None:
                continue
            keys.append(braced[0])
            pos = cite_end = braced[1]
            continue
        end = _simple_key(text, at + 1)
        if end > at + 1:
            keys.append(text[at + 1:end])
            pos = cite_end = end
    return keys


_EXAMPLE_ITEM = re.compile(r"^ {0,3}(?:\(@[\w-]*\)|@[\w-]*[.)])(?=\s|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-+*:~]|\(?\d+[.)]|\(?#[.)]|\(?[a-zA-Z][.)]|\(?@[\w-]*[.)])(?:\s|$)")
_YAML_START = re.compile(r"^---[ \t]*$")
_YAML_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")


def _front_matter(lines: list[str]) -> tuple[list[str], int]:
    """Citations in a YAML metadata block at the top (``nocite``, a title
    citing...): pandoc reads every string there as Markdown."""
    if not lines or not _YAML_START.match(lines[0]) or len(lines) < 2 or not lines[1].strip():
        return [], 0
    for end in range(1, len(lines)):
        if _YAML_END.match(lines[end]):
            break
    else:
        return [], 0
    import yaml

    class PandocYaml(yaml.SafeLoader):
        """YAML as pandoc reads it (1.2: ``<<`` is a key like any other). PyYAML's
        merge keys copy each merged mapping, so nine lines of nine ``<<: *x``
        (a "billion laughs") built 9^9 entries before anything could be read."""

        def flatten_mapping(self, node):
            for key, _ in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    key.tag = "tag:yaml.org,2002:str"

    try:
        data = yaml.load("\n".join(lines[1:end]), Loader=PandocYaml)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError:
        return [], end + 1
    except RecursionError:
        raise UsageError("its YAML front matter is nested too deeply to be read") from None
    keys: list[str] = []
    # Depth first, in order, without recursion; an alias that holds itself
    # (``nocite: &a [*a]``) is a loop pandoc cannot read either. Each list or
    # mapping is read once: an alias repeats keys already found, and reading
    # every alias again made nine lines of nine aliases (a "billion laughs")
    # cost 9^9 visits.
    stack, open_, done = [(data, False)], set(), set()
    while stack:
        value, leaving = stack.pop()
        if leaving:
            open_.discard(id(value))
            done.add(id(value))
        elif isinstance(value, str):
            keys.extend(_inline_keys(value))
        elif isinstance(value, (dict, list)):
            if id(value) in open_:
                raise UsageError("its YAML front matter holds itself (an alias inside its own anchor)")
            if id(value) in done:
                continue
            open_.add(id(value))
            children = ([v for k, v in value.items() if not (isinstance(k, str) and k.endswith("_"))]  # pandoc skips keys ending in _
                        if isinstance(value, dict) else value)
            stack.append((value, True))
            stack += [(v, False) for v in reversed(children)]
    return keys, end + 1


def _without_html_comments(text: str) -> str:
    """``text`` with each ``<!-- ... -->`` replaced by its line ends. Linear: an
    unclosed ``<!--`` ends the search (no later one can close either)."""
    pieces, pos = [], 0
    while (start := text.find("<!--", pos)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        pieces += [text[pos:start], "\n" * text.count("\n", start, end)]
        pos = end + 3
    pieces.append(text[pos:])
    return "".join(pieces)


def markdown_keys(text: str, quarto: bool = False) -> list[str]:
    """Citation keys of pandoc Markdown, in order, pandoc-crossref (and with
    ``quarto``, Quarto) cross-references left out. Fenced and indented code
    blocks, code spans, HTML comments, math, autolinks, link destinations and
    e-mail addresses cite nothing; YAML front matter (``nocite``) does."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, start = _front_matter(lines)
    body: list[str] = []  # the lines to scan, code blocks blanked
    fence: str | None = None
    in_list = in_code = False
    previous_blank = True
    for line in lines[start:]:
        if fence:
            if re.match(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", line):
                fence = None
            body.append("")
            continue
        blank = not line.strip()
        indented = line.startswith(("    ", "\t"))
        if in_code and (blank or indented):
            body.append("")
            continue
        in_code = False
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            body.append("")
            previous_blank = False
            continue
        if _LIST_ITEM.match(line):
            in_list = True
        elif not blank and not indented:
            in_list = False
        if previous_blank or in_list:  # an example list item: "(@label) text", "@label. text"
            line = _EXAMPLE_ITEM.sub(lambda m: " " * len(m.group()), line)
        if indented and previous_blank and not in_list and not blank:
            in_code = True  # an indented code block
            body.append("")
            continue
        body.append(line)
        previous_blank = blank
    text = _without_html_comments("\n".join(body))
    keys = [k for paragraph in re.split(r"\n[ \t]*\n", text) for k in _inline_keys(paragraph)] + meta
    return [k for k in keys if not (CROSSREF.match(k) or (quarto and QUARTO_CROSSREF.match(k)))]
