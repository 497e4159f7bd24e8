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
from dataclasses import dataclass, field
from pathlib import Path

from citetool.errors import UsageError

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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
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
# then comments, verbatim environments and \verb, which all vanish.
_LATEX_NOISE = re.compile(
    r"(?P<keep>\\[\\%{}])"
    r"|(?P<comment>%[^\n]*\n?[ \t]*)"
    r"|(?P<env>\\begin\s*\{(?P<envname>" + _VERBATIM_ENVS + r")\}.*?(?:\\end\s*\{(?P=envname)\}|\Z))"
    r"|(?P<verb>\\(?:verb|lstinline|mintinline\{[^}]*\})\*?(?P<delim>[^\sa-zA-Z{])(?:(?!(?P=delim)).)*(?P=delim))"
    r"|(?P<verbbrace>\\(?:lstinline|mintinline\{[^}]*\})\{[^}]*\})",
    re.DOTALL,
)
_COMMAND = re.compile(r"\\([A-Za-z]+)(\*?)")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")


def strip_latex_noise(text: str) -> str:
    """The source without comments, verbatim material and what follows \\end{document}."""

    def replace(m: re.Match) -> str:
        if m.group("keep"):
            return m.group("keep")
        if m.group("comment") is not None:
            return ""  # TeX drops the comment, the line end and the next line's leading spaces
        return " "

    text = _LATEX_NOISE.sub(replace, text)
    end = _END_DOCUMENT.search(text)
    return text[:end.start()] if end else text


def _skip_space(text: str, pos: int) -> int:
    """Past spaces and at most one line end (a blank line is a paragraph: TeX stops there)."""
    m = re.compile(r"[ \t]*(?:\n[ \t]*)?").match(text, pos)
    return m.end()


def _group(text: str, pos: int, open_: str, close: str) -> tuple[str, int] | None:
    """The balanced ``open_ ... close`` group starting at ``pos`` (after spaces): (content, end)."""
    pos = _skip_space(text, pos)
    if pos >= len(text) or text[pos] != open_:
        return None
    depth = 0
    for i in range(pos, len(text)):
        ch = text[i]
        if ch == "\\":
            continue
        if ch == open_ and (i == pos or text[i - 1] != "\\"):
            depth += 1
        elif ch == close and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[pos + 1:i], i + 1
    return None


def _optionals(text: str, pos: int, limit: int = 2) -> int:
    """Past up to ``limit`` [..] groups."""
    for _ in range(limit):
        found = _group(text, pos, "[", "]")
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
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _COMMAND.search(text, pos)
        if m is None:
            return out
        name, pos = m.group(1), m.end()
        if name in _SINGLE:
            pos = _optionals(text, pos)
            found = _group(text, pos, "{", "}")
            if found:
                out += [("key", k) for k in _split_keys(found[0])]
                pos = found[1]
        elif name in _VOLUME:
            pos = _optionals(text, pos, 1)
            volume = _group(text, pos, "{", "}")
            if volume:
                pos = _optionals(text, volume[1], 1)
                found = _group(text, pos, "{", "}")
                if found:
                    out += [("key", k) for k in _split_keys(found[0])]
                    pos = found[1]
        elif name in _MULTI:
            for _ in range(2):  # (global prenote)(global postnote)
                found = _group(text, pos, "(", ")")
                if found is None:
                    break
                pos = found[1]
            volume = name.lower().endswith("volcites")
            while True:
                after = _optionals(text, pos, 1 if volume else 2)
                if volume:
                    vol = _group(text, after, "{", "}")
                    if vol is None:
                        break
                    after = _optionals(text, vol[1], 1)
                found = _group(text, after, "{", "}")
                if found is None:
                    break
                out += [("key", k) for k in _split_keys(found[0])]
                pos = found[1]
        elif name in ("input", "include", "subfile", "includeonly"):
            if name == "includeonly":
                continue
            found = _group(text, pos, "{", "}")
            if found:
                out.append(("subfile" if name == "subfile" else name, found[0].strip()))
                pos = found[1]
            elif name == "input":  # TeX's own syntax: \input file
                bare = re.compile(r"[ \t]+([^\s{}\\%]+)").match(text, pos)
                if bare:
                    out.append(("input", bare.group(1)))
                    pos = bare.end()
        elif name in ("import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom"):
            folder = _group(text, pos, "{", "}")
            if folder:
                found = _group(text, folder[1], "{", "}")
                if found:
                    relative = "sub" if name.startswith("sub") else "abs"
                    out.append((f"import-{relative}", folder[0].strip() + "\x00" + found[0].strip()))
                    pos = found[1]


def _tex_file(name: str, *folders: Path) -> Path | None:
    """The file LaTeX would read for ``name`` (``.tex`` added when missing)."""
    for folder in folders:
        for candidate in (folder / name, folder / (name + ".tex")):
            if candidate.is_file():
                return candidate
    return None


def _latex_file(path: Path, root: Path, scan: Scan, seen: set[Path]) -> list[str]:
    """Keys of a LaTeX file and the files it includes, in order."""
    real = path.resolve()
    if real in seen:
        return []
    seen.add(real)
    keys: list[str] = []
    for kind, value in latex_keys(_read(path)):
        if kind == "key":
            keys.append(value)
            continue
        if kind.startswith("import-"):
            folder, name = value.split("\x00")
            base = path.parent if kind == "import-sub" else Path()
            target = _tex_file(name, (base / folder) if not Path(folder).is_absolute() else Path(folder))
            sub_root = target.parent if target else root
        else:
            # \input and \include resolve from the main file's folder (where
            # LaTeX runs); \subfile and nested files also from their own folder.
            folders = (path.parent, root) if kind == "subfile" else (root, path.parent)
            target = _tex_file(value, *folders)
            sub_root = root
        if target is None:
            if not value.lower().endswith((".bbl", ".aux", ".toc", ".sty", ".cls")):
                scan.notes.append(f"{path}: \\{kind.split('-')[0]}{{{value.replace(chr(0), '}{')}}} not found; skipped")
            continue
        keys += _latex_file(target, sub_root, scan, seen)
    return keys


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
    for m in _AUX.finditer(text):
        if m.group("input") is not None:
            out.append(("input", m.group("input")))
        elif m.group("bibtex") is not None:
            out += [("key", k) for k in _split_keys(m.group("bibtex"))]
        else:
            key = m.group("second") if m.group("second") is not None else m.group("first")
            out.append(("key", key.strip()))
    return out


def _aux_file(path: Path, scan: Scan, seen: set[Path]) -> list[str]:
    real = path.resolve()
    if real in seen:
        return []
    seen.add(real)
    keys: list[str] = []
    for kind, value in aux_keys(_read(path)):
        if kind == "key":
            keys.append(value)
        else:
            target = path.parent / value
            if target.is_file():
                keys += _aux_file(target, scan, seen)
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


def _braced_key(text: str, pos: int) -> tuple[str, int] | None:
    """``{...}`` with balanced braces and no space, as pandoc reads ``@{key}``."""
    depth = 0
    for i in range(pos, len(text)):
        ch = text[i]
        if ch.isspace():
            return None
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[pos + 1:i], i + 1
    return None


# Inline material where '@' is no citation: code spans, autolinks, raw HTML
# (comments and tags), math, link destinations, escapes.
_INLINE_NOISE = re.compile(
    r"(?P<escape>\\[!-/:-@\[-`{-~])"
    r"|(?P<code>(?P<ticks>`+).*?(?<!`)(?P=ticks)(?!`))"
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
    for m in _INLINE_NOISE.finditer(text):
        plain.append(text[last:m.start()])
        plain.append(" " * (m.end() - m.start()))
        last = m.end()
    plain.append(text[last:])
    text = "".join(plain)
    pos = 0
    cite_end = -1  # where the last citation ended: an '@' right there follows no word
    while True:
        at = text.find("@", pos)
        if at < 0:
            return keys
        pos = at + 1
        before = text[at - 1] if at > 0 else ""
        if at != cite_end and before and (before.isalnum() or before == "."):
            continue  # e-mail addresses, "e.g.@x": pandoc wants no word right before '@'
        if text.startswith("{", at + 1):
            braced = _braced_key(text, at + 1)
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


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
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

    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return [], end + 1
    except RecursionError:
        raise UsageError("its YAML front matter is nested too deeply to be read") from None
    keys: list[str] = []
    # Depth first, in order, without recursion; an alias that holds itself
    # (``nocite: &a [*a]``) is a loop pandoc cannot read either.
    stack, open_ = [(data, False)], set()
    while stack:
        value, leaving = stack.pop()
        if leaving:
            open_.discard(id(value))
        elif isinstance(value, str):
            keys.extend(_inline_keys(value))
        elif isinstance(value, (dict, list)):
            if id(value) in open_:
                raise UsageError("its YAML front matter holds itself (an alias inside its own anchor)")
            open_.add(id(value))
            children = ([v for k, v in value.items() if not (isinstance(k, str) and k.endswith("_"))]  # pandoc skips keys ending in _
                        if isinstance(value, dict) else value)
            stack.append((value, True))
            stack += [(v, False) for v in reversed(children)]
    return keys, end + 1


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
    text = _HTML_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), "\n".join(body))
    keys = [k for paragraph in re.split(r"\n[ \t]*\n", text) for k in _inline_keys(paragraph)] + meta
    return [k for k in keys if not (CROSSREF.match(k) or (quarto and QUARTO_CROSSREF.match(k)))]
