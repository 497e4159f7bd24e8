"""citeproc-py, made fast without changing what it prints.

citeproc-py walks the style as an lxml tree for every reference, and asks that
tree the same questions again and again: each ``<text macro="...">`` looks its
macro up with an XPath query over the whole style, each ``<group>`` asks every
child, recursively through the macros, whether it calls a variable, each
``<name>`` finds its ``<bibliography>`` ancestor for every name option, each
term is an XPath query over the locale. On 475 references in APA that was
130,000 XPath queries and three quarters of the render.

The answers depend on the style alone (the tree's shape and attributes), never
on the reference, so they are remembered while a bibliography renders
(:func:`remembering`):

* an XPath query, by (element, expression);
* a macro, and a term, by the element asking and the name (and the term's form),
  and a term's singular text;
* an element's ``<layout>``, by element;
* a <name>'s options, by element, option and context;
* whether an element calls a variable, by element;
* the formatter and the locale's options, by element;
* the words of a condition (``type="book chapter"``), by element;
* which conditions an ``<if>`` tests, and its ``match``, by element;
* a macro a bibliography sort key rendered for a reference, which the
  bibliography's layout then takes instead of rendering it again
  (:func:`share_sort_render`; the conditions are said there).

The memory is emptied when the last render under way ends; outside a render
every wrapped method is citeproc-py's own. An XPath answer is handed out as a
fresh list, as lxml's are. lxml keeps the same Python object for an element
as long as one is referenced, and the memory references every element it
knows, so identity is a sound key; each render parses its own style, so two
renders never share an element.

The style does change in two places while rendering: a ``<date-part>`` takes
over the style's attributes (``attrib.update``), and a ``<names>`` without a
``<name>`` is given one. Neither changes a remembered answer: formatting
attributes are read as they are now (:func:`_plain_unless_formatted`), a
``<date-part>``'s other attributes are asked of no remembered query, and the
one remembered question about a ``<names>``'s children (its ``<substitute>``)
has the same answer once a ``<name>`` is added (the added one is a new element,
remembered afresh).

Two changes are not memories and hold in every process that imports this
module once :func:`install` ran: citeproc-py's dicts look present keys up in C
(``__missing__`` instead of a Python ``__getitem__``; the same answers), and
cited items of :func:`cited_item_class` find their reference once. And the
references of a render get their variables as attributes
(:func:`variables_as_attributes`). Tests pin the bytes of seven styles in text
and HTML (tests/test_speed_bytes.py). What belongs upstream is in
docs/design.md ("citeproc-py, made fast").
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_renders = 0  # renders under way
_memories: list[dict] = []  # every table below, emptied when the last render ends
_installed = False


def _table() -> dict:
    table: dict = {}
    _memories.append(table)
    return table


def remembered_table() -> dict:
    """A table of answers, emptied with the others when the last render under way ends."""
    return _table()


def rendering() -> bool:
    """Whether a render is under way (answers may be remembered)."""
    return bool(_renders)


def _remembered(original, key=lambda self, *args: (self, *args), copy=None):
    """``original`` answering from a table during a render; ``copy`` makes a
    fresh value of a remembered one (for answers a caller may change)."""
    table = _table()

    def remembering_method(self, *args):
        if not _renders:
            return original(self, *args)
        where = key(self, *args)
        try:
            answer = table[where]
        except KeyError:
            answer = table[where] = original(self, *args)
            if copy is None:
                return answer
            answer = table[where] = tuple(answer)
        return answer if copy is None else copy(answer)

    remembering_method.__name__ = original.__name__
    remembering_method.__doc__ = original.__doc__
    return remembering_method


def _remembering_name_option(original):
    """A <name>'s options (et-al-min, initialize-with...: fifteen for every
    name list), each read from the element or its <citation>/<bibliography>
    and, without sort options, after a TypeError raised and caught. With sort
    options (a sort key's own) it is citeproc-py's own call."""
    table = _table()

    def get_option(self, name, context=None, sort_options=None):
        if sort_options is not None or not _renders:
            return original(self, name, context, sort_options)
        key = (self, name, context)
        try:
            return table[key]
        except KeyError:
            answer = table[key] = original(self, name, context, sort_options)
            return answer
    return get_option


def _remembering_layout(original):
    """An element's ``<layout>`` (an XPath query over its ancestors), by element."""
    table = _table()

    def get_layout(self):
        try:
            return table[self]
        except KeyError:
            layout = original(self)
            if _renders:
                table[self] = layout
            return layout
    return get_layout


def _remembering_single_term(original):
    """An element's term in the singular (its lookup, then the term's text found
    and preformatted, made a String), by element and arguments. A String is never
    changed in place: every caller makes new text of it."""
    table = _table()

    def get_single_term(self, name, *args, **kwargs):
        if not _renders:
            return original(self, name, *args, **kwargs)
        key = (self, name, args, tuple(kwargs.items()))
        try:
            return table[key]
        except KeyError:
            answer = table[key] = original(self, name, *args, **kwargs)
            return answer
        except TypeError:  # an argument that is no key (citeproc-py passes none such)
            return original(self, name, *args, **kwargs)
    return get_single_term


def _remembering_term(original):
    """An element's term lookup (through the style's locales, in order), by its
    arguments as citeproc-py's signature names them."""
    table = _table()

    def get_term(self, name, form=None, fallback_locale=True, zero_padded=False):
        if not _renders:
            return original(self, name, form, fallback_locale, zero_padded)
        key = (self, name, form, fallback_locale, zero_padded)
        try:
            return table[key]
        except KeyError:
            answer = table[key] = original(self, name, form, fallback_locale, zero_padded)
            return answer
    return get_term


# Attributes Formatted.format reads; without any of them it changes nothing
# but a number into its text.
_FORMATTING = ("font-style", "font-variant", "font-weight", "text-decoration", "vertical-align")


def _plain_unless_formatted(original):
    """Formatted.format asks five methods in turn, each fetching the
    formatter, only to leave the text as it is when the element has no
    formatting attribute, as most have. The attributes are read as they are
    now (a <date-part> may take some over while rendering), never remembered."""
    def format(self, string):
        attributes = self.attrib
        for name in _FORMATTING:
            if name in attributes:
                return original(self, string)
        return str(string) if isinstance(string, (int, float)) else string
    return format


_condition_words = _table()


def _words(element, attribute: str, spelled) -> tuple[str, ...]:
    """The words of a condition's attribute, each as ``spelled``, remembered
    during a render (conditions are never changed while rendering)."""
    key = (element, attribute)
    try:
        return _condition_words[key]
    except KeyError:
        words = tuple(spelled(word) for word in element.get(attribute).split())
        if _renders:
            _condition_words[key] = words
        return words


def _type_condition(self, item):
    """citeproc-py's If._type, with the type names split and lowercased once."""
    types = _words(self, "type", str.lower)
    if not types:
        return []
    item_type = item.reference.type
    return [name == item_type for name in types]


def _underscored(word: str) -> str:
    return word.replace("-", "_")


def _variable_condition(self, item):
    """citeproc-py's If._variable, with the names split and respelled once."""
    reference = item.reference
    return [("locator" in item) if name == "locator" else (name in reference)
            for name in _words(self, "variable", _underscored)]


# The conditions an <if> or <else-if> may test, in the order citeproc-py's If.render tests them.
_CONDITIONS = ("type", "variable", "is-numeric", "is-uncertain-date", "locator", "position")
_condition_plans = _table()
_condition_failed: type[Exception] = Exception  # citeproc-py's ConditionFailed, once installed


def _if_render(self, item, context=None, delimiter="", **kwargs):
    """citeproc-py's If.render, with which conditions the element has and its
    ``match`` read once (each ``in self.attrib`` made an attribute proxy: eight
    for every <if> of every reference); the same tests, in the same order."""
    if not condition_holds(self, item, context):
        raise _condition_failed
    return self.render_children(item, context=context, delimiter=delimiter, **kwargs)


def condition_holds(self, item, context=None) -> bool:
    """Whether the conditions of an ``<if>`` or ``<else-if>`` hold for ``item``."""
    try:
        tests, match, types, variables = _condition_plans[self]
    except KeyError:
        attributes = self.attrib
        tests = tuple(name for name in _CONDITIONS if name in attributes)
        match = attributes.get("match")
        types = variables = None
        if set(tests) <= {"type", "variable"}:  # the common case, tested at once below
            types = _words(self, "type", str.lower) if "type" in tests else ()
            variables = _words(self, "variable", _underscored) if "variable" in tests else ()
        if _renders:
            _condition_plans[self] = tests, match, types, variables
    if types is not None:
        return _types_and_variables_hold(item, match, types, variables)
    results = []
    for test in tests:
        if test == "type":
            results += _type_condition(self, item)
        elif test == "variable":
            results += _variable_condition(self, item)
        elif test == "is-numeric":
            results += self._is_numeric(item)
        elif test == "is-uncertain-date":
            results += self._is_uncertain_date(item)
        elif test == "locator":
            results += self._locator(item)
        else:
            results += self._position(item, context)
    if match == "any":
        return any(results)
    if match == "none":
        return not any(results)
    return all(results)


def _types_and_variables_hold(item, match, types: tuple, variables: tuple) -> bool:
    """:func:`condition_holds` for an element testing only ``type`` and ``variable``:
    the results citeproc-py lists (each type name against the item's type, then
    each variable's presence), combined by ``match`` without making the list."""
    if not types and not variables:
        return match != "any"
    reference = item.reference
    if types:
        item_type = reference.type
        if match == "any" or match == "none":
            if item_type in types:
                return match == "any"
        elif any(name != item_type for name in types):
            return False
    for name in variables:
        present = ("locator" in item) if name == "locator" else (name in reference)
        if match == "any" or match == "none":
            if present:
                return match == "any"
        elif not present:
            return False
    return match != "any"


# id of a cited item (a dict: not hashable) -> (the item, {macro: (bibliography layout, asks, text)})
_shared_renders = _table()


def share_sort_render(macro, item, layout, asks: frozenset, text) -> None:
    """Offer ``text``, ``macro`` as a bibliography sort key rendered it for ``item``
    (``Key.sort_keys``: ``layout.repressed`` emptied, ``context=layout``, name sort
    options), to the render of the bibliography's ``layout``, which would render the
    very same macro for the very same item again. The layout takes it only where it
    renders ``macro`` for ``item`` from within ``layout`` and none of the variables
    suppressed so far in the entry is one the macro ``asks`` about (the
    ``(tag, variable)`` of its ``<text variable>`` and ``<names>``, through the
    macros it calls: citeproc-py reads ``layout.repressed`` there only), so that the
    render goes as the sort key's did (MLA's title after its author, the author
    substituted for the composer). The caller offers only what that render would
    give too:

    * a macro with no ``<names>`` of its own (the sort options reach only those:
      a ``<text macro>`` passes none on), and none calling ``citation-number``
      (set only when the bibliography renders), nor a localised ``<date>`` with
      ``<date-part>`` elements (citeproc-py copies their attributes into the locale's
      while rendering, so a render's order could matter);
    * a render that left nothing repressed (it suppressed nothing in the rest of
      the entry, so skipping it skips nothing the entry depends on).

    The item's reference must not change in between: :func:`forget_shared_renders`
    when it does (a year-suffix given). The context differs (the layout, not the
    ``<text>`` calling the macro), which changes nothing here: citeproc-py asks a
    context for its layout, its ``<bibliography>`` ancestor, its terms (the same
    for both) and a ``<date-part>`` child (neither has one)."""
    if _renders:
        held = _shared_renders.get(id(item))
        if held is None or held[0] is not item:
            held = _shared_renders[id(item)] = (item, {})
        held[1][macro] = (layout, asks, text)


def forget_shared_renders(item) -> None:
    """Drop what sort keys offered for ``item``: its reference changed."""
    _shared_renders.pop(id(item), None)


def _asks_suppressed(asks: frozenset, repressed: dict) -> bool:
    """Whether a variable in ``repressed`` (citeproc-py's: tag to the ``variable``
    attributes substituted, None for a ``<text macro>``) is one of ``asks``."""
    return any((tag, variable) in asks for tag, variables in repressed.items() for variable in variables)


def _taking_shared_renders(original):
    def render(self, item, context=None, sort_options=None):
        if sort_options is None and context is not None:
            held = _shared_renders.get(id(item))
            if held is not None and held[0] is item:
                offered = held[1].get(self)
                if offered is not None:
                    layout, asks, text = offered
                    if context.get_layout() is layout and not _asks_suppressed(asks, layout.repressed):
                        return text
        return original(self, item, context, sort_options)

    render.__name__ = original.__name__
    render.__doc__ = original.__doc__
    return render


def install() -> None:
    """Wrap citeproc-py's style queries, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        from citeproc import model

        base = model.CitationStylesElement
        base.xpath_search = _remembered(base.xpath_search, copy=list)
        base.get_formatter = _remembered(base.get_formatter, key=lambda self: self)
        base.get_locale_option = _remembered(base.get_locale_option)
        base.get_macro = _remembered(base.get_macro)
        base.get_term = _remembering_term(base.get_term)
        base.get_single_term = _remembering_single_term(base.get_single_term)
        base.get_layout = _remembering_layout(base.get_layout)
        model.Name.get_option = _remembering_name_option(model.Name.get_option)
        for cls in (model.Parent, *_subclasses(base)):
            if "calls_variable" in vars(cls):
                cls.calls_variable = _remembered(vars(cls)["calls_variable"], key=lambda self: self)
        model.Formatted.format = _plain_unless_formatted(model.Formatted.format)
        model.If._type = _type_condition
        model.If._variable = _variable_condition
        model.If.render = _if_render
        model.Macro.render = _taking_shared_renders(model.Macro.render)
        global _condition_failed
        _condition_failed = model.ConditionFailed
        _look_keys_up_in_c()
        _installed = True


def _subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _look_keys_up_in_c() -> None:
    """citeproc-py's dicts (a reference, a name, a date, a cited item) answer a
    missing key with VariableError from a ``__getitem__`` written in Python,
    which every variable of every reference goes through (half a million
    calls for 475 references in APA). ``__missing__`` says the same thing and
    lets dict look a present key up in C."""
    from citeproc.source import CustomDict, VariableError

    if "__getitem__" not in vars(CustomDict):
        return

    def __missing__(self, key):
        raise VariableError

    del CustomDict.__getitem__
    CustomDict.__missing__ = __missing__


def variables_as_attributes(source) -> None:
    """citeproc-py reads a reference's variables as attributes
    (``reference.type``, ``reference.page``), which Python answers only after a
    failed lookup has built an AttributeError and its message. Each reference
    of ``source`` gets its variables as attributes too (the same values; a
    missing variable still raises VariableError). Nothing changes a reference
    while it renders.

    A reference without a language gets a stand-in for it: every ``<text>``
    reads ``reference.language[:2]`` (citeproc-py's only use of it) and takes
    the style's default on VariableError, which the stand-in raises at once
    instead of after a failed attribute lookup."""
    from citeproc.source import VariableError

    class NoLanguage:
        def __getitem__(self, index):
            raise VariableError

    no_language = NoLanguage()
    for reference in source.values():
        vars(reference).update(reference)
        if "language" not in reference:
            vars(reference)["language"] = no_language


@functools.cache
def cited_item_class():
    """citeproc-py's CitationItem, whose ``reference`` (looked up through the
    citation, its bibliography and the source: three Python calls, 145,000
    times for 475 references in APA) is found once: neither the item's
    bibliography nor its source changes once it is registered."""
    from citeproc import CitationItem

    class RegisteredCitationItem(CitationItem):
        @functools.cached_property
        def reference(self):
            # Kept in the item's own attributes once found: later reads are no call at all.
            return self.citation.bibliography.source[self.key]

    return RegisteredCitationItem


@contextmanager
def remembering():
    """Remember the style's answers for the length of one render."""
    global _renders
    install()
    with _lock:
        _renders += 1
    try:
        yield
    finally:
        with _lock:
            _renders -= 1
            if not _renders:
                for table in _memories:
                    table.clear()
