"""Text as LaTeX for BibTeX and biblatex files: the specials escaped (braces always
as ``\\textbraceleft{}``/``\\textbraceright{}``, which bibtex and biber count even
after a backslash), each non-ASCII character written as the consumers read it
(LaTeX for what LaTeX has a name for, UTF-8 for what a reader misreads, a
stand-in pdflatex can always typeset), and the ``@preamble`` that makes pdflatex
with LaTeX's defaults (OT1 or T1) typeset every UTF-8 character of the file.
"""

from __future__ import annotations

import codecs
import itertools
import re
import threading
import unicodedata
from urllib.parse import quote

from citetool.formats.pdflatex_glyphs import (
    LUATEX_REPLACEMENT_CHARACTER,
    MARKER,
    drawn_letter,
    fallback_form,
    known_to_utf8,
    needs_a_package,
    provisions,
    written_as_utf8,
)
from citetool.text import one_line

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


# How each character is written. CLASSIC: plain.bst + pdflatex (LaTeX for
# accented letters); BIBLATEX: UTF-8 for the Latin letters pdflatex's utf8 input
# reads, LaTeX for the rest; UNICODE: UTF-8 as is (biber + LuaLaTeX, pandoc).
CLASSIC, BIBLATEX, UNICODE = "classic", "biblatex", "unicode"


# Where pylatexenc's choice is misread by a consumer, this spelling is read by
# all of pdflatex+bibtex, biber, pandoc and citation-js (README: "How characters
# are written"). Everything else comes from pylatexenc's tables.
OVERRIDES = {
    "\u2013": "--",   # pylatexenc: {\textendash}, which pandoc drops ("PREDATORPREY")
    "\u2014": "---",  # pylatexenc: {\textemdash}, same
    "\u2010": "\u2010",  # pylatexenc: "-", which loses the Unicode hyphen; pdflatex reads U+2010 itself
}


# pylatexenc answers that pandoc's BibTeX reader drops: text-symbol commands
# ({\textdegree}, {\texttrademark}...) and the letters {\DJ} {\TH} {\dh}...
# These characters are written as UTF-8, which pdflatex's utf8 input maps to
# the very same commands, and which pandoc, citation-js and biber read as is.
_DROPPED_BY_PANDOC = re.compile(r"\{\\(?:text[a-z]+|DH|DJ|TH|dh|dj|th|NG|ng)\}")


# {\'\i}: pandoc and citation-js read a dotless i plus an accent ("ı́"), not í.
_DOTLESS_IN_ACCENT = re.compile(r"\\([`'^\"~=.uvHckdbr])\s*(?:\{\\([ij])\}|\\([ij])\b)")


_encoder = None


_char_latex: dict[tuple[str, str], str] = {}  # one answer per character and mode, remembered


def _pylatexenc(ch: str) -> str:
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
    return _encoder.unicode_to_latex(ch)


_accent_macros: dict[str, str] | None = None


def _accent_macro(mark: str) -> str | None:
    """The LaTeX text accent for a combining mark (pylatexenc's accent table)."""
    global _accent_macros
    if _accent_macros is None:
        from pylatexenc.latex2text._defaultspecs import unicode_accents_list

        _accent_macros = {}
        for macro, combining in unicode_accents_list:
            if len(macro) == 1:  # the text-mode accents: \' \` \^ \~ \d \u \v...
                _accent_macros.setdefault(combining, macro)
    return _accent_macros.get(mark)


def _from_accents(ch: str) -> str | None:
    r"""A letter pylatexenc has no entry for, built from its decomposition:
    ễ = e + circumflex + tilde -> {\~{\^{e}}} (Vietnamese stacks two accents)."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha()) or not marks:
        return None
    latex = base
    for mark in marks:
        macro = _accent_macro(mark)
        if macro is None:
            return None
        latex = "\\" + macro + "{" + latex + "}"
    return "{" + latex + "}"


def latex_for(ch: str) -> str:
    """How a non-ASCII character is written in LaTeX for every consumer: the
    override table, else pylatexenc's form (or one built from its accent
    table), adjusted where pandoc or citation-js misread it; the character
    itself (UTF-8) when no LaTeX spelling survives them all."""
    if ch in OVERRIDES:
        return OVERRIDES[ch]
    latex = _pylatexenc(ch)
    if latex == ch:
        latex = _from_accents(ch) or ch
    latex = _DOTLESS_IN_ACCENT.sub(lambda m: "\\" + m.group(1) + "{" + (m.group(2) or m.group(3)) + "}", latex)
    if _DROPPED_BY_PANDOC.fullmatch(latex) or ("\\ensuremath" in latex and _utf8_for_pdflatex(ch)):
        return ch  # pdflatex's utf8 input knows it (± ·), and every other reader reads it
    return latex


def _utf8_for_pdflatex(ch: str) -> bool:
    """Characters a UTF-8 biblatex file may carry as they are: pdflatex's utf8
    input handles Latin letters with one accent and common punctuation, not
    Vietnamese stacked accents, Greek or math."""
    code = ord(ch)
    if 0x2010 <= code <= 0x2027 or 0xA0 <= code <= 0xBF:
        return True
    if not unicodedata.name(ch, "").startswith("LATIN"):
        return False
    return len(unicodedata.normalize("NFD", ch)) <= 2 and code <= 0x24F


# Greek, and what LaTeX writes only in math (δ, ≤, ∞, 𝙰): pandoc keeps {$\delta$}
# as TeX source and citation-js misreads {\ensuremath{...}}, while pdflatex
# needs math. Such a character is written as itself (UTF-8, braced so no style
# re-cases it), and the file's @preamble tells pdflatex's utf8 input its
# LaTeX form; bibtex and biber copy @preamble into the .bbl, pandoc and
# citation-js skip it, LuaLaTeX and XeLaTeX read the character itself.
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")


_MATH_ONLY = re.compile(r"\\(?:acute|grave|ddot|tilde|bar|breve|check|dot|hat|vec|mathring)(?![A-Za-z])")


_declarations: dict[str, str | None] = {}


def declaration(ch: str) -> str | None:
    """pdflatex's form of ``ch`` when ``ch`` is written as UTF-8 and declared
    in @preamble (Greek, math), else None."""
    if ch not in _declarations:
        latex, form = _pylatexenc(ch), None
        if _utf8_for_pdflatex(ch):  # ± ·: pdflatex's utf8 input defines them already
            pass
        elif latex != ch and needs_a_package(ch):  # \\mathbb{C}: a stand-in instead
            form = fallback_form(ch, _accent_macro)
        elif latex != ch and "\\ensuremath" in latex:
            form = latex
        elif latex != ch and _GREEK.match(ch):  # Ε is E, ό is {\'{o}}, ΐ needs math
            form = "\\ensuremath{" + latex + "}" if _MATH_ONLY.search(latex) else latex
        _declarations[ch] = _unbraced(form) if form else None
    return _declarations[ch]


def _unbraced(form: str) -> str:
    """``{\\~{\\^{e}}}`` without its outer pair of braces (a definition's body)."""
    return form[1:-1] if form.startswith("{") and _braces_balanced(form[1:-1]) else form


def _biblatex_declaration(ch: str) -> str | None:
    """biblatex: a Latin letter pdflatex's UTF-8 input does not know (ễ ặ Ị)
    is written as itself and declared with its LaTeX form ({\\~{\\^{e}}} for ễ).
    biber would turn the LaTeX form into UTF-8 in the ``.bbl`` anyway, and
    garbles a stacked one (\\u{\\d{a}} became a combining breve before ạ)."""
    if _utf8_for_pdflatex(ch) or not unicodedata.name(ch, "").startswith("LATIN"):
        return None
    latex = latex_for(ch)
    return _unbraced(latex) if latex.startswith("{\\") and _unbraced(latex) != latex else None


def char_out(ch: str, mode: str) -> str:
    out = _char_latex.get((ch, mode))
    if out is None:
        if mode == BIBLATEX and ch == "\ufffd":
            out = REPLACEMENT_CHARACTER  # never in a .bbl as itself: LuaTeX stops on it
        elif mode == BIBLATEX and _utf8_for_pdflatex(ch):
            out = ch
        elif declaration(ch) is not None:
            out = "{" + ch + "}"
        elif mode == BIBLATEX and _biblatex_declaration(ch) is not None:
            out = ch
        else:
            out = latex_for(ch)
            if out != ch and (written_as_utf8(ch, out) or needs_a_package(ch)):
                out = ch  # pandoc or citation-js misread its LaTeX; pdflatex gets it in @preamble
        _char_latex[(ch, mode)] = out
    return out


def _pdflatex_form(ch: str) -> str:
    """What pdflatex typesets for ``ch``, written as UTF-8, which its utf8 input
    does not know (:mod:`citetool.formats.pdflatex_glyphs`): the letter drawn
    from its marks (ứ), pylatexenc's LaTeX ({\\quad}), or a stand-in."""
    form = drawn_letter(ch, _accent_macro) or _from_accents(ch)
    if form is None:
        latex = _pylatexenc(ch)
        if latex != ch and "\\CYR" not in latex and "\\cyr" not in latex and latex.strip("{}") \
                and not needs_a_package(ch):
            form = latex  # a space ({\\quad}), a prime ({'}): pandoc misreads it, pdflatex does not
    return _unbraced(form) if form else fallback_form(ch, _accent_macro)


# biblatex: U+FFFD (Crossref's mark of a character lost upstream) as a command the
# @preamble defines. biber copies a raw U+FFFD into the .bbl, where LuaTeX stops
# on it ("String contains an invalid utf-8 sequence") before any @preamble can
# act: biblatex runs the @preamble only after reading the whole .bbl, but the
# bibliography is typeset later, when the command is defined.
REPLACEMENT_CHARACTER = "\\citetoolreplacementcharacter{}"  # not braced: biber makes "familyi={}\\bibinitperiod}" of "{\\cmd}"
_REPLACEMENT_DEFINED = ("\\providecommand\\citetoolreplacementcharacter{\\ifdefined\\directlua \\char65533\\relax"
                        " \\else\\ifdefined\\XeTeXrevision \\char65533\\relax \\else [U+FFFD]\\fi\\fi}")


def preamble(entries: list[str], mode: str = CLASSIC) -> str:
    """The @preamble that declares, for pdflatex, the characters of ``entries``
    written as UTF-8 (:func:`declaration`); "" when there are none. Each is
    defined only where the document has not defined it (babel's Greek, say),
    and only under pdfTeX: LuaLaTeX and XeLaTeX read the characters themselves.

    biblatex: the Latin letters pdflatex's UTF-8 input does not know
    (Vietnamese ễ) are declared too (:func:`_biblatex_declaration`)."""
    chars = _non_ascii_characters(entries)
    declared = {ch: form for ch in chars
                if (form := declaration(ch) or (_biblatex_declaration(ch) if mode == BIBLATEX else None)
                    or (None if known_to_utf8(ch) else _pdflatex_form(ch)))}
    borrowed = provisions(chars)
    replaced = mode == BIBLATEX and any(REPLACEMENT_CHARACTER in entry for entry in entries)
    if not declared and not borrowed and not replaced:
        return ""
    lines = ['@preamble{ "' + (LUATEX_REPLACEMENT_CHARACTER + "\n  " if "\ufffd" in chars else "")
             + (_REPLACEMENT_DEFINED + "\n  " if replaced else "")
             + '\\ifdefined\\XeTeXrevision\\else \\ifdefined\\directlua\\else']
    if any("\\citetoolglyph" in form for form in declared.values()):
        lines.append("  " + MARKER)
    lines.extend("  " + line for line in borrowed)
    for ch, form in sorted(declared.items()):
        name = "u8:\\detokenize{" + _as_read_by_pdftex(ch) + "}"
        lines.append(f"  \\ifcsname {name}\\endcsname\\else \\expandafter\\gdef\\csname {name}\\endcsname{{{form}}}\\fi")
    lines.append('  \\fi\\fi" }\n')
    return "\n".join(lines)


def _as_read_by_pdftex(ch: str) -> str:
    """``ch`` as pdfTeX reads it in ``\\detokenize``: itself, but U+FFFD as its
    UTF-8 bytes in TeX's ``^^`` notation (the same three characters to pdfTeX).
    LuaTeX stops on U+FFFD wherever it reads the character itself, even in a
    branch it skips; a biblatex ``@preamble`` is read with the whole ``.bbl``,
    before its first line could have LuaTeX read U+FFFD otherwise."""
    if ch != "\ufffd":
        return ch
    return "".join(f"^^{byte:02x}" for byte in ch.encode("utf-8"))


_collected = threading.local()  # the characters _non_ascii_characters is collecting, per thread


def _collect_run(exc: UnicodeEncodeError) -> tuple[str, int]:
    _collected.chars.update(exc.object[exc.start:exc.end])
    return "", exc.end


codecs.register_error("citetool.collect-non-ascii", _collect_run)


def _non_ascii_characters(texts: list[str]) -> set[str]:
    """Every non-ASCII character in ``texts``, found by Python's ASCII encoder
    (in C; a regular expression took a tenth of a whole export)."""
    _collected.chars = found = set()
    for text in texts:
        if not text.isascii():
            text.encode("ascii", "citetool.collect-non-ascii")
    return found


def _braces_balanced(text: str) -> bool:
    depth = 0
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# What makes escape() do more than strip spaces: anything but printable ASCII,
# a LaTeX special (\\ { } & % $ # _ ~ ^: 5C 7B 7D 26 25 24 23 5F 7E 5E), a backquote (60), and the
# pairs checked after it: a double space (one_line), a TeX ligature.
_NOT_PLAIN = re.compile(r"[^\x20-\x22\x27-\x5b\x5d\x61-\x7a\x7c]")


# The same characters as bytes, for a long text: the bytes translate() deletes
# leaves nothing of a plain text (in C, a table lookup a byte: an abstract is
# tested five times faster than with the pattern, whose search costs more a character).
_PLAIN_BYTES = bytes(code for code in range(128) if _NOT_PLAIN.match(chr(code)) is None)


_LONG_TEXT = 48  # characters: from here the bytes' test is the faster


def is_plain(text: str) -> bool:
    """Whether :func:`escape` (and one_line) write ``text`` as it is, but for its
    spaces at either end: printable ASCII with no LaTeX special, no double space
    and no TeX ligature ("``": a backquote is not plain)."""
    return ((_NOT_PLAIN.search(text) is None if len(text) < _LONG_TEXT
             else text.isascii() and not text.encode().translate(None, _PLAIN_BYTES))
            and "  " not in text and "--" not in text and "''" not in text)


def escape(text: str, mode: str) -> str:
    """LaTeX-escape ``text`` for a BibTeX field value (whitespace collapsed).

    ``mode``: CLASSIC writes every non-ASCII character LaTeX has a name for as
    LaTeX (:func:`latex_for`); BIBLATEX keeps what pdflatex reads as UTF-8;
    UNICODE keeps every character as it is (only LaTeX specials are escaped).
    """
    if is_plain(text):
        return text.strip(" ")  # most values
    text = one_line(text)  # no-break spaces survive (as ~ in classic BibTeX)
    if "\\" in text or "{" in text or "}" in text or "~" in text or "^" in text:
        specials = _SPECIALS
        if ("{" in text or "}" in text) and _braces_balanced(text):
            # \{ \} count as braces for bibtex and biber, so only a balanced pair
            # may use them; pandoc and citation-js read them, not \textbraceleft.
            specials = {**_SPECIALS, "{": "\\{", "}": "\\}"}
        text = _SPECIAL_RE.sub(lambda m: specials[m.group(0)], text)
    else:  # (no scan of a long text with the pattern: each of these forms only adds a backslash)
        for special in "&%$#_":
            if special in text:
                text = text.replace(special, _SPECIALS[special])
    if "`" in text:
        # TeX prints a backquote as an opening quote and pandoc reads it as one
        # ("Lavrent`yeva"); a grave accent on nothing is read as the backquote
        # itself, and TeX prints it as a grave. biber rewrites the braced form
        # {\`{}} into a broken {\`}, and keeps \`{} as it is: so biblatex and
        # --unicode (read by biber) write \`{}, classic BibTeX its special character.
        text = text.replace("`", "{\\`{}}" if mode == CLASSIC else "\\`{}")
    if "--" in text or "``" in text or "''" in text:
        # TeX ligatures would turn these into dashes and quotes: break every pair
        # ("---" is three hyphens, -{}-{}-, not a hyphen and an en dash).
        text = _LIGATURE_PAIR.sub(r"\1{}", text)
    if mode == UNICODE or text.isascii():
        return text
    # Combine a letter with its combining marks (e + U+0302 + U+0303 is one
    # LaTeX accent), but only there: NFC of the whole text would also replace
    # characters with a singleton decomposition (U+FA15 -> U+51DE).
    # (Text whose NFC is itself has nothing to combine, and is known at once.)
    if not unicodedata.is_normalized("NFC", text):
        text = _COMBINING_RUN.sub(lambda m: unicodedata.normalize("NFC", m.group(0)), text)
    return encode_non_ascii(text, mode)


# A TeX ligature: two of - ` ' side by side.
_LIGATURE_PAIR = re.compile(r"([-`'])(?=\1)")


_COMBINING_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"


_COMBINING_RUN = re.compile(f".[{_COMBINING_MARKS}]+", re.S)


_LIGATURE_CHARS = "-`'"


_run_forms: dict[tuple[str, str], str] = {}  # a run's form, by (run, mode), remembered


def encode_non_ascii(text: str, mode: str) -> str:
    """``text`` with each run of non-ASCII characters in its LaTeX form
    (:func:`_run_form`), and no TeX ligature formed across a run and its
    neighbour ("-" before an en dash written "--" would read as an em dash):
    such neighbours are parted by {}. The runs are found by Python's ASCII
    encoder, which hands each one to :func:`_run_in_latex` (a regular
    expression took ten times as long over an abstract)."""
    return text.encode("ascii", _ERROR_HANDLERS[mode]).decode("utf-8")


def _run_in_latex(exc: UnicodeEncodeError, mode: str) -> tuple[bytes, int]:
    text, start, end = exc.object, exc.start, exc.end  # the encoder gives a whole run at once
    run = text[start:end]
    form = _run_forms.get((run, mode)) or _run_form(run, mode)
    if form[0] in _LIGATURE_CHARS and text[start - 1:start] == form[0]:
        form = "{}" + form
    if form[-1] in _LIGATURE_CHARS and text[end:end + 1] == form[-1]:
        form += "{}"
    return form.encode("utf-8"), end


def _register_error_handlers() -> dict[str, str]:
    names = {}
    for mode in (CLASSIC, BIBLATEX):
        names[mode] = f"citetool.latex-{mode}"
        codecs.register_error(names[mode], lambda exc, mode=mode: _run_in_latex(exc, mode))
    return names


_ERROR_HANDLERS = _register_error_handlers()


def _run_form(run: str, mode: str) -> str:
    """A run of non-ASCII characters in LaTeX, no TeX ligature formed between
    two characters' forms. Neighbours written as declared UTF-8
    ({Ελληνικά}, not {Ε}{λ}...) share one pair of braces."""
    forms = [char_out(c, mode) for c in run]
    if len(forms) > 1 and mode != UNICODE:
        forms = _join_declared(run, forms)
    out = [forms[0]]
    for before, piece in itertools.pairwise(forms):
        if before[-1] == piece[0] and piece[0] in _LIGATURE_CHARS:
            out.append("{}")
        out.append(piece)
    form = "".join(out)
    if len(run) <= REMEMBERED_LENGTH:  # ’ – é Ελληνικά: runs that come back (not a CJK abstract)
        if len(_run_forms) > 1 << 16:
            _run_forms.clear()  # a bound on what is remembered
        _run_forms[(run, mode)] = form
    return form


REMEMBERED_LENGTH = 24  # characters: the longest run, or title word, remembered


def _join_declared(chars: str, forms: list[str]) -> list[str]:
    joined: list[str] = []
    for ch, form in zip(chars, forms, strict=True):
        if form == "{" + ch + "}" and joined and joined[-1].endswith("}") and declaration(joined[-1][-2]):
            joined[-1] = joined[-1][:-1] + ch + "}"
        else:
            joined.append(form)
    return joined


_BREAKS_VERBATIM = re.compile(r"[{}\\\ufffd]")  # U+FFFD too: LuaTeX stops on it, percent-encoded it is the same link


def verbatim(text: str) -> str:
    """url/doi: raw, except what would break the field: braces, backslashes, spaces
    (and U+FFFD, on which LuaTeX stops), percent-encoded."""
    if (text.isprintable() and " " not in text and "{" not in text and "}" not in text and "\\" not in text
            and "\ufffd" not in text):
        return text  # (printable and no space: no whitespace at all) most links
    text = _WS.sub("", text)
    return _BREAKS_VERBATIM.sub(lambda m: quote(m.group(0)), text)


def entry_mode(biblatex: bool, unicode: bool = False) -> str:
    if unicode:
        return UNICODE
    return BIBLATEX if biblatex else CLASSIC
