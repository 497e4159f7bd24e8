r"""What pdflatex, with LaTeX's defaults, makes of a character written as UTF-8,
and the ``@preamble`` lines that let it typeset every other one.

A user's document is often ``\documentclass{article}`` and nothing else: the
OT1 font encoding, and LaTeX's utf8 input, which knows the characters in
:data:`_KNOWN_RANGES` (measured with TeX Live 2022: ``\ifcsname u8:…`` over
every code point). Two things stop such a build, and both are mended in the
file's ``@preamble``, which bibtex and biber copy into the ``.bbl``:

* a character the utf8 input knows, as a command OT1 lacks (``„`` is
  ``\quotedblbase``, ``ą`` is ``\k a``, ``Đ`` is ``\DJ``): "Command
  \quotedblbase unavailable in encoding OT1". LaTeX's own means borrows the
  glyph from T1 (whose definitions every LaTeX format holds):
  ``\ProvideTextCommandDefault{\DJ}{\UseTextSymbol{T1}\DJ}``, which T1 (or
  any encoding with the glyph) leaves alone;
* a character it does not know (Cyrillic, CJK, Arabic, Vietnamese ứ, an em
  space): "Unicode character … not set up for use with LaTeX". It is defined,
  only where the document has not defined it itself (``\usepackage[T2A]{fontenc}``
  or babel's Russian define Cyrillic, and then win): as its LaTeX form where
  the default fonts have one (``\quad`` for an em space, accents built from
  the letter's decomposition), else as ``\citetoolglyph{0414}``, which prints
  the code point ("[U+0414]") and which a document may redefine. pdflatex's
  default fonts have no Cyrillic, CJK or Arabic glyph; LuaLaTeX and XeLaTeX
  skip all of this and typeset the characters themselves.
"""

from __future__ import annotations

import re
import unicodedata

# Code points LaTeX's utf8 input defines in \documentclass{article} (hex ranges).
_KNOWN_RANGES = (
    "00A0-0125 0128-0137 0139-013E 0141-0148 014A-0165 0168-017E 0192 01C4-01D4 01E2-01E3 01E6-01EB "
    "01F0 01F4-01F5 0218-021B 0232-0233 0237 02C6-02C7 02D8-02D9 02DB-02DD 0E3F 1E02-1E03 1E0D "
    "1E1E-1E21 1E25 1E30-1E31 1E37 1E43 1E45 1E47 1E5B 1E63 1E6D 1E8E-1E91 1E9E 1EF2-1EF3 200C "
    "2010-2016 2018-201A 201C-201E 2020-2022 2026 2030-2031 2039-203B 203D 2044 204E 2052 20A1 20A4 "
    "20A6 20A9 20AB-20AC 20B1 2103 2116-2117 211E 2120 2122 2126-2127 212E 2190-2193 2329-232A "
    "2422-2423 25E6 25EF 266A 27E8-27E9 3008-3009 FB00-FB06 FEFF"
)


def _ranges(spec: str) -> frozenset[int]:
    codes: set[int] = set()
    for part in spec.split():
        first, _, last = part.partition("-")
        codes.update(range(int(first, 16), int(last or first, 16) + 1))
    return frozenset(codes)


_KNOWN = _ranges(_KNOWN_RANGES)

# Characters whose pylatexenc spelling needs a package (amssymb's \\mathbb{C},
# \\textfrac, amsmath's \\nobreakdash): measured, every code point through
# pdflatex in \\documentclass{article}; they get the stand-in instead.
_NEEDS_A_PACKAGE = _ranges(
    "0149 0195 019E 0259 025B 0278 0294 029E 03D2 03F0 03F6 2011 2035 2060 2102 210B-210D 2110-2112 2115 "
    "2119-211D 2124 2128 212C-212D 2130-2131 2133 2136-2138 2153-215E 219A-219E 21A0 21A2-21A3 21AB-21AE "
    "21B0-21B1 21B6-21B7 21BA-21BB 21BE-21BF 21C2-21CB 21CD-21CF 21DA-21DB 21DD 21F5 2201 2204-2205 220E "
    "2214 2216 221F 2221-2222 2224 2226 222C-222D 222F-2231 2234-2235 223B 223D-223E 2246 224A-224C "
    "224E-224F 2251-2253 2256-2257 2259 225B-225C 2266-2269 226C 226E-2279 227E-2281 2288-228B 228F-2290 "
    "229A-229B 229D-22A1 22A7-22AF 22B2-22BB 22BE 22C7 22C9-22D4 22D6-22DB 22DE-22DF 22E6-22ED 22F0 "
    "2305-2306 2315 231C-231F 25A0-25A1 25AA 25B4-25B5 25B8 25BE-25BF 25C2 25CA 2669 266D-266F 27FF 29EB "
    "2A0F 2A16 2A7D-2A7E 2A85-2A8C 2A95-2A96 2AB5-2ABA 2AC5-2AC6 2ACB-2ACC 1D468-1D49C 1D49E-1D49F 1D4A2 "
    "1D4A5-1D4A6 1D4A9-1D4AC 1D4AE-1D4B9 1D4BB 1D4BD-1D4C3 1D4C5-1D4CF 1D504-1D505 1D507-1D50A "
    "1D50D-1D514 1D516-1D51C 1D51E-1D539 1D53B-1D53E 1D540-1D544 1D546 1D54A-1D550 1D552-1D56B 1D7D8-1D7E1"
)


def needs_a_package(ch: str) -> bool:
    """Whether pylatexenc's LaTeX for ``ch`` fails in a plain document."""
    return ord(ch) in _NEEDS_A_PACKAGE

# Characters the utf8 input knows as a command only T1 has (measured: each
# stops pdflatex in OT1 with "unavailable in encoding OT1"), by that command.
T1_ONLY = {
    "\u00ab": "guillemetleft", "\u00bb": "guillemetright", "\u2039": "guilsinglleft",
    "\u203a": "guilsinglright", "\u201a": "quotesinglbase", "\u201e": "quotedblbase",
    "\u00d0": "DH", "\u00f0": "dh", "\u00de": "TH", "\u00fe": "th", "\u0110": "DJ", "\u0111": "dj",
    "\u014a": "NG", "\u014b": "ng",
    **{ch: "k" for ch in "\u0104\u0105\u0118\u0119\u012e\u012f\u0172\u0173\u01ea\u01eb\u02db"},
}
_T1_ACCENTS = {"k"}


def known_to_utf8(ch: str) -> bool:
    """Whether LaTeX's utf8 input defines ``ch`` in a plain document."""
    return ord(ch) in _KNOWN


# Characters written as UTF-8 in every dialect, because pandoc or citation-js
# misread every LaTeX spelling of them: spaces of other widths ({\quad} runs
# "7.4 Active" together), format characters (a soft hyphen's \- is dropped),
# modifier letters and primes (U+02BC and U+2032 read as '), the T1-only
# quotes and letters ({\quotedblbase} is lost), and Cyrillic (pylatexenc's
# {\CYRD} needs the T2A encoding: LuaLaTeX stops, biber breaks the initials,
# pandoc reads nothing).
_MISREAD_AS_LATEX = re.compile(r"[\u02b0-\u02ff\u2032-\u2037\u2057]")
_OTHER_ENCODING = re.compile(r"\\(?:CYR|cyr)")


def written_as_utf8(ch: str, latex: str) -> bool:
    """Whether ``ch`` (whose LaTeX spelling is ``latex``) is written as itself."""
    if ch in T1_ONLY or _MISREAD_AS_LATEX.match(ch):
        return True
    category = unicodedata.category(ch)
    if (category == "Zs" and ch != "\u00a0") or category == "Cf":
        return True
    return _OTHER_ENCODING.search(latex) is not None


def provisions(chars: set[str]) -> list[str]:
    """The ``\\ProvideTextCommandDefault`` lines that borrow, for OT1, the T1
    glyphs of the T1-only characters among ``chars``."""
    commands = sorted({T1_ONLY[ch] for ch in chars if ch in T1_ONLY})
    return [f"\\ProvideTextCommandDefault{{\\{c}}}{{\\UseText{'Accent' if c in _T1_ACCENTS else 'Symbol'}{{T1}}\\{c}}}"
            for c in commands]


MARKER = "\\providecommand\\citetoolglyph[1]{[U+#1]}"

# Marks the default fonts have no accent for, drawn: the horn of ơ ư (Vietnamese)
# as a raised comma after the letter, the hook above (ả) as a small raised "?"
# without its dot... approximated by a raised comma over the letter.
_DRAWN_MARKS = {
    "\u031b": lambda base: base + "\\kern-.12em\\raisebox{.45ex}{\\tiny,}",
    "\u0309": lambda base: "\\ooalign{" + base + "\\cr\\hidewidth\\raisebox{.75ex}{\\tiny\\textquoteright}\\hidewidth\\cr}",
}


def drawn_letter(ch: str, accent_macro) -> str | None:
    """A Latin letter with marks the default fonts lack (ứ: u + horn + acute),
    built from LaTeX accents (``accent_macro``: combining mark -> macro) and
    drawn marks; None when some mark is neither."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha()) or not any(m in _DRAWN_MARKS for m in marks):
        return None
    latex, drawn = base, []
    for mark in marks:
        if mark in _DRAWN_MARKS:
            drawn.append(_DRAWN_MARKS[mark])
            continue
        macro = accent_macro(mark)
        if macro is None:
            return None
        latex = "\\" + macro + "{" + latex + "}"
    for draw in drawn:
        latex = draw(latex)
    return latex


def fallback_form(ch: str, accent_macro) -> str:
    """pdflatex's form of a character the default fonts cannot typeset:
    nothing for an invisible format character, an accent on nothing for a
    combining mark standing alone, else the code point (``\\citetoolglyph``)."""
    if unicodedata.category(ch) == "Cf":
        return "\\relax"
    if unicodedata.combining(ch) and accent_macro(ch):
        return "\\" + accent_macro(ch) + "{}"
    return f"\\citetoolglyph{{{ord(ch):04X}}}"


# LuaTeX stops on U+FFFD in its input ("String contains an invalid utf-8
# sequence": it uses that character for bytes it cannot read), and Crossref
# serves it where a publisher's character was already lost. Under LuaTeX the
# @preamble has each later line read with it in \\char form: every line of
# bibtex's .bbl, none of biber's (biblatex runs the @preamble after reading
# the whole .bbl; docs/formats.md, known limits).
LUATEX_REPLACEMENT_CHARACTER = (
    "\\ifdefined\\directlua \\ifdefined\\citetoolfffd\\else \\gdef\\citetoolfffd{}"
    "\\directlua{luatexbase.add_to_callback('process_input_buffer', function(line) return"
    " (line:gsub('\\string\\239\\string\\191\\string\\189', '\\string\\\\char65533\\string\\\\relax '))"
    " end, 'citetool.fffd')}\\fi\\fi"
)
