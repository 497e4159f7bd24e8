"""The three-way store merge under random edit scripts on both sides
(hypothesis): it never loses a reference, nor a user edit that only one side
touched; a user edit beats a source's update; a removal stands unless the
other side edited the reference; a conflict is only ever two different user edits of one field; the
result is always a valid store.

Each side is edited with citetool's own operations (merge.set_user_field for
`edit`, merge.merge_into for a source's refresh, new_reference for `add`, and
the store-level rekey and removal), then the merge is run as the driver runs it."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from citetool.gitmerge import UNRESOLVED, merge_stores
from citetool.library import Library
from citetool.merge import USER, merge_into, new_reference, set_user_field
from citetool.store import dumps, loads

WORKS = [  # a pool of works; the first BASE_WORKS are in the common ancestor
    {"type": "article-journal", "DOI": f"10.5555/work.{i}", "title": f"Work number {i} on merging",
     "author": [{"family": f"Author{i}", "given": "Ann"}], "issued": {"date-parts": [[2000 + i]]},
     "volume": str(i), "page": f"{i}-{i + 9}"}
    for i in range(5)
]
BASE_WORKS = 3
FIELDS = ["title", "volume", "note"]  # few, so that both sides often meet on one field
VALUES = ["alpha", "beta", "gamma"]


def base_store() -> dict:
    records = {}
    for i in range(BASE_WORKS):
        rec = new_reference(WORKS[i], "crossref", WORKS[i]["DOI"], "2026-01-01T00:00:00Z")
        rec["id"] = f"w{i}"
        records[rec["id"]] = rec
    return records


op = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 4), st.sampled_from(FIELDS), st.sampled_from(VALUES)),
    st.tuples(st.just("unset"), st.integers(0, 4), st.sampled_from(FIELDS), st.none()),
    st.tuples(st.just("refresh"), st.integers(0, 4), st.sampled_from(FIELDS), st.sampled_from(VALUES)),
    st.tuples(st.just("remove"), st.integers(0, 4), st.none(), st.none()),
    st.tuples(st.just("rekey"), st.integers(0, 4), st.none(), st.none()),
    st.tuples(st.just("add"), st.integers(BASE_WORKS, 4), st.booleans(), st.none()),
)


class Side:
    """One branch: its records, and which work each key holds."""

    def __init__(self, name: str, base: dict):
        self.name = name
        self.records = copy.deepcopy(base)
        self.work_of = {k: int(k[1:]) for k in base}  # key -> index in WORKS
        self.removed: set[int] = set()
        self.renames = 0
        self.clock = 0

    def key_of(self, work: int) -> str | None:
        return next((k for k, w in self.work_of.items() if w == work), None)

    def apply(self, action, work, name, value) -> None:
        self.clock += 1
        when = f"2026-02-01T00:00:{self.clock:02d}Z"
        key = self.key_of(work)
        if action == "add":
            if key is None and work not in self.removed:
                key = f"w{work}" if name else f"w{work}{self.name}"  # same key on both sides, or not
                rec = new_reference(WORKS[work], "crossref", WORKS[work]["DOI"], when)
                rec["id"] = key
                self.records[key] = rec
                self.work_of[key] = work
            return
        if key is None:
            return
        rec = self.records[key]
        if action == "edit":
            set_user_field(rec, name, value, when)
        elif action == "unset" and name != "title":
            set_user_field(rec, name, None, when)
        elif action == "refresh":
            merge_into(rec, {name: value}, "crossref", WORKS[work]["DOI"], when)
        elif action == "remove":
            del self.records[key], self.work_of[key]
            self.removed.add(work)
        elif action == "rekey":
            self.renames += 1
            new = f"{self.name}{work}r{self.renames}"
            rec["id"] = new
            self.records[new] = self.records.pop(key)
            self.work_of[new] = self.work_of.pop(key)


def owner(rec: dict | None, name: str):
    if rec is None:
        return None
    return (rec.get(name), rec["citetool"]["fields"].get(name))


def changed(base_rec, side_rec) -> bool:
    return side_rec is not None and (
        base_rec is None or {k: v for k, v in side_rec.items() if k not in ("id", "citetool")}
        != {k: v for k, v in base_rec.items() if k not in ("id", "citetool")}
        or side_rec["citetool"]["fields"] != base_rec["citetool"]["fields"] or side_rec["id"] != base_rec["id"])


@settings(max_examples=300)
@given(st.lists(op, max_size=12), st.lists(op, max_size=12))
def test_the_merge_never_loses_a_reference_or_a_one_sided_user_edit(tmp_path_factory, ours_ops, theirs_ops):
    base = base_store()
    ours, theirs = Side("o", base), Side("t", base)
    for step in ours_ops:
        ours.apply(*step)
    for step in theirs_ops:
        theirs.apply(*step)

    outcome = merge_stores(copy.deepcopy(base), copy.deepcopy(ours.records), copy.deepcopy(theirs.records))
    merged = loads(dumps(outcome.records))  # a valid store, written and read back
    assert len({k.lower() for k in merged}) == len(merged)
    library = Library(tmp_path_factory.getbasetemp() / "never-written.json")

    def found(key: str) -> dict:
        return merged[library.resolve_key(key, merged)]  # by key or alias

    for work in range(len(WORKS)):
        o_key, t_key = ours.key_of(work), theirs.key_of(work)
        b_rec = base.get(f"w{work}")
        o_rec = ours.records.get(o_key) if o_key else None
        t_rec = theirs.records.get(t_key) if t_key else None
        holders = [r for r in merged.values() if r.get("DOI") == WORKS[work]["DOI"]]
        expected = (o_rec and t_rec) or (b_rec is None and (o_rec or t_rec)) \
            or (o_rec and changed(b_rec, o_rec)) or (t_rec and changed(b_rec, t_rec))
        if not expected:
            assert holders == [], f"work {work} was removed (and not edited) but survived"
            continue
        assert len(holders) == 1, f"work {work}: {len(holders)} references"
        for key in (o_key, t_key):
            if key:  # each side's key still cites it
                assert found(key) is holders[0]
        result = holders[0]
        for name in FIELDS:
            o, t = owner(o_rec, name), owner(t_rec, name)
            b = owner(b_rec, name) if b_rec else (None, None)
            for mine, other in ((o, t), (t, o)):
                if mine and mine[1] == USER and (other is None or other in (b, mine)):
                    assert owner(result, name) == mine, f"work {work}: the user's {name} was lost"
                if mine and mine[1] == USER and other and other[1] not in (USER, None):
                    assert owner(result, name) == mine, f"work {work}: a source update beat the user's {name}"
            unresolved = result["citetool"].get(UNRESOLVED, {})
            if o and t and o[1] == t[1] == USER and o[0] != t[0] and b not in (o, t):
                assert unresolved.get(name) == {"ours": o[0], "theirs": t[0]}, f"work {work}: {name} not in conflict"
                assert owner(result, name) == o  # ours stays in place
            else:
                assert name not in unresolved, f"work {work}: {name} is in conflict, but not two users' edits: {o}, {t}"
