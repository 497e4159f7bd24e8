"""Property-based tests of the merge engine (hypothesis)."""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from citetool.merge import IMPORT, USER, merge_into, new_reference, set_user_field
from citetool.sources import names

FIELDS = ["title", "volume", "issue", "page", "publisher", "container-title", "note"]
SOURCES = names() + [IMPORT]
# Control characters never reach the store (merge strips them: tests/test_store_files.py), nor
# lone surrogates (read as U+FFFD: tests/test_speed_bytes.py).
values = st.one_of(st.none(), st.just(""), st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12))
records = st.dictionaries(st.sampled_from(FIELDS), values, max_size=len(FIELDS))
WHEN = "2026-01-01T00:00:00Z"


def strip_meta(rec):
    return {k: v for k, v in rec.items() if k != "citetool"}


@given(base=records, incoming=records, source=st.sampled_from(SOURCES))
def test_merging_the_same_record_twice_changes_nothing(base, incoming, source):
    rec = new_reference({k: v for k, v in base.items() if v}, "import", "f.bib", WHEN)
    merge_into(rec, incoming, source, "x", WHEN)
    once = copy.deepcopy(rec)
    assert merge_into(rec, incoming, source, "x", WHEN) == []
    assert rec == once


@given(a=records, b=records, sa=st.sampled_from(SOURCES), sb=st.sampled_from(SOURCES))
def test_order_of_sources_does_not_matter_for_fields_that_do_not_conflict(a, b, sa, sb):
    a = {k: v for k, v in a.items() if v}
    b = {k: v for k, v in b.items() if v and (k not in a or a[k] == v)}  # no conflicting values
    first = new_reference({}, "import", "f", WHEN)
    merge_into(first, a, sa, "x", WHEN)
    merge_into(first, b, sb, "y", WHEN)
    second = new_reference({}, "import", "f", WHEN)
    merge_into(second, b, sb, "y", WHEN)
    merge_into(second, a, sa, "x", WHEN)
    assert strip_meta(first) == strip_meta(second) == {**a, **b}


@settings(max_examples=200)
@given(base=records, edits=st.dictionaries(st.sampled_from(FIELDS), values, min_size=1),
       later=st.lists(st.tuples(records, st.sampled_from(SOURCES)), max_size=4))
def test_user_edits_always_survive(base, edits, later):
    rec = new_reference({k: v for k, v in base.items() if v}, "crossref", "10.1/x", WHEN)
    for field, value in edits.items():
        set_user_field(rec, field, value or None, WHEN)
    expected = {f: (v or None) for f, v in edits.items()}
    for incoming, source in later:
        merge_into(rec, incoming, source, "again", WHEN)
    for field, value in expected.items():
        assert rec.get(field) == value
        assert rec["citetool"]["fields"][field] == USER


@given(base=records, incoming=records, source=st.sampled_from(SOURCES))
def test_a_source_never_erases_a_value(base, incoming, source):
    base = {k: v for k, v in base.items() if v}
    rec = new_reference(base, "import", "f", WHEN)
    merge_into(rec, incoming, source, "x", WHEN)
    for field in base:
        assert rec.get(field)
