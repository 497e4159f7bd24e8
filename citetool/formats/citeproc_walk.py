"""citeproc-py's walk of a style, shortened without changing what it prints.

For every reference, citeproc-py walks the style's elements and, at each one,
asks lxml for its children again (a Python object looked up for each), asks
each child whether it is a ``<choose>`` and, in a ``<group>``, whether it calls
a variable; a ``<choose>`` makes every ``<if>`` that does not hold raise an
exception, caught; a ``<text>`` reads a dozen attributes (its variable, its
formatting, quotes, affixes...) through five methods, most of which then give
the text back unchanged; and every seam where two texts are joined turns both
into whole strings to read one character at each end.

All that depends on the style alone, so each element makes its plan once: a
``<group>``, ``<macro>``, ``<layout>``, ``<if>``, ``<else-if>`` and ``<else>``
its children, which of them are a ``<choose>`` and which call a variable, its
delimiter; a ``<choose>`` which branches it tests itself
(:func:`citetool.formats.citeproc_memo.condition_holds`); a ``<text>`` what it
prints and which markup steps can change it (:class:`_TextPlan`). The plans
are remembered while a render is under way, as
:mod:`citetool.formats.citeproc_memo` remembers the style's other answers, and
emptied with them; outside a render each is made afresh. A seam reads the last
and first characters where they are. Each function says which of
citeproc-py's it stands for. A ``<text>`` of a term, a value, a page range,
the citation number or a locator, and an element whose plan citeproc-py
raises on (a macro not defined...), go through citeproc-py's own code.

Nothing planned here changes while citeproc-py renders: it adds a ``<name>``
to a ``<names>`` (not planned here) and changes a ``<date-part>``'s attributes
(not read here). The tests that pin the output of the other speed work pin
this too (tests/test_speed_bytes.py). What belongs upstream is in
docs/design.md ("citeproc-py, made fast").
"""

from __future__ import annotations

import threading

from citetool.formats import citeproc_memo
from citetool.formats.citeproc_memo import condition_holds

_lock = threading.Lock()
_installed = False
_children_plans = citeproc_memo.remembered_table()  # element -> ((child, is a <choose>), ...)
# <group> -> (delimiter, ((child, is a <choose>, calls a variable), ...)), or None: citeproc-py's own process
_group_plans = citeproc_memo.remembered_table()


def install() -> None:
    """Put the shortened walk in place of citeproc-py's own, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        from citeproc import model, string

        citeproc_memo.install()  # <if> and <else-if> render as it makes them (_choose_render relies on it)
        global _Choose, _VariableError, _join, _MixedString, _seam_punctuation, _strip_first_character
        _Choose, _VariableError, _join, _MixedString = model.Choose, model.VariableError, string.join, string.MixedString
        _seam_punctuation, _strip_first_character = string.SEAM_PUNCTUATION, string._strip_first_char
        model.Parent.render_children = _render_children
        global _citeprocs_group_process
        _citeprocs_group_process, model.Group.process = model.Group.process, _group_process
        string.normalize_seam = model.normalize_seam = _normalize_seam
        global _citeprocs_text_render, _String
        _citeprocs_text_render, _String = model.Text.render, string.String
        model.Text.render = _text_render
        global _If, _ConditionFailed
        _If, _ConditionFailed = model.If, model.ConditionFailed
        model.Choose.render = _choose_render
        _installed = True


_Choose: type = type(None)  # citeproc-py's, once installed
_VariableError: type[Exception] = Exception
_MixedString: type = type(None)
_join = _strip_first_character = _citeprocs_group_process = None
_seam_punctuation: frozenset = frozenset()


def _remembered(table: dict, element, plan):
    """``plan``, kept in ``table`` for ``element`` while a render is under way."""
    if citeproc_memo.rendering():
        table[element] = plan
    return plan


def _children_marked(table: dict, element, kind: type) -> tuple:
    """``element``'s children, each with whether it is a ``kind`` (remembered in ``table``)."""
    try:
        return table[element]
    except KeyError:
        return _remembered(table, element, tuple((child, isinstance(child, kind)) for child in element.iterchildren()))


def _render_children(self, item, delimiter="", **kwargs):
    """citeproc-py's Parent.render_children: each child rendered in turn (a
    ``<choose>`` given the enclosing delimiter: it is transparent), those that
    raise VariableError or give None left out, the rest joined."""
    output = []
    for child, is_choose in _children_marked(_children_plans, self, _Choose):
        try:
            text = child.render(item, delimiter=delimiter, **kwargs) if is_choose else child.render(item, **kwargs)
            if text is not None:
                output.append(text)
        except _VariableError:
            pass
    if output:
        return _join(output, delimiter)
    return None


def _group_plan(group) -> tuple | None:
    try:
        return _group_plans[group]
    except KeyError:
        try:
            children = tuple((child, isinstance(child, _Choose), child.calls_variable()) for child in group.iterchildren())
            plan = group.get("delimiter", ""), children
        except Exception:  # a child citeproc-py cannot answer for (a macro not defined): its own walk says so
            plan = None
        return _remembered(_group_plans, group, plan)


def _group_process(self, item, context=None, **kwargs):
    """citeproc-py's Group.process: the children rendered in turn (a ``<choose>``
    given the group's delimiter); the group renders when it calls no variable or
    one of the children that call one rendered, else raises VariableError."""
    plan = _group_plan(self)
    if plan is None:
        return _citeprocs_group_process(self, item, context=context, **kwargs)
    delimiter, children = plan
    output = []
    variable_called = variable_rendered = False
    for child, is_choose, calls_variable in children:
        variable_called = variable_called or calls_variable
        try:
            child_text = child.render(item, context=context, delimiter=delimiter, **kwargs) if is_choose else child.render(item, context=context, **kwargs)
            if child_text is not None:
                output.append(child_text)
                variable_rendered = variable_rendered or calls_variable
        except _VariableError:
            pass
    if output and (not variable_called or variable_rendered):
        return self.join(output)
    raise _VariableError


def _end_character(text, last: bool) -> str:
    """``str(text)[-1:]`` (``last``) or ``str(text)[:1]``, without making the whole string of a MixedString."""
    if isinstance(text, _MixedString):
        for segment in (reversed(text) if last else text):
            found = _end_character(segment, last)
            if found:
                return found
        return ""
    if type(text).__str__ is not _str_of_str:
        text = str(text)
    return text[-1:] if last else text[:1]


_str_of_str = str.__str__


def _normalize_seam(left, other):
    """citeproc-py's string.normalize_seam: ``other`` without its first character
    where it would double the space or the punctuation mark ``left`` ends with."""
    last = left[-1:] if type(left) is str else _end_character(left, True)
    first = other[:1] if type(other) is str else _end_character(other, False)
    if not last or not first:
        return other
    if (last == " " and first == " ") or (last == first and first in _seam_punctuation):
        return _strip_first_character(other)
    return other


_text_plans = citeproc_memo.remembered_table()  # <text> -> its _TextPlan, or None: citeproc-py's own render
_FORMATTING = ("font-style", "font-variant", "font-weight", "text-decoration", "vertical-align")


class _TextPlan:
    """What a ``<text>`` does, read from its attributes once: what it prints (a
    variable, whose name and short form are spelled once; a macro, found once; a
    term or a value) and which of citeproc-py's markup steps can change the text
    (each step without its attribute gives its text back as it is)."""

    __slots__ = ("variable", "key", "short_key", "macro", "cased", "stripped", "formatted", "quoted", "affixed")

    def __init__(self, text):
        attributes = text.attrib
        self.variable = self.key = self.short_key = self.macro = None
        if "variable" in attributes:
            variable = text.get("variable")
            if variable.startswith("page") or variable in ("citation-number", "locator"):
                raise LookupError(variable)  # citeproc-py's own _variable
            self.variable, self.key = variable, variable.replace("-", "_")
            if text.get("form") == "short":
                self.short_key = (variable + "-short").replace("-", "_")
        elif "macro" in attributes:
            self.macro = text.get_macro(text.get("macro"))
        self.cased = text.get("text-case") is not None
        self.stripped = text.get("strip-periods", "false").lower() == "true"
        self.formatted = any(name in attributes for name in _FORMATTING)
        text.get_locale_option("punctuation-in-quote").lower()  # citeproc-py's quote reads it: what it raises, raised here
        self.quoted = text.get("quotes", "false").lower() == "true"
        self.affixed = bool(text.get("prefix") or text.get("suffix"))


def _text_plan(text):
    try:
        return _text_plans[text]
    except KeyError:
        try:
            plan = _TextPlan(text) if ("variable" in text.attrib or "macro" in text.attrib) else None
        except Exception:  # what citeproc-py's render raises, it raises in its own words
            plan = None
        return _remembered(_text_plans, text, plan)


def _text_render(self, item, context=None, **kwargs):
    """citeproc-py's Text.render (``process``, then ``markup``) for a ``<text>``
    that prints a variable or a macro, by its plan (:class:`_TextPlan`); any other
    by citeproc-py's own."""
    plan = _text_plan(self)
    if plan is None:
        return _citeprocs_text_render(self, item, context=context, **kwargs)
    if context is None:
        context = self
    if plan.macro is not None:
        text = plan.macro.render(item, context)
    else:
        repressed = context.get_layout().repressed
        if repressed and self.tag in repressed and plan.variable in repressed[self.tag]:
            text = None
        else:
            reference = item.reference
            key = plan.short_key if plan.short_key is not None and plan.short_key in reference else plan.key
            text = reference[key]
    if not text:
        return None
    if plan.stripped:
        text = self.strip_periods(text)
    if plan.cased:
        try:
            language = item.reference.language[:2]
        except _VariableError:
            language = self.get_root().get("default-locale", "en")[:2]
        text = self.case(text, language)
    if plan.formatted:
        text = self.format(text)
    elif isinstance(text, (int, float)):
        text = str(text)
    if plan.quoted:
        text = self.quote(text)
    if plan.affixed or not (isinstance(text, (_String, _MixedString)) or type(text) is str):
        return self.wrap(text)
    return text  # Affixed.wrap without a prefix or suffix: the text as it is


_citeprocs_text_render = None
_String: type = type(None)


_choose_plans = citeproc_memo.remembered_table()  # <choose> -> ((branch, whether it is tested here), ...)
_If: type = type(None)  # citeproc-py's, once installed
_ConditionFailed: type[Exception] = Exception


def _choose_render(self, item, context=None, delimiter="", **kwargs):
    """citeproc-py's Choose.render: the first branch that holds is rendered (given
    the enclosing delimiter: a ``<choose>`` is transparent), None when none does.
    An ``<if>`` or ``<else-if>`` is tested here rather than made to raise
    ConditionFailed when it does not hold (what citetool's ``If.render`` does,
    :func:`citetool.formats.citeproc_memo.condition_holds`); a ConditionFailed
    raised from within a branch still moves on to the next, as in citeproc-py."""
    for branch, tested in _children_marked(_choose_plans, self, _If):
        try:
            if tested:
                if not condition_holds(branch, item, context):
                    continue
                return branch.render_children(item, context=context, delimiter=delimiter, **kwargs)
            return branch.render(item, context=context, delimiter=delimiter, **kwargs)
        except _ConditionFailed:
            continue
    return None
