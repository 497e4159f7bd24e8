"""Linear-time helpers for scanning text written by anyone (a manuscript):
where a bracket closes, where the next white space is. Each answers from a
table built once or from a search that never goes over the same stretch twice,
so hostile input (an unclosed ``\\cite{`` repeated 100,000 times) costs what
its length costs."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right


class Brackets:
    r"""Where each bracket of a text closes, found by one stack pass per kind of
    bracket (on first use) and then looked up: asking for a group costs a
    bisection, never a scan to the end of the text (an unclosed ``\cite{``
    repeated made ``bib`` quadratic). With ``escapes``, a bracket after a
    backslash (``\{``) counts for nothing, as in LaTeX."""

    _CLOSE = {"{": "}", "[": "]", "(": ")"}

    def __init__(self, text: str, escapes: bool = True):
        self.text = text
        self.escapes = escapes
        self._tables: dict[str, tuple] = {}

    def _table(self, open_: str):
        opens, closes, stack = array("q"), array("q"), []
        pattern = re.escape(open_) + "|" + re.escape(self._CLOSE[open_])
        for m in re.finditer((r"(?<!\\)(?:" + pattern + ")") if self.escapes else pattern, self.text):
            if m.group() == open_:
                stack.append(len(opens))
                opens.append(m.start())
                closes.append(-1)
            elif stack:
                closes[stack.pop()] = m.start()
        return opens, closes

    def close_of(self, pos: int, open_: str) -> int | None:
        """Where the ``open_`` bracket at ``pos`` closes; None if it never does."""
        if open_ not in self._tables:
            self._tables[open_] = self._table(open_)
        opens, closes = self._tables[open_]
        i = bisect_left(opens, pos)
        return closes[i] if i < len(opens) and opens[i] == pos and closes[i] >= 0 else None


class NextSpace:
    """Where the next white space is, for positions asked in increasing order
    (each stretch of the text is searched once)."""

    def __init__(self, text: str):
        self.text = text
        self.found = -1

    def after(self, pos: int) -> int:
        if self.found < pos:
            m = re.compile(r"\s").search(self.text, pos)
            self.found = m.start() if m else len(self.text)
        return self.found


class BacktickRuns:
    """The runs of backticks of a text, so that a code span is found by
    look-ups. As pandoc reads them, a run of k backticks opens a span that
    closes at the next run of exactly k; a run that closes nothing is one
    literal backtick and a run one shorter. A regular expression that tried
    that again and again took minutes on 45 KB of runs of growing length."""

    def __init__(self, text: str):
        self.text = text
        self._starts: dict[int, array] = {}  # run length -> where such runs start
        runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
        for start, end in runs:
            self._starts.setdefault(end - start, array("q")).append(start)
        # For each whole run, the longest span it opens: the largest k up to its
        # length with a run of exactly k after it (0: none); right to left.
        self._longest: dict[int, int] = {}
        later: list[int] = []  # the lengths of the runs after this one, sorted
        for start, end in reversed(runs):
            i = bisect_right(later, end - start)
            self._longest[start] = later[i - 1] if i else 0
            if not (i and later[i - 1] == end - start):
                later.insert(i, end - start)

    def _closing_end(self, pos: int, length: int) -> int | None:
        """The end of the first run of ``length`` backticks at or after ``pos``; None if there is none."""
        starts = self._starts.get(length)
        i = bisect_left(starts, pos) if starts else 0
        return starts[i] + length if starts and i < len(starts) else None

    def code_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The code span the backticks ``text[start:end]`` open: (where it opens, where it
        closes), or None when every one of them is a literal backtick."""
        length = self._longest.get(start) if self.text[start - 1:start] != "`" else None
        lengths = range(end - start, 0, -1) if length is None else [length] if length else []
        for k in lengths:  # (part of a run, after an escaped backtick: asked length by length)
            close = self._closing_end(end, k)
            if close is not None:
                return end - k, close
        return None
