"""Read BibTeX/biblatex files into records, as bibtexparser 2.x reads them: with
citetool's own splitter and name splitting, which follow its rules, and with
bibtexparser itself for a file or a name they are not sure of (see _split).

String macros (``@string``) and month macros are resolved, LaTeX is decoded to
Unicode (pylatexenc), names are split the BibTeX way (braced groups such as
``{World Bank}`` stay one organisation), ``crossref`` fields inherit from the
parent entry, and a malformed entry is reported with its line and skipped.
"""

from __future__ import annotations

import re
import unicodedata

from citetool.formats.bibtex_fallback import read_with_bibtexparser
from citetool.formats.bibtex_kept import keep_as_written
from citetool.formats.bibtex_split import _Entry, split_entries, split_plan
from citetool.formats.imported import Imported, unreadable
from citetool.identifiers import normalise_doi
from citetool.record import Record
from citetool.record_input import parse_date
from citetool.text import one_line

# BibTeX/biblatex entry type -> CSL type.
CSL_TYPE = {
    "article": "article-journal",
    "book": "book", "mvbook": "book", "collection": "book", "mvcollection": "book",
    "proceedings": "book", "reference": "book",
    "inbook": "chapter", "incollection": "chapter", "bookinbook": "chapter", "suppbook": "chapter",
    "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference", "conference": "paper-conference",
    "techreport": "report", "report": "report",
    "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "online": "webpage", "electronic": "webpage", "www": "webpage",
    "dataset": "dataset", "software": "software", "manual": "report",
    "unpublished": "manuscript", "booklet": "book", "periodical": "periodical",
    "misc": "document",
}
_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}

_decoder = None

# The LaTeX found in nearly every .bib file, decoded without a full LaTeX parse
# (pylatexenc takes ~3 ms per field: too slow for 5,000-entry files). Anything
# else falls back to pylatexenc.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
            "r": "\u030a", "d": "\u0323", "b": "\u0331"}
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "aa": "å", "AA": "Å",
            "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ"}
_SYMBOLS = {"textbackslash": "\\", "textbraceleft": "{", "textbraceright": "}", "textasciitilde": "~",
            "textasciicircum": "^", "textendash": "\u2013", "textemdash": "\u2014", "textquoteright": "\u2019",
            "textquoteleft": "\u2018", "textquotedblleft": "\u201c", "textquotedblright": "\u201d",
            "textdegree": "°", "textellipsis": "…", "ldots": "…", "dots": "…", "textregistered": "®",
            "texttrademark": "™", "textcopyright": "©", "euro": "€", "textsterling": "£", "S": "§"}
_ACCENT_RE = re.compile(r"(?<!\x00)\\([`'^\"~=.]|[uvHckrdb](?=[\s{]))\s*(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij]|[A-Za-z]))")
_LETTER_RE = re.compile(r"(?<!\x00)\\(ss|aa|AA|ae|AE|oe|OE|dh|DH|th|TH|[oOlLij])(?![A-Za-z])(?:\{\})?\s?")
_SYMBOL_RE = re.compile(r"(?<!\x00)\\(" + "|".join(sorted(_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])(?:\{\})?")
_ESCAPED_RE = re.compile(r"\\([&%$#_{}])")
_SPACES = {",": "\u2009", ";": "\u2005", ":": "\u2005", "!": "", " ": " ", "@": "", "/": ""}
_SPACE_RE = re.compile(r"(?<!\x00)\\([,;:! @/])")
_STYLE_RE = re.compile(r"(?<!\x00)\\(?:ensuremath|emph|textit|textbf|textsc|textrm|textup|textnormal|textsf|texttt"
                       r"|mathrm|mbox|url|NoCaseChange|em|it|bf|sc)(?![A-Za-z])\s*")


_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
          "sigma tau upsilon phi chi psi omega").split()
_UNAME = {"lambda": "LAMDA"}  # Unicode spells it so
_MATH = {n: unicodedata.lookup("GREEK SMALL LETTER " + _UNAME.get(n, n.upper())) for n in _GREEK}
_MATH.update({n.capitalize(): unicodedata.lookup("GREEK CAPITAL LETTER " + _UNAME.get(n, n.upper())) for n in _GREEK})
_MATH.update({"geq": "≥", "leq": "≤", "times": "×", "pm": "±", "infty": "∞", "cdot": "·", "neq": "≠",
              "approx": "≈", "sim": "∼", "to": "→", "rightarrow": "→", "textperthousand": "‰",
              "div": "÷", "textdiv": "÷", "textmu": "µ", "textpm": "±", "texttimes": "×"})
# Inline math whose content is plain text once symbols are decoded ($α$, {$\delta$}13C);
# "\x00$" is an escaped dollar, which stays.
_INLINE_MATH_RE = re.compile(r"(?<!\x00)\$([^$\\^_\x00]*)\$")
_MATH_RE = re.compile(r"(?<!\x00)\\(" + "|".join(sorted(_MATH, key=len, reverse=True)) + r")(?![A-Za-z])")


def _accent(m: re.Match) -> str:
    base = m.group(2) or m.group(3)
    base = {"\\i": "i", "\\j": "j"}.get(base, base)
    return unicodedata.normalize("NFC", base + _ACCENTS[m.group(1)])


def _fast_decode(text: str) -> str | None:
    """Common LaTeX to Unicode; None when something is left that needs pylatexenc."""
    # "\x00" marks a character that came out of an escape and must stay literal.
    commands = "\\" in text or "$" in text  # without either, no pattern below but the last ones can match
    out = _ESCAPED_RE.sub(lambda m: "\x00" + m.group(1), text) if commands else text
    for broken, literal in (("`{}`", "\x00`\x00`"), ("'{}'", "\x00'\x00'")):
        out = out.replace(broken, literal)  # a ligature broken on purpose
    if not commands or ("\\" not in out and "$" not in out):  # none but escapes (50\%): nothing below matches
        return _finish(out.replace("---", "\u2014").replace("--", "\u2013"))
    # Hyphens need nothing: "{}" parts dash runs as it does for TeX ("--{}---" is
    # an en dash and an em dash), and the braces go only after the dashes are read.
    out = _ACCENT_RE.sub(_accent, out)
    out = _SYMBOL_RE.sub(lambda m: "\x00" + _SYMBOLS[m.group(1)], out)
    out = _LETTER_RE.sub(lambda m: _LETTERS[m.group(1)], out)
    out = _MATH_RE.sub(lambda m: _MATH[m.group(1)], out)
    out = _INLINE_MATH_RE.sub(r"\1", out)  # "$\alpha$" decoded to "$α$": the delimiters go
    out = _SPACE_RE.sub(lambda m: "\x00" + _SPACES[m.group(1)] if _SPACES[m.group(1)] else "", out)
    out = _STYLE_RE.sub("", out)
    if "\\" in out.replace("\x00\\", "") or "$" in out.replace("\x00$", ""):
        return None
    out = out.replace("---", "\u2014").replace("--", "\u2013")  # literal hyphens are "\x00-"
    # Last: the character after each "\x00" is kept as it is, the marker
    # dropped; ~ is a no-break space; grouping braces go.
    return _finish(out)


_FINAL_RE = re.compile(r"\x00([\s\S]?)|[~{}]")


def _finish(text: str) -> str:
    """_FINAL_RE's work; with str.replace where only grouping braces are left."""
    if "\x00" in text or "~" in text:
        return _FINAL_RE.sub(_final, text)
    return text.replace("{", "").replace("}", "") if "{" in text or "}" in text else text


def _final(m: re.Match) -> str:
    text = m.group(0)
    if text[0] == "\x00":
        return m.group(1)
    return "\u00a0" if text == "~" else ""


def decode_latex(text: str) -> str:
    """LaTeX -> Unicode text; plain text passes through untouched (fast path)."""
    # what _fast_decode could change: a backslash, brace, dollar, tilde, or "--"
    # (six searches in C: three times faster than one pattern's)
    if not ("\\" in text or "{" in text or "}" in text or "$" in text or "~" in text or "--" in text):
        return one_line(text)
    fast = _fast_decode(text)
    if fast is not None:
        return one_line(fast)
    global _decoder
    if _decoder is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _decoder = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)
    # pylatexenc does not know every text-mode escape: hand it placeholders
    # (private-use characters) for literal braces and backslashes.
    for latex, placeholder, _ in _LITERALS:
        text = text.replace(latex, placeholder)
    # A symbol written as math ({$\lnsim$}, as the exporter writes what has no
    # text-mode name) is that symbol; other math stays as written.
    text = _SYMBOL_MATH_RE.sub(_symbol_math, text)
    try:
        out = _decoder.latex_to_text(text)
    except Exception:  # pylatexenc is lenient; never let odd input stop an import
        out = text.replace("{", "").replace("}", "")
    for _, placeholder, char in _LITERALS:
        out = out.replace(placeholder, char)
    return one_line(out)


_SYMBOL_MATH_RE = re.compile(r"(?<!\\)\$\s*(\\[A-Za-z]+(?:\{[^{}$\\]*\})?)\s*\$")
_symbol_decoder = None


def _symbol_math(m: re.Match) -> str:
    r"""``$\macro$`` as the one character pylatexenc knows it for, else as it was."""
    global _symbol_decoder
    if _symbol_decoder is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _symbol_decoder = LatexNodes2Text(math_mode="text")
    try:
        char = _symbol_decoder.latex_to_text(m.group(1))
    except Exception:
        return m.group(0)
    # one symbol (\lnsim), or a styled letter ($\mathtt{A}$, as U+1D670 is written)
    return char if char.strip() and "\\" not in char and len(char) <= 2 else m.group(0)


_LITERALS = ((r"\textbraceleft{}", "\ue000", "{"), (r"\textbraceright{}", "\ue001", "}"),
             (r"\textbackslash{}", "\ue002", "\\"), (r"\{", "\ue003", "{"), (r"\}", "\ue004", "}"),
             (r"\textasciicircum{}", "\ue005", "^"), (r"\textasciitilde{}", "\ue006", "~"),
             # a lone backquote, as the exporter writes it ({\`{}}: `` would be a quote to LaTeX and pandoc)
             (r"{\`{}}", "\ue007", "`"), (r"\`{}", "\ue007", "`"))


# BibTeX's name grammar ("First von Last", "von Last, First", "von Last, Jr, First"),
# as bibtexparser's split_multiple_persons_names and parse_single_name_into_parts
# read it: those walk each name a character at a time in Python. Here the
# patterns below read a copy in which each braced group ({World Bank}, {\"u})
# is masked, so that nothing in it splits names or words. What this is not sure
# of goes to bibtexparser: an unbalanced brace, a backslash outside braces
# between names, a trailing lone backslash, a name it rejects (too many commas,
# a trailing comma; for its error).
AND_WORD = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")
_NAME_SPACE = re.compile(r"[ ~\r\n\t]+")  # "~" parts the words of a name, not the names
_WORD_OR_COMMA = re.compile(r"[^ ~\r\n\t,]+|,")
_AND_MARKS = re.compile(r"\\[\s\S]?|[{}]")  # between names, a backslash hides the next character
_NAME_MARKS = re.compile(r"\\[^ ~\r\n\t]|[{}]")  # in a name, but for a space: "\ " is a backslash, then a space


def _masked(text: str, marks: re.Pattern, escapes: bool) -> str | None:
    """``text`` with each top-level braced group, and with ``escapes`` each
    backslash escape, replaced by as many "\x01"; None if a brace is unbalanced
    or (not ``escapes``) a backslash stands outside braces."""
    pieces, done, depth, start = [], 0, 0, 0
    for m in marks.finditer(text):
        mark = m.group()
        if mark[0] == "\\":
            if depth == 0:
                if not escapes:
                    return None
                pieces += (text[done:m.start()], "\x01" * len(mark))
                done = m.end()
        elif mark == "{":
            if depth == 0:
                start = m.start()
            depth += 1
        else:
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                pieces += (text[done:start], "\x01" * (m.end() - start))
                done = m.end()
    if depth:
        return None
    pieces.append(text[done:])
    return "".join(pieces)


def _split_names(text: str) -> list[str]:
    """One string per person of an author (editor...) field."""
    names = text.strip(" \r\n\t")
    if not names:
        return []
    seen = names
    if "{" in names or "}" in names or "\\" in names:
        seen = _masked(names, _AND_MARKS, escapes=False)
        if seen is None:
            from bibtexparser.middlewares.names import split_multiple_persons_names

            return split_multiple_persons_names(text)
    out, start = [], 0
    for m in AND_WORD.finditer(seen):
        out.append(names[start:m.start()])
        start = m.end()
    out.append(names[start:])
    return out


def _case(word: str) -> int:
    """1 if the word's first letter is upper case, 0 if not, -1 if it has none."""
    for char in word:
        if char.isalpha():
            return 1 if char.isupper() else 0
    return -1


def _braced_case(word: str) -> int:
    """:func:`_case` of a word with braces or backslashes, as bibtexparser reads it:
    a braced group tells only if it starts with a backslash ({\\'E}: upper case,
    by the first letter after the command), and so does an escaped letter."""
    level, start, command, special = 0, False, False, False
    chars = iter(word)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                continue
            if escaped not in " ~\r\n\t":
                if start:
                    start, command, special = False, escaped.isalpha(), True
                elif escaped.isalpha():
                    return 1 if escaped.isupper() else 0
                continue
            char = escaped  # "\\ ": a backslash, then a space
        if char == "{":
            level += 1
            start, command, special = True, False, False
            continue
        start = False
        if char == "}":
            level -= 1
            command = special = False
        elif level and command:
            command = char.isalpha()
        elif (not level or special) and char.isalpha():
            return 1 if char.isupper() else 0
    return -1


def _name_parts(name: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(first, von, last, jr) words of one name."""
    marked = "{" in name or "}" in name or "\\" in name
    seen = _masked(name, _NAME_MARKS, escapes=True) if marked else name
    sections = None
    if seen is not None and not seen.endswith("\\"):  # bibtexparser doubles a last lone backslash
        if marked:  # the words of the name, where the masked copy has them
            sections = [[]]
            for m in _WORD_OR_COMMA.finditer(seen):
                if m.group() == ",":
                    sections.append([])
                else:
                    sections[-1].append(name[m.start():m.end()])
        else:
            sections = [[w for w in _NAME_SPACE.split(part) if w] for part in name.split(",")]
        if len(sections) > 3 or (len(sections) > 1 and not sections[-1]):
            sections = None  # bibtexparser's error
    if sections is None:
        from bibtexparser.middlewares.names import parse_single_name_into_parts

        parts = parse_single_name_into_parts(name)
        return parts.first, parts.von, parts.last, parts.jr
    if not sections[-1]:
        sections.pop()
    first: list[str] = []
    von: list[str] = []
    jr: list[str] = []
    if not any(sections):
        return first, von, [], jr
    if len(sections) == 1:  # First von Last
        words = sections[0]
        if len(words) <= 2:
            return words[:-1], von, words[-1:], jr
        cases = [(_braced_case if marked else _case)(w) for w in words]
        if 0 not in cases:
            return words[:-1], von, words[-1:], jr
        # First: the upper-case words before the first lower-case one; von up to
        # the last lower-case one; Last the rest, never empty.
        firstl = cases.index(0) - len(cases)
        lastl = -cases[::-1].index(0) - 1
        if lastl == -1:
            lastl -= 1
        return words[:firstl], words[firstl:lastl + 1], words[lastl + 1:], jr
    first = sections[-1]
    if len(sections) == 3:
        jr = sections[1]
    last = sections[0]
    if len(last) > 1:  # von: up to the last lower-case word but the last
        cases = [(_braced_case if marked else _case)(w) for w in last[:-1]]
        if 0 in cases:
            split = len(cases) - cases[::-1].index(0)
            return first, last[:split], last[split:], jr
    return first, von, last, jr


def _names(text: str) -> list[dict]:
    people = []
    for name in _split_names(text):
        if name.strip() == "others":  # BibTeX's "and others": more authors, not a person (the entry as
            continue                  # written keeps it, and the BibTeX exports write it back)
        parts = _name_parts(name)
        first = " ".join(parts[0])
        von = " ".join(parts[1])
        last = " ".join(parts[2])
        jr = " ".join(parts[3])
        if not first and not von and not jr and last.startswith("{") and last.endswith("}"):
            people.append({"literal": decode_latex(last[1:-1])})
            continue
        person = {}
        family = " ".join(p for p in (von, last) if p)  # "van Lieshout" stays one family name, as Crossref has it
        if family:
            person["family"] = decode_latex(family)
        if first:
            person["given"] = decode_latex(first)
        if jr:
            person["suffix"] = decode_latex(jr)
        if person.get("family") or person.get("given"):
            if "family" not in person:
                person["family"] = person.pop("given")
            people.append(person)
    return people


_NO_DATE = {"n.d.", "nd", "n. d.", "no date", "s.d.", "s. d.", "o.j."}


def _date(fields: dict, notes: list[str] | None = None) -> dict | None:
    """The entry's date: biblatex ``date`` (a range or EDTF qualifiers: its
    start), else ``year`` (its four-digit year: "c1999", "[1999]", "1999a") and
    ``month``. A value that is no date (2020-02-31, year 99999, "two thousand")
    is left out and named in ``notes``, never cut down to a year it does not say."""
    notes = notes if notes is not None else []
    if fields.get("date") and fields["date"].strip().upper() != "XXXX":  # EDTF "unspecified": citetool's own no-date
        text = fields["date"].strip()
        start = re.sub(r"[?~%]", "", text.split("/", 1)[0] if not text.startswith("/") else text).strip()
        era = re.fullmatch(r"-(\d{4})((?:-\d{1,2}){0,2})", start)  # EDTF -0049: 50 BCE
        try:
            date = parse_date("2000" + era.group(2) if era else start, strict=True)
        except ValueError:
            date = None
        if date:
            first = date["date-parts"][0]
            if era or first[0] == 0:  # EDTF counts years astronomically (0000 is 1 BCE); CSL has no year 0
                first[0] = -int(era.group(1)) - 1 if era else -1
            return date
        notes.append(f"date {text!r} is not a date: left out")
    raw = str(fields.get("year", "")).strip()
    if not raw or raw.lower() in _NO_DATE:
        return None
    year = re.findall(r"(?<![\d-])\d{4}(?!\d)", raw)
    if not re.search(r"\d", raw):
        return {"literal": one_line(raw)}  # "forthcoming", "in press": a date as written
    if not year or re.search(r"\d{5}", raw):
        notes.append(f"year {raw!r} is not a year: left out")
        return None
    parts = [int(year[0])]
    month = str(fields.get("month", "")).strip().lower()
    if month.isdigit() and 1 <= int(month) <= 12:
        parts.append(int(month))
    elif month[:3] in _MONTHS:
        parts.append(_MONTHS[month[:3]])
    elif month:
        notes.append(f"month {fields['month']!r} is not a month: left out")
    return {"date-parts": [parts]}


_PAGE_DASHES = re.compile(r"\s*[-\u2013\u2014]+\s*")
# The fields entry_to_record reads as text (LaTeX decoded): decoding the others
# (keywords, file, timestamp... of a reference manager's export) was wasted.
_TEXT_FIELDS = frozenset("""title subtitle issuetitle journaltitle journal booktitle howpublished series
    volume edition abstract note language isbn issn issue number eid pages publisher institution school
    organization location address date year month keywords annote annotation shorttitle shortjournal type
    chapter pmid pmcid eventtitle venue version""".split())
# .bib field -> the CSL variable that takes its text as it is.
_AS_IS = (("volume", "volume"), ("edition", "edition"), ("abstract", "abstract"), ("note", "note"),
          ("language", "language"), ("isbn", "ISBN"), ("issn", "ISSN"), ("keywords", "keyword"),
          ("annote", "annote"), ("annotation", "annote"), ("shorttitle", "title-short"),
          ("shortjournal", "container-title-short"), ("chapter", "chapter-number"), ("pmid", "PMID"),
          ("pmcid", "PMCID"), ("eventtitle", "event-title"), ("venue", "event-place"), ("version", "version"))
_URL_ESCAPES = re.compile(r"\\([_%&#~$])")


def _text(value: str) -> str:
    """A field's text, LaTeX decoded; a macro LaTeX alone knows (ADS's ``\\mnras``) as written."""
    decoded = decode_latex(value)
    if decoded or not value.strip("{} \t\r\n"):
        return decoded
    return one_line(value)


def entry_to_record(entry_type: str, fields: dict, notes: list[str] | None = None) -> Record:
    """Map one entry's (raw, LaTeX-encoded) fields to a CSL record; what is left
    out of it (a date that cannot be) is said in ``notes``."""
    etype = entry_type.lower()
    rec: Record = {"type": CSL_TYPE.get(etype, "document")}
    text = {k: _text(v) for k, v in fields.items() if k in _TEXT_FIELDS and isinstance(v, str)}
    for role in ("author", "editor", "translator"):
        if fields.get(role):
            people = _names(fields[role])
            if people:
                rec[role] = people
    if etype == "periodical":  # biblatex: title is the journal, issuetitle the issue's own
        if text.get("title"):
            text["journaltitle"] = text.pop("title")
        if text.get("issuetitle"):
            text["title"] = text["issuetitle"]
    title = text.get("title")
    if title and text.get("subtitle"):
        title = f"{title}: {text['subtitle']}"
    if title:
        rec["title"] = title
    container = (text.get("journaltitle") or text.get("journal") or text.get("booktitle")
                 or (text.get("howpublished") if etype == "misc" else None))
    if container:
        rec["container-title"] = container
    if text.get("series"):
        rec["collection-title"] = text["series"]
    for bib, csl in _AS_IS:
        if text.get(bib) and csl not in rec:
            rec[csl] = text[bib]
    if text.get("type") and etype not in ("phdthesis", "mastersthesis"):
        rec["genre"] = text["type"]  # a report's "Working Paper", a thesis's "Habilitation"
    accessed = parse_date(str(fields.get("urldate", "")).strip()) if fields.get("urldate") else None
    if accessed and "date-parts" in accessed:
        rec["accessed"] = accessed
    issue = text.get("issue") or (text.get("number") if etype in ("article", "periodical") else None)
    if issue:
        rec["issue"] = issue
    elif text.get("number"):
        rec["number"] = text["number"]
    if text.get("eid") and "number" not in rec:
        rec["number"] = text["eid"]  # biblatex: an article number
    if text.get("pages"):
        rec["page"] = _PAGE_DASHES.sub("-", text["pages"])
    publisher = text.get("publisher") or text.get("institution") or text.get("school") or text.get("organization")
    if publisher:
        rec["publisher"] = publisher
    place = text.get("location") or text.get("address")
    if place:
        rec["publisher-place"] = place
    date = _date(text, notes)
    if date:
        rec["issued"] = date
    if fields.get("doi"):
        doi = normalise_doi(fields["doi"])
        if doi:
            rec["DOI"] = doi  # as written: "10.1162/NECO_a_00499" (identity ignores case)
    if fields.get("url"):
        rec["URL"] = one_line(_URL_ESCAPES.sub(r"\1", fields["url"]))  # "\_" is "_" in a URL
    if etype in ("phdthesis", "mastersthesis"):
        rec["genre"] = "PhD thesis" if etype == "phdthesis" else "Master's thesis"
    return rec


def _fields(entry) -> dict:
    """An entry's fields by lower-case name, the last of two spellings winning (what
    bibtexparser's NormalizeFieldKeys middleware does, without a pass over every block)."""
    return {key.lower(): value for key, value in entry.fields}


def read(text: str, origin: str, macros: dict[str, str] | None = None) -> tuple[list[Imported], list[str]]:
    """Entries of a .bib file, and one message per malformed block; ``macros``:
    @string macros of files read before (lower-case name -> value as written),
    to which this file's are added."""
    entries, problems = read_stream(text, origin, macros)
    return list(entries), problems


def read_stream(text: str, origin: str, macros: dict[str, str] | None = None):
    """:func:`read`, an entry at a time: (an iterator of the entries, the
    problems), the file's blocks checked at once (its malformed blocks are in
    the problems, and ``macros`` has its own), each entry read only when the
    iterator comes to it, when the problems of that entry are added. The file's
    entries are never all held at once, unless bibtexparser reads the file."""
    problems: list[str] = []
    plan = split_plan(text, macros)
    if plan is None:
        entries = read_with_bibtexparser(text, origin, macros, problems)
        by_key = {e.key.lower(): e for e in entries}
        return _imported(iter(entries), by_key.get, origin, problems), problems
    parents: dict[str, _Entry | None] = {}  # the last entries crossref named, read again (a few: memory stays bounded)

    def parent_of(key: str) -> _Entry | None:
        if key not in parents:
            if len(parents) >= 64:
                parents.clear()
            parents[key] = plan.entry(text, key)
        return parents[key]

    return _imported(split_entries(text, plan), parent_of, origin, problems), problems


def _imported(entries, entry_of_key, origin: str, problems: list[str]):
    """Each of ``entries`` as an :class:`Imported`; ``entry_of_key``: the entry of a
    lower-case key (a ``crossref``'s parent), or None; each entry's problems go to ``problems``."""
    for entry in entries:
        line = (entry.start_line or 0) + 1
        try:  # one entry's trouble (a name bibtexparser cannot split) skips that entry only
            fields = _fields(entry)
            parent = fields.get("crossref")
            parent_entry = entry_of_key(parent.lower()) if parent else None
            if parent_entry is not None:
                inherited = _fields(parent_entry)
                if "title" in inherited and "booktitle" not in fields:
                    fields["booktitle"] = inherited["title"]
                for k, v in inherited.items():
                    if k not in ("title", "crossref", "ids") and k not in fields:
                        fields[k] = v
            notes: list[str] = []
            rec = entry_to_record(entry.entry_type, fields, notes)
            keep_as_written(rec, entry, origin, parent_entry)
        except Exception as exc:
            problems.append(unreadable(f"{origin}:{line}", exc))
            continue
        problems += [f"{origin}:{line} ({entry.key}): {note}" for note in notes]
        twice = [f"{origin}:{line} ({entry.key}): the field {name!r} is given again ({one_line(value)[:60]!r}): "
                 "the first value is used, as BibTeX does; the other is kept aside" for name, value in entry.repeated]
        imported = Imported(key=entry.key, record=rec, line=line, notes=twice)
        entry = fields = parent_entry = None  # not held while the caller places it (a huge entry)
        yield imported
