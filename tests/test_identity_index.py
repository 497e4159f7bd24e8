"""The identity index builds its title keys only when needed (merge.IdentityIndex):
every placement must come out as with the index built whole (merge.build_index)."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from citetool.formats.imported import Imported
from citetool.ingest import Placer
from citetool.merge import IdentityIndex, build_index, new_reference

WHEN = "2026-01-01T00:00:00Z"


@st.composite
def records(draw):
    rec = {"type": draw(st.sampled_from(["article-journal", "book", "report"]))}
    for field, choices in (("DOI", ["10.1/a", "10.1/A", "10.1/b", "10.1/c"]),
                           ("title", ["A study of things", "A Study of Things!", "Another long title", "short"]),
                           ("URL", ["http://x.org/a", "http://x.org/a#f", "https://doi.org/10.1/a"]),
                           ("ISBN", ["9780306406157", "0-306-40615-2"])):
        value = draw(st.one_of(st.none(), st.sampled_from(choices)))
        if value:
            rec[field] = value
    year = draw(st.one_of(st.none(), st.sampled_from([2020, 2021])))
    if year:
        rec["issued"] = {"date-parts": [[year]]}
    family = draw(st.one_of(st.none(), st.sampled_from(["Smith", "Smíth", "Jones"])))
    if family:
        rec[draw(st.sampled_from(["author", "editor"]))] = [{"family": family, "given": "A."}]
    return rec


operations = st.lists(st.tuples(st.sampled_from(["found", "imported", "manual"]), records()), max_size=8)


def run(store: list[dict], ops, lazy: bool):
    stored = {f"k{i}": new_reference(copy.deepcopy(r), "import", "f.bib", WHEN) | {"id": f"k{i}"}
              for i, r in enumerate(store)}
    placer = Placer(stored, IdentityIndex(stored) if lazy else build_index(stored), WHEN)
    out = []
    for i, (kind, rec) in enumerate(ops):
        rec = copy.deepcopy(rec)
        if kind == "found":
            ident = "doi:" + rec["DOI"].lower() if rec.get("DOI") else f"url:op{i}"
            outcome = placer.found(f"op{i}", ident, [("crossref", rec.get("DOI", ""), rec)])
        elif kind == "imported":
            outcome = placer.imported("f.bib", Imported(key=None, record=rec, line=i + 1), [])
        else:
            outcome = placer.manual(f"op{i}", rec)
        out.append((outcome.status, outcome.key, sorted(outcome.changed or [])))
    return out, stored


@settings(max_examples=400, deadline=None)
@given(store=st.lists(records(), max_size=6), ops=operations)
def test_placements_are_those_of_the_whole_index(store, ops):
    assert run(store, ops, lazy=True) == run(store, ops, lazy=False)


@settings(max_examples=200, deadline=None)
@given(store=st.lists(records(), max_size=8), probes=st.lists(records(), max_size=5))
def test_lookups_answer_as_the_whole_index(store, probes):
    stored = {f"k{i}": r for i, r in enumerate(store)}
    whole, lazy = build_index(stored), IdentityIndex(stored)
    from citetool.merge import identity_keys

    for probe in probes:
        for ident in identity_keys(probe):
            assert lazy.get(ident) == whole.get(ident)
            assert (ident in lazy) == (ident in whole)
    lazy.complete()
    assert dict(lazy) == whole


def test_a_stored_record_keeps_answering_to_the_title_it_had_before_a_merge_changed_it():
    # Crossref's title replaces the imported one; an entry with the old title
    # still finds the reference, as it does with the index built whole.
    old = {"type": "article-journal", "DOI": "10.1/a", "title": "A study of things",
           "issued": {"date-parts": [[2020]]}, "author": [{"family": "Smith", "given": "A."}]}
    new = dict(old, title="Another long title")
    entry = {k: v for k, v in old.items() if k != "DOI"}
    ops = [("found", new), ("imported", entry)]
    lazy, whole = run([old], ops, lazy=True), run([old], ops, lazy=False)
    assert lazy == whole
    assert [(status, key) for status, key, _ in lazy[0]] == [("updated", "k0"), ("updated", "k0")]
