"""citeproc-py's walk of a style, shortened without changing what it prints.

For every reference, citeproc-py walks the style's elements and, at each one,
asks lxml for its children again (a Python object looked up for each), asks
each child whether it is a ``<choose>`` and, in a ``<group>``, whether it calls
a variable; and every seam where two texts are joined turns both into whole
strings to read one character at each end. The children and those answers
depend on the style alone: here each ``<group>``, ``<macro>``, ``<layout>``,
``<if>``, ``<else-if>`` and ``<else>`` makes its plan once (its children, which
of them are a ``<choose>``, which call a variable, its delimiter), remembered
while a render is under way as :mod:`citetool.formats.citeproc_memo` remembers
the style's other answers, and emptied with them; a seam reads the last and
first characters where they are.

Nothing here changes while citeproc-py renders: it adds a ``<name>`` to a
``<names>`` (not planned here) and changes a ``<date-part>``'s attributes (not
read here). The tests that pin the output of the other speed work pin this too
(tests/test_speed_bytes.py). What belongs upstream is in docs/design.md
("citeproc-py, made fast").
"""

from __future__ import annotations

import threading

from citetool.formats import citeproc_memo

_lock = threading.Lock()
_installed = False
_children_plans = citeproc_memo.remembered_table()  # element -> ((child, is a <choose>), ...)
_group_plans = citeproc_memo.remembered_table()  # <group> -> (delimiter, ((child, is a <choose>, calls a variable), ...))


def install() -> None:
    """Put the shortened walk in place of citeproc-py's own, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        from citeproc import model, string

        global _Choose, _VariableError, _join, _MixedString, _seam_punctuation, _strip_first_character
        _Choose, _VariableError, _join, _MixedString = model.Choose, model.VariableError, string.join, string.MixedString
        _seam_punctuation, _strip_first_character = string.SEAM_PUNCTUATION, string._strip_first_char
        model.Parent.render_children = _render_children
        model.Group.process = _group_process
        string.normalize_seam = model.normalize_seam = _normalize_seam
        _installed = True


_Choose: type = type(None)  # citeproc-py's, once installed
_VariableError: type[Exception] = Exception
_MixedString: type = type(None)
_join = _strip_first_character = None
_seam_punctuation: frozenset = frozenset()


def _children(element) -> tuple:
    try:
        return _children_plans[element]
    except KeyError:
        plan = tuple((child, isinstance(child, _Choose)) for child in element.iterchildren())
        if citeproc_memo.rendering():
            _children_plans[element] = plan
        return plan


def _render_children(self, item, delimiter="", **kwargs):
    """citeproc-py's Parent.render_children: each child rendered in turn (a
    ``<choose>`` given the enclosing delimiter: it is transparent), those that
    raise VariableError or give None left out, the rest joined."""
    output = []
    for child, is_choose in _children(self):
        try:
            text = child.render(item, delimiter=delimiter, **kwargs) if is_choose else child.render(item, **kwargs)
            if text is not None:
                output.append(text)
        except _VariableError:
            pass
    if output:
        return _join(output, delimiter)
    return None


def _group_plan(group) -> tuple:
    try:
        return _group_plans[group]
    except KeyError:
        children = tuple((child, isinstance(child, _Choose), child.calls_variable()) for child in group.iterchildren())
        plan = group.get("delimiter", ""), children
        if citeproc_memo.rendering():
            _group_plans[group] = plan
        return plan


def _group_process(self, item, context=None, **kwargs):
    """citeproc-py's Group.process: the children rendered in turn (a ``<choose>``
    given the group's delimiter); the group renders when it calls no variable or
    one of the children that call one rendered, else raises VariableError."""
    delimiter, children = _group_plan(self)
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


def _last_character(text) -> str:
    """``str(text)[-1:]``, without making the whole string of a MixedString."""
    if isinstance(text, _MixedString):
        for segment in reversed(text):
            last = _last_character(segment)
            if last:
                return last
        return ""
    if type(text).__str__ is not str.__str__:
        text = str(text)
    return text[-1:]


def _first_character(text) -> str:
    """``str(text)[:1]``, without making the whole string of a MixedString."""
    if isinstance(text, _MixedString):
        for segment in text:
            first = _first_character(segment)
            if first:
                return first
        return ""
    if type(text).__str__ is not str.__str__:
        text = str(text)
    return text[:1]


def _normalize_seam(left, other):
    """citeproc-py's string.normalize_seam: ``other`` without its first character
    where it would double the space or the punctuation mark ``left`` ends with."""
    last, first = _last_character(left), _first_character(other)
    if not last or not first:
        return other
    if (last == " " and first == " ") or (last == first and first in _seam_punctuation):
        return _strip_first_character(other)
    return other

