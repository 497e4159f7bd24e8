"""BibTeX (classic: ASCII with LaTeX escapes, for bibtex + .bst styles) and
biblatex (UTF-8, ``date``, ``journaltitle``, ``@online``/``@dataset``/``@report``).

What the real consumers demand, and how this module meets it:

* LaTeX specials ``& % $ # _ { } ~ ^ \\`` are escaped; braces always as
  ``\\textbraceleft{}``/``\\textbraceright{}`` because bibtex and biber count
  braces even after a backslash.
* Classic output is ASCII: non-ASCII letters become LaTeX (``{\\"U}nal``) via
  pylatexenc; characters LaTeX has no name for (CJK, emoji), and those whose
  LaTeX a reader misreads (Cyrillic, odd spaces, „), are kept as UTF-8 rather
  than lost; Greek and math are kept as UTF-8 too. One ``@preamble``
  (:func:`preamble`) makes pdflatex with LaTeX's defaults (OT1 or T1) typeset
  every UTF-8 character of the file (:mod:`citetool.formats.pdflatex_glyphs`).
* ``url``, ``doi`` and ``eprint`` are verbatim for biblatex: never escaped.
* Capitals a style must not lowercase are protected with braces (``{S-400}``).
* Each entry gets the type for its kind of work when the fields that type
  requires are present, else ``@misc``, so no consumer warns of a missing field.
"""

from __future__ import annotations

import codecs
import itertools
import re
import threading
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import quote

from citetool.formats.bibtex_written_back import alias_records, written_back
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
from citetool.identifiers import doi_url, isbn13
from citetool.record import (
    META,
    Record,
    date_parts,
    date_text,
    edtf_text,
    first_value,
    is_organisation,
    names,
    page_range,
    relation_notes,
    repec_handle,
    repec_link,
)
from citetool.text import one_line

if TYPE_CHECKING:
    from citetool.formats.entry_cache import EntryCache

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

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


def _char_out(ch: str, mode: str) -> str:
    out = _char_latex.get((ch, mode))
    if out is None:
        if mode == BIBLATEX and _utf8_for_pdflatex(ch):
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
    if not declared and not borrowed:
        return ""
    lines = ['@preamble{ "' + (LUATEX_REPLACEMENT_CHARACTER + "\n  " if "\ufffd" in chars else "")
             + '\\ifdefined\\XeTeXrevision\\else \\ifdefined\\directlua\\else']
    if any("\\citetoolglyph" in form for form in declared.values()):
        lines.append("  " + MARKER)
    lines.extend("  " + line for line in borrowed)
    for ch, form in sorted(declared.items()):
        name = "u8:\\detokenize{" + ch + "}"
        lines.append(f"  \\ifcsname {name}\\endcsname\\else \\expandafter\\gdef\\csname {name}\\endcsname{{{form}}}\\fi")
    lines.append('  \\fi\\fi" }\n')
    return "\n".join(lines)


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


def escape(text: str, mode: str) -> str:
    """LaTeX-escape ``text`` for a BibTeX field value (whitespace collapsed).

    ``mode``: CLASSIC writes every non-ASCII character LaTeX has a name for as
    LaTeX (:func:`latex_for`); BIBLATEX keeps what pdflatex reads as UTF-8;
    UNICODE keeps every character as it is (only LaTeX specials are escaped).
    """
    if (_NOT_PLAIN.search(text) is None and "  " not in text and "--" not in text
            and "``" not in text and "''" not in text):
        return text.strip(" ")  # printable ASCII with nothing to escape: most values
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
    if "`" in text and mode == CLASSIC:
        # TeX prints a backquote as an opening quote and pandoc reads it as one
        # ("Lavrent`yeva"); a grave accent on nothing is read as the backquote
        # itself. (biber rewrites that into a broken {\`}: biblatex keeps "`".)
        text = text.replace("`", "{\\`{}}")
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
    return _encode_non_ascii(text, mode)


# A TeX ligature: two of - ` ' side by side.
_LIGATURE_PAIR = re.compile(r"([-`'])(?=\1)")
_COMBINING_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_COMBINING_RUN = re.compile(f".[{_COMBINING_MARKS}]+", re.S)


_LIGATURE_CHARS = "-`'"
_run_forms: dict[tuple[str, str], str] = {}  # a run's form, by (run, mode), remembered


def _encode_non_ascii(text: str, mode: str) -> str:
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
    forms = [_char_out(c, mode) for c in run]
    if len(forms) > 1 and mode != UNICODE:
        forms = _join_declared(run, forms)
    out = [forms[0]]
    for before, piece in itertools.pairwise(forms):
        if before[-1] == piece[0] and piece[0] in _LIGATURE_CHARS:
            out.append("{}")
        out.append(piece)
    form = "".join(out)
    if len(run) <= _REMEMBERED_LENGTH:  # ’ – é Ελληνικά: runs that come back (not a CJK abstract)
        if len(_run_forms) > 1 << 16:
            _run_forms.clear()  # a bound on what is remembered
        _run_forms[(run, mode)] = form
    return form


_REMEMBERED_LENGTH = 24  # characters: the longest run, or title word, remembered


def _join_declared(chars: str, forms: list[str]) -> list[str]:
    joined: list[str] = []
    for ch, form in zip(chars, forms, strict=True):
        if form == "{" + ch + "}" and joined and joined[-1].endswith("}") and declaration(joined[-1][-2]):
            joined[-1] = joined[-1][:-1] + ch + "}"
        else:
            joined.append(form)
    return joined


_BREAKS_VERBATIM = re.compile(r"[{}\\]")


def _verbatim(text: str) -> str:
    """url/doi: raw, except what would break the field: braces, backslashes, spaces."""
    if text.isprintable() and " " not in text and "{" not in text and "}" not in text and "\\" not in text:
        return text  # (printable and no space: no whitespace at all) most links
    text = _WS.sub("", text)
    return _BREAKS_VERBATIM.sub(lambda m: quote(m.group(0)), text)


# --- title case protection --------------------------------------------------

_LEADING_PUNCT = "\"'([{\u2018\u201c\u00ab-"
_TRAILING_PUNCT = ",.:;!?)]}'\"\u2019\u201d\u00bb"


# A title word's kind. Titles share most of their words ("of", "the",
# "Evidence"), so each distinct word is looked at once and its kind remembered.
# A kind is a sum of the counters below, so that the sum of a title's kinds
# (one sum() in C) counts each of them for the whole title at once.
_STARTS_WITH_LETTERS = 1  # its first four characters (all, if fewer) are letters
_CAPITALISED = 1 << 32    # ... and the first is a capital
_KEEP_CAPITALS = 1 << 64  # capitals kept wherever it stands: NATO, McDonald, mRNA, S-400, 3D, CO2
_PROPER_NOUN = 1 << 96    # capitalised: a proper noun when past the first word of a sentence-case title
_COUNTER = (1 << 32) - 1  # one counter's bits (no title has 2**32 words)
_word_kinds: dict[str, int] = {}


def _word_kind(word: str) -> int:
    kind = _word_kinds.get(word)
    if kind is None:
        kind = _classify(word)
        if len(word) <= _REMEMBERED_LENGTH:  # (a title in Chinese is one "word": not remembered)
            if len(_word_kinds) > 1 << 18:
                _word_kinds.clear()  # a bound on what is remembered; the words seen most come back soon
            _word_kinds[word] = kind
    return kind


def _classify(word: str) -> int:
    kind = 0
    if word[:4].isalpha():
        kind = _STARTS_WITH_LETTERS + (_CAPITALISED if word[0].isupper() else 0)
    if word.islower():
        return kind  # most words; no capital to keep
    first, rest = word[:1], word[1:].rstrip(_TRAILING_PUNCT)
    if first.isupper() and first.isalpha() and (not rest or rest.isalpha() and rest.islower()):
        # "Evidence," "A": capitalised, no other capital, no digit: a proper
        # noun only in a sentence-case title, past its first word.
        return kind + _PROPER_NOUN
    w = word.lstrip(_LEADING_PUNCT)
    if not w or not w[0].isalpha():
        return kind + (_KEEP_CAPITALS if any(c.isupper() for c in w) else 0)  # "3D", "2019-nCoV"
    rest = w[1:]
    if rest != rest.lower():
        return kind + _KEEP_CAPITALS  # NATO, McDonald, mRNA, iPhone, U.S.
    if w[0].isupper() and any(c.isdigit() for c in rest):
        return kind + _KEEP_CAPITALS  # S-400, CO2
    # In a sentence-case title a capitalised word past the first is a proper noun.
    return kind + (_PROPER_NOUN if w[0].isupper() else 0)


def protect_title(title: str, mode: str) -> str:
    """Escape ``title`` and brace the words whose capitals a style must keep.

    A title is in title case when more than half of its words past the first
    that begin with letters are capitalised; there, a capitalised word is
    left to the style, elsewhere it is a proper noun and kept."""
    title = one_line(title)
    if title.isupper() and " " in title:
        # An ALL-CAPS title (as some publishers deposit them): its capitals say
        # nothing about proper nouns, and braced they would be frozen in every style.
        return escape(title, mode)
    words = title.split(" ")
    kinds = list(map(_word_kinds.get, words))  # (in C: most words are known)
    if None in kinds:
        kinds = [_word_kind(w) if k is None else k for w, k in zip(words, kinds, strict=True)]
    counts = sum(kinds) - kinds[0]
    starts_with_letters, capitalised = counts & _COUNTER, counts >> 32 & _COUNTER
    title_case = capitalised * 2 > starts_with_letters
    keep = _KEEP_CAPITALS if title_case else _KEEP_CAPITALS | _PROPER_NOUN
    if not (kinds[0] & _KEEP_CAPITALS or counts >> 64 & (_COUNTER if title_case else (1 << 64) - 1)):
        return escape(title, mode)  # nothing to brace: most titles
    escaped = escape(title, mode).split(" ")
    if len(escaped) != len(words):  # escaping never adds spaces; stay safe if it did
        escaped = [escape(w, mode) for w in words]
    if kinds[0] & _KEEP_CAPITALS:
        escaped[0] = "{" + escaped[0] + "}"
    for i in range(1, len(words)):
        if kinds[i] & keep:
            escaped[i] = "{" + escaped[i] + "}"
    return " ".join(escaped)


# --- names -------------------------------------------------------------------

def _name_part(text: str, mode: str) -> str:
    return _protected(text, escape(text, mode))


def _protected(text: str, escaped: str) -> str:
    """A name part as written (``escaped``), braced when ``text`` would split the name list."""
    return "{" + escaped + "}" if _splits_name_list(text) else escaped


# The rules that brace a name part (each also asked by _plain_person's fast path).

def _splits_name_list(text: str) -> bool:
    """A comma or a lone "and" in a name part would split the name list."""
    return "," in text or ("and" in text.lower() and _AND.search(text) is not None)


def _unmarked_particle(family: str) -> bool:
    """The family name is "van Lieshout", "Gómez de Aranda", "Revault d'Allonnes",
    "Bagora (Menaria)" or Arabic (no particle stored): a word of it that does
    not begin with a capital would be split off as a particle ("von" part) by
    bibtex, biber and pandoc, and the rest moved, unless the name is one unit."""
    return " " in family and any(not word[:1].isupper() for word in family.split())


def _joined_initials(given: str) -> bool:
    """"M.F.": one given name, not "M. F."."""
    return "." in given and _JOINED_INITIALS.search(given) is not None


_JOINED_INITIALS = re.compile(r"\.\w")


def _family_part(person: dict, mode: str) -> str:
    particle, family = person.get("non-dropping-particle"), person.get("family") or ""
    if particle:
        return " ".join((_name_part(particle, mode), _name_part(family, mode)))
    if _unmarked_particle(family) or _joined_initials(family):  # "R.G.": pandoc would read "R. G."
        return "{" + escape(family, mode) + "}"
    return _name_part(family, mode) if family else ""


def _given_part(given: str, mode: str) -> str:
    if mode == CLASSIC and not given.isascii() and _UTF8_INITIAL.search(given):
        given_tex = _UTF8_INITIAL.sub(_mark_utf8_initial, given)
        escaped = escape(given_tex, mode).replace("\ue000", "{\\textup{").replace("\ue001", "}}")
    else:
        escaped = escape(given, mode)
    if _joined_initials(given):
        return "{" + escaped + "}"
    return _protected(given, escaped)


# bibtex abbreviates a given name ("{f.}", abbrv.bst) to its first byte when it
# begins with a character written as UTF-8 (Γιώργος, 小明): broken UTF-8, or
# the whole name (Þór). Such a first character goes in a "special character"
# ({\textup{Γ}}ιώργος), which bibtex keeps whole as the initial and every
# other reader reads as Γ.
_UTF8_INITIAL = re.compile(r"(^|[\s-])([^\x00-\x7f])")


def _mark_utf8_initial(m: re.Match) -> str:
    if _char_out(m.group(2), CLASSIC).startswith(("\\", "{\\")):
        return m.group(0)  # a LaTeX letter ({\'E}) is a special character already
    return m.group(1) + "\ue000" + m.group(2) + "\ue001"


_AND = re.compile(r"\band\b", re.IGNORECASE)


# A name part that every mode writes as it is: printable ASCII words,
# single-spaced, with no LaTeX special and no comma.
_PLAIN_NAME_PART = re.compile(r"[\x21-\x22\x27-\x2b\x2d-\x5b\x5d\x61-\x7a\x7c]+(?: [\x21-\x22\x27-\x2b\x2d-\x5b\x5d\x61-\x7a\x7c]+)*")


def _plain_person(family: str, given: str) -> bool:
    """Whether "family, given" is the name as written, with no escape or brace
    (most names): escape leaves both as they are, and no rule braces them."""
    both = family + " " + given
    return (_PLAIN_NAME_PART.fullmatch(family) is not None and _PLAIN_NAME_PART.fullmatch(given) is not None
            and "--" not in both and "``" not in both and "''" not in both  # TeX ligatures: escaped
            and not _unmarked_particle(family) and not _joined_initials(given) and not _joined_initials(family) and not _splits_name_list(both))


def format_names(people: list[dict], mode: str) -> str:
    out = []
    for person in people:
        family, given = person.get("family"), person.get("given")
        if (family and given and type(family) is str and type(given) is str
                and not person.get("non-dropping-particle") and not person.get("suffix")
                and _plain_person(family, given)):
            out.append(family + ", " + given)
            continue
        if is_organisation(person):
            out.append("{" + escape(person["literal"], mode) + "}")
            continue
        family = _family_part(person, mode)
        given = _given_part(person["given"], mode) if person.get("given") else ""
        suffix = _name_part(person["suffix"], mode) if person.get("suffix") else ""
        if not family:
            out.append("{" + given + "}")
        elif suffix:
            out.append(f"{family}, {suffix}, {given}")
        elif given:
            out.append(f"{family}, {given}")
        else:
            # One name only ("Ehtisham-ul-Haq", "Suharto"): a unit, or readers
            # split "ul" off as a particle.
            out.append(family if family.startswith("{") and family.endswith("}") else "{" + family + "}")
    return " and ".join(out)


# --- entry types ----------------------------------------------------------------

CLASSIC_TYPE = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "periodical": "article",  # a whole issue: BibTeX has no @periodical; journal, volume, number kept
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "paper-conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
}
BIBLATEX_TYPE = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "inreference",
    "entry-dictionary": "inreference",
    "paper-conference": "inproceedings",
    "report": "report",
    "thesis": "thesis",
    "dataset": "dataset",
    "webpage": "online",
    "post": "online",
    "post-weblog": "online",
    "article": "online",  # preprints (posted content)
    "software": "software",
    "periodical": "periodical",
}
# biblatex's data model (blx-dm.def \DeclareDatamodelConstraints), as biber checks it.
BIBLATEX_REQUIRED = {
    "article": ("author", "title", "journaltitle", "date"),
    "book": ("author", "title", "date"),
    "collection": ("editor", "title", "date"),
    "inbook": ("author", "title", "booktitle", "date"),
    "incollection": ("author", "editor", "title", "booktitle", "date"),
    "inreference": ("author", "editor", "title", "booktitle", "date"),
    "inproceedings": ("author", "title", "booktitle", "date"),
    "report": ("author", "title", "type", "institution", "date"),
    "thesis": ("author", "title", "type", "institution", "date"),
    "online": ("title", "date", "url|doi"),
    "dataset": ("title",),
    "software": ("title",),
    "misc": ("title", "date"),
    "periodical": ("editor", "title", "date"),
}
_BLX_COMMON = {"abstract", "addendum", "doi", "url", "date", "urldate", "keywords", "eprint", "eprinttype",
               "shorttitle"}
# Fields each biblatex type accepts (blx-dm.def \DeclareDatamodelEntryfields), for the
# fields citetool writes; biber --validate-datamodel warns about any other.
BIBLATEX_FIELDS = {
    "article": {"author", "editor", "eid", "issn", "issue", "journaltitle", "note", "number",
                "pages", "series", "title", "translator", "version", "volume", "language"},
    "book": {"author", "editor", "edition", "eid", "isbn", "location", "note", "number", "pages",
             "pagetotal", "publisher", "series", "title", "translator", "volume", "language"},
    "inbook": {"author", "booktitle", "editor", "edition", "eid", "isbn", "location", "note",
               "number", "publisher", "pages", "series", "title", "translator", "volume", "language"},
    "dataset": {"author", "edition", "editor", "location", "note", "number", "organization",
                "publisher", "series", "title", "type", "version", "language"},
    "misc": {"author", "editor", "howpublished", "location", "note", "organization", "title",
             "type", "version", "language"},
    "online": {"author", "editor", "note", "organization", "title", "version", "language"},
    "inproceedings": {"author", "booktitle", "editor", "eid", "eventtitle", "isbn", "location",
                      "note", "number", "organization", "pages", "publisher", "series", "title",
                      "venue", "volume", "language"},
    "report": {"author", "eid", "institution", "isrn", "location", "note", "number", "pages",
               "pagetotal", "title", "type", "version", "language"},
    "thesis": {"author", "eid", "institution", "location", "note", "pages", "pagetotal", "title",
               "type", "language"},
}
BIBLATEX_FIELDS["periodical"] = {"editor", "issn", "issue", "issuetitle", "note", "number", "series",
                                  "title", "volume", "language"}
BIBLATEX_FIELDS["collection"] = BIBLATEX_FIELDS["book"]
BIBLATEX_FIELDS["incollection"] = BIBLATEX_FIELDS["inbook"]
BIBLATEX_FIELDS["inreference"] = BIBLATEX_FIELDS["inbook"]
BIBLATEX_FIELDS["software"] = BIBLATEX_FIELDS["misc"]
_BIBLATEX_ALLOWED = {etype: fields | _BLX_COMMON for etype, fields in BIBLATEX_FIELDS.items()}

# Field order in the output (the rest follow alphabetically).
ORDER = ("author", "editor", "title", "journal", "journaltitle", "booktitle", "eventtitle",
         "series", "howpublished", "school", "institution", "organization", "publisher",
         "address", "location", "venue", "type", "year", "month", "date", "volume", "number",
         "issue", "pages", "eid", "edition", "isbn", "issn", "doi", "url", "urldate", "eprint",
         "eprinttype", "note", "addendum", "key", "abstract")


def _base_fields(rec: Record, biblatex: bool, mode: str) -> dict[str, tuple[str, str]]:
    """Field name -> (kind, value) before choosing the entry type.

    kind: "text" (escaped), "title" (escaped + case-protected), "names", "verbatim", "macro".
    """
    f: dict[str, tuple[str, str]] = {}
    get = rec.get
    for role in ("author", "editor", "translator"):
        people = get(role)
        if people and isinstance(people, list):
            people = names(rec, role)
            if people:
                f[role] = ("names", people)  # type: ignore[assignment]
    if get("title"):
        f["title"] = ("title", rec["title"])
    if get("container-title"):
        f["container"] = ("text", rec["container-title"])
    if get("collection-title"):
        f["series"] = ("text", rec["collection-title"])
    if get("volume"):
        f["volume"] = ("text", str(rec["volume"]))
    if get("edition"):
        f["edition"] = ("text", str(rec["edition"]))
    if get("issue"):
        f["issue"] = ("text", str(rec["issue"]))
    if get("number"):
        f["csl_number"] = ("text", str(rec["number"]))
    if get("page"):
        first, last = page_range(rec)
        if first:
            pages = escape(first, mode) + (f"--{escape(last, mode)}" if last else "")
            f["pages"] = ("latex", pages)
    if get("publisher"):
        f["publisher"] = ("text", rec["publisher"])
    if get("publisher-place"):
        f["location" if biblatex else "address"] = ("text", rec["publisher-place"])
    parts = date_parts(rec)
    if biblatex:
        f["date"] = ("macro", edtf_text(parts) if parts else "")
    elif parts:
        f["year"] = ("text", str(parts[0]))
        if len(parts) > 1 and 1 <= parts[1] <= 12:
            f["month"] = ("macro", MONTHS[parts[1] - 1])
    doi, url = get("DOI"), get("URL")
    if doi:
        f["doi"] = ("verbatim", doi)
    meta = get(META)
    handle = repec_handle(rec) if meta else None
    if url and not (doi and url.lower() == doi_url(doi).lower()):
        f["url"] = ("verbatim", url)
    elif handle:
        f["url"] = ("verbatim", repec_link(rec))  # as EconPapers' own BibTeX export does
    if biblatex and handle:
        f["eprint"] = ("verbatim", handle)
        f["eprinttype"] = ("text", "RePEc")
    if get("ISSN"):
        issn = first_value(rec["ISSN"])
        if issn:
            f["issn"] = ("text", issn)
    if get("ISBN"):
        isbns = [i.strip() for i in str(rec["ISBN"]).split(",") if isbn13(i)]
        if isbns:
            f["isbn"] = ("text", isbns[0])
    if get("genre"):
        f["genre"] = ("text", rec["genre"])
    if get("event-title"):
        f["eventtitle"] = ("text", rec["event-title"])
    if get("event-place"):
        f["venue"] = ("text", rec["event-place"])
    if get("note"):
        f["note"] = ("text", rec["note"])
    if get("accessed") and f.get("url"):
        accessed = date_parts(rec, "accessed")
        if accessed:
            iso = date_text(accessed)
            if biblatex:
                f["urldate"] = ("macro", iso)
            else:
                note = f"Accessed {iso}"
                f["note"] = ("text", f"{rec['note']}. {note}" if get("note") else note)
    related = ". ".join(relation_notes(rec)) if meta else ""  # the preprint an upgrade replaced
    if related and biblatex:
        f["addendum"] = ("text", related)
    elif related:
        f["note"] = ("text", f"{f['note'][1]}. {related}" if f.get("note") else related)
    if get("abstract"):
        f["abstract"] = ("text", rec["abstract"])
    if get("keyword"):
        f["keywords"] = ("text", str(rec["keyword"]))
    return f


# The generic fields _place_fields renames (or drops) for each entry type.
_PLACED = frozenset({"container", "csl_number", "issue", "genre", "publisher", "eventtitle", "venue"})


def _place_fields(etype: str, base: dict, biblatex: bool, mode: str) -> dict:
    """Rename the generic fields to what ``etype`` calls them."""
    f = {k: v for k, v in base.items() if k not in _PLACED}
    container = base.get("container")
    issue, number, publisher = base.get("issue"), base.get("csl_number"), base.get("publisher")
    if etype == "article":
        if container:
            f["journaltitle" if biblatex else "journal"] = container
        if issue:
            f["number"] = issue  # biblatex: number is the issue of a journal
        if number:
            if biblatex:
                f["eid"] = number
            elif "pages" not in f:
                f["pages"] = number
        if not biblatex and publisher:
            f["publisher"] = publisher
    elif etype in ("incollection", "inbook", "inreference", "inproceedings"):
        if container:
            f["booktitle"] = container
        if publisher:
            f["publisher"] = publisher
        if etype == "inproceedings" and biblatex:
            for k in ("eventtitle", "venue"):
                if base.get(k) and base[k] != container:
                    f[k] = base[k]
    elif etype in ("techreport", "report"):
        if publisher:
            f["institution"] = publisher
        if number:
            f["number"] = number
        # The series names the kind of report: "NBER Working Papers" 11309.
        series = f.pop("series", None)
        if series:
            f["type"] = series
        elif biblatex:
            f["type"] = ("text", "techreport")
    elif etype in ("phdthesis", "mastersthesis", "thesis"):
        if publisher:
            f["institution" if biblatex else "school"] = publisher
        if biblatex:
            genre = (base.get("genre") or ("", ""))[1].lower()
            f["type"] = ("text", "mathesis" if "master" in genre else "phdthesis")
    elif etype in ("book", "collection", "dataset", "software"):
        if publisher:
            f["publisher"] = publisher
        if number:
            f["number"] = number
        if container and etype in ("book", "collection") and "series" not in f:
            f["series"] = container
        elif container and etype in ("dataset", "software") and container != publisher:
            # The repository or archive holding it (biblatex: organization).
            f["organization"] = container
    elif etype == "periodical":  # biblatex: a whole issue of a journal
        if container:
            if f.get("title"):
                f["issuetitle"] = f["title"]
            f["title"] = container
        if issue or number:
            f["number"] = issue or number
    else:  # misc, online
        if etype == "misc":
            # plain.bst prints only howpublished of a @misc: say the container,
            # volume, issue and pages there, as "Journal, vol. 56, no. 2, pp. 60--61".
            def latex(item):
                return item[1] if item[0] == "latex" else escape(item[1], mode)

            details = [latex(v) for v in (container or publisher,) if v]
            if not details and f.get("url") and not biblatex:
                details.append("\\url{" + _verbatim(f["url"][1]) + "}")  # a web page
            for label, item in (("vol.", f.get("volume")), ("no.", issue or number), ("pp.", f.get("pages"))):
                if item:
                    details.append(f"{label} {latex(item)}")
            if details:
                f["howpublished"] = ("latex", ", ".join(details))
            if not biblatex:
                # ... and keep them as fields too (plain.bst ignores the fields a
                # @misc does not print; pandoc and citation-js read them). The
                # container twice: pandoc reads it from journal only, citation-js
                # from booktitle only, and a @misc has no field of its own for it.
                if issue or number:
                    f["number"] = issue or number
                if container:
                    f["booktitle"] = container
                    f["journal"] = container
        elif publisher and etype == "online":
            f["organization"] = publisher
        if base.get("genre") and etype == "misc":
            if biblatex:
                f["type"] = base["genre"]
            elif "note" not in f:
                f["note"] = base["genre"]
    return f


def choose_entry(rec: Record, biblatex: bool, mode: str | None = None) -> tuple[str, dict]:
    """The entry type and its fields: always the work's own type, with every
    field it has (a warning about a field the source truly lacks is better
    than a lost volume or journal)."""
    mode = mode or entry_mode(biblatex)
    base = _base_fields(rec, biblatex, mode)
    if biblatex:
        etype = BIBLATEX_TYPE.get(rec.get("type", ""), "misc")
        if etype == "book" and not base.get("author") and base.get("editor"):
            etype = "collection"
        if etype == "incollection" and not base.get("editor"):
            etype = "inbook"
        if etype == "inreference" and not base.get("editor"):
            etype = "inbook"
        required = BIBLATEX_REQUIRED
    else:
        etype = CLASSIC_TYPE.get(rec.get("type", ""), "misc")
        if etype == "phdthesis" and "master" in str(rec.get("genre", "")).lower():
            etype = "mastersthesis"
    if rec.get("type") == "periodical" and not base.get("container") and base.get("title"):
        base["container"] = base["title"]  # a whole journal: its title is the journal's name
    if not base.get("title") and not (biblatex and etype == "periodical"):
        base["title"] = ("text", "[Untitled]")  # every consumer wants a title
    if biblatex and not base.get("date", ("", ""))[1]:
        # biblatex requires a date for most types; EDTF "XXXX" means "year
        # unspecified", and biblatex prints it as nothing.
        base["date"] = ("macro", "XXXX")
    if not biblatex and not base.get("year"):
        base["year"] = ("text", "n.d.")  # plain.bst wants a year; "n.d." only when no date exists
    fields = _place_fields(etype, base, biblatex, mode)
    if biblatex:
        if fields.get("date") == ("macro", "XXXX") and "date" not in required.get(etype, ()):
            del fields["date"]
        allowed = _BIBLATEX_ALLOWED.get(etype, _BIBLATEX_ALLOWED["misc"])
        fields = {k: v for k, v in fields.items() if k in allowed}
    elif not fields.get("author") and not fields.get("editor"):
        # "to sort, need author or key": give the sort key plain.bst asks for.
        # natbib reads the label plain/plainnat build from it as "Author(Year)" inside
        # \bibitem[...]: a bracket or parenthesis there breaks it ("[Untitled]").
        label = _NOT_LABEL.sub("", fields.get("title", ("", ""))[1]).strip()
        fields["key"] = ("text", label or "Anonymous")
    return etype, fields


_NOT_LABEL = re.compile(r"[\[\]()]")
_MONTH_MACRO = re.compile(r"[a-z]{3}")
# biblatex list fields: " and " separates items, so a name holding one is braced.
_BIBLATEX_LISTS = {"publisher", "location", "institution", "organization"}


def _value(kind: str, value, mode: str) -> str:
    if kind == "names":
        return "{" + format_names(value, mode) + "}"
    if kind == "title":
        return "{" + protect_title(value, mode) + "}"
    if kind == "verbatim":
        return "{" + _verbatim(value) + "}"
    if kind == "macro":
        return value if _MONTH_MACRO.fullmatch(value) else "{" + value + "}"
    if kind == "latex":  # escaped already
        return "{" + value + "}"
    return "{" + escape(value, mode) + "}"


class _Rank(dict):
    """A field's place in ORDER; any other field after them (``__missing__``)."""

    def __missing__(self, name: str) -> int:
        return len(ORDER)


_RANK = _Rank((name, i) for i, name in enumerate(ORDER))


def _in_order(fields) -> list[str]:
    """Field names in ORDER, the rest alphabetically after them: two sorts in C
    (alphabetical, then stable by rank) instead of a Python key per field."""
    return sorted(sorted(fields), key=_RANK.__getitem__)


def _list_value(name: str, field: tuple, mode: str) -> str:
    """A biblatex list field: "Springer Science and Business Media LLC" is one
    publisher, so a value holding " and " is braced."""
    text = _value(*field, mode)
    return "{" + text + "}" if isinstance(field[1], str) and _AND.search(field[1]) else text


def entry_mode(biblatex: bool, unicode: bool = False) -> str:
    if unicode:
        return UNICODE
    return BIBLATEX if biblatex else CLASSIC


def render_entry(rec: Record, biblatex: bool, unicode: bool = False) -> str:
    mode = entry_mode(biblatex, unicode)
    etype, fields = choose_entry(rec, biblatex, mode)
    meta = rec.get(META)
    if meta and (meta.get("bibtex") or meta.get("aliases")):  # an imported entry as written; other keys
        etype, fields = written_back(rec, etype, fields, biblatex)
    lines = [f"@{etype}{{{rec['id']},"]
    for name in _in_order(fields):
        kind, value = fields[name]
        if kind == "raw":  # the user's own field, as they wrote it
            lines.append(f"  {name} = {value if mode == UNICODE else _encode_non_ascii(value, mode)},")
        elif kind == "text" and not (biblatex and name in _BIBLATEX_LISTS):  # most fields: escape alone
            lines.append(f"  {name} = {{{escape(value, mode)}}},")
        elif biblatex and name in _BIBLATEX_LISTS:
            lines.append(f"  {name} = {_list_value(name, fields[name], mode)},")
        else:
            lines.append(f"  {name} = {_value(kind, value, mode)},")
    lines.append("}\n")
    entry = "\n".join(lines)
    if not biblatex and meta and meta.get("aliases"):  # BibTeX has no ids: an entry under each other key
        entry = "\n".join([entry, *(render_entry(other, biblatex, unicode) for other in alias_records(rec))])
    return entry


def _render(records: list[Record], biblatex: bool, unicode: bool, cache: EntryCache | None = None) -> str:
    def render_one(rec: Record) -> str:
        return render_entry(rec, biblatex=biblatex, unicode=unicode)

    if cache is None:
        entries = [render_one(r) for r in records]
    else:
        entries = cache.entries(("biblatex" if biblatex else "bibtex") + ("-unicode" if unicode else ""),
                                records, render_one)
    head = "" if unicode else preamble(entries, BIBLATEX if biblatex else CLASSIC)
    return "\n".join([head, *entries] if head else entries)


def render_bibtex(records: list[Record], unicode: bool = False, cache: EntryCache | None = None) -> str:
    return _render(records, biblatex=False, unicode=unicode, cache=cache)


def render_biblatex(records: list[Record], unicode: bool = False, cache: EntryCache | None = None) -> str:
    return _render(records, biblatex=True, unicode=unicode, cache=cache)
