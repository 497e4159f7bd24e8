"""Where citeproc-py departs from the CSL specification in what it prints, mended
here until the fixes are upstream (each is a small change in citeproc-py's
``model.py``; docs/design.md). :func:`install` puts them in place.

**``<substitute>``.** A ``<substitute>`` stands in for the ``<names>`` it sits
in when none of their names is there (an edited volume has no author: its
editors are listed first): its elements are tried in turn, the first that
renders anything is used, and the variables it rendered are suppressed in the
rest of the entry. A ``<names>`` in it with no ``<name>`` of its own takes the
``<name>`` and ``<label>`` of the ``<names>`` around the ``<substitute>``.
citeproc-py does the second only for a ``<names>`` that is a child of the
``<substitute>`` itself; the Chicago, APA, MLA and Harvard styles reach some of
theirs through a ``<choose>`` (Chicago 18: ``<choose><if match="none"
type="standard"><names variable="editor"/>…``), where citeproc-py rendered
the whole branch at once, the editors given name first ("B. Taylor, P. Huchon,
eds.", a ``<name>`` made up on the spot); and it suppresses no substituted
``<names>`` later in the entry ("Edited by B. Taylor…" again). Here a
``<choose>`` is transparent: the elements of its branch that holds are tried in
turn, as the ``<substitute>``'s own.

**Title case of terms.** ``text-case="title"`` applies to English (CSL: an
item without a language is taken as English). citeproc-py skips it whenever
it is given no language, which is always for a ``<label>``, a ``<number>``
and a name: APA's "(eds.)" for its "(Eds.)". Here such text takes the
language of the style's locale.
"""

from __future__ import annotations

from collections.abc import Iterator

from citeproc import model
from citeproc.model import Choose, Else, Names, VariableError

from citetool.formats.citeproc_memo import condition_holds

_names_process = model.Names.process  # citeproc-py's own


_case = model.TextCased.case  # citeproc-py's own


def install() -> None:
    model.Substitute.render = _substitute_render
    model.Names.process = _names_process_unless_substituted
    model.TextCased.case = _case_in_the_styles_language


def _case_in_the_styles_language(self, text, language=None):
    """citeproc-py's TextCased.case, text given no language being in the style's."""
    if language is None:
        language = (self.getroottree().getroot().get("default-locale") or "en-US")[:2].lower()
    return _case(self, text, language)


def _names_process_unless_substituted(self, item, names_context=None, context=None, **kwargs):
    """citeproc-py's Names.process, but for names a ``<substitute>`` has already
    listed (the editors of an edited volume, then "Edited by" them again):
    citeproc-py suppresses a substituted ``<text variable>`` only. A ``<names>``
    of several variables (``editor translator``) is suppressed when each was
    substituted or is missing; with one of the others there, it prints all."""
    repressed = (self if context is None else context).get_layout().repressed.get(self.tag)
    if repressed and all(role in repressed or role not in item.reference for role in self.get("variable").split()):
        raise VariableError
    return _names_process(self, item, names_context=names_context, context=context, **kwargs)


def _substitute_render(self, item, context=None, **kwargs):
    names = self.xpath_search("./parent::cs:names[1]")[0]
    for child in _tried(self, item, context):
        try:
            if isinstance(child, Names) and child.name is None:
                text = child.render(item, names_context=names, context=context, **kwargs)
            else:
                text = child.render(item, context=context, **kwargs)
        except VariableError:
            continue
        if text:
            self.add_to_repressed_list(child, context)
            return text
    return None


def _tried(element, item, context) -> Iterator:
    """The elements a ``<substitute>`` tries, in order: its children, a
    ``<choose>`` replaced by the children of its branch that holds."""
    for child in element.getchildren():
        if isinstance(child, Choose):
            branch = _branch_taken(child, item, context)
            if branch is not None:
                yield from _tried(branch, item, context)
        else:
            yield child


def _branch_taken(choose, item, context):
    for branch in choose.getchildren():
        if isinstance(branch, Else) or condition_holds(branch, item, context):
            return branch
    return None
