"""Values of the wrong type, wherever they come from (a metadata source, an
imported file, a hand-edited store), against the fake servers on 127.0.0.1.

An answer of the wrong shape is one failed item with its reason (exit 3), the
others stored; an imported entry of the wrong shape is reported and skipped;
a store holding one is refused with exit 4 naming the reference and the field,
and ``doctor --repair`` mends it. The wrong shapes are made here, by changing
recorded answers (tests/fixtures/crossref/works/) as each test says.
"""

from __future__ import annotations

import json

import pytest
from conftest import ALL_WORKS

BAD = "10.1038/hdy.2013.26"
GOOD = ["10.1038/srep16696", "10.1038/ng.3834"]


def work(doi: str) -> dict:
    return json.loads(ALL_WORKS[doi.lower()].read_text(encoding="utf-8"))["message"]


def serve(crossref, doi: str, change) -> None:
    """The fake Crossref answers ``doi`` with its recorded work changed by ``change``."""
    message = work(doi)
    change(message)
    body = json.dumps({"status": "ok", "message-type": "work", "message": message}).encode()
    crossref.overrides[doi.lower()] = (200, body, "application/json")


def stored(store_path) -> dict:
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


# --- A. a Crossref work of the wrong shape ---------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    (lambda w: w.__setitem__("type", ["journal-article"]), "type"),
    (lambda w: w.__setitem__("container-title", 5), "container-title"),
    (lambda w: w.__setitem__("ISBN", 5), "ISBN"),
    (lambda w: w.__setitem__("ISSN", 5), "ISSN"),
    (lambda w: w.__setitem__("institution", 5), "institution"),
    (lambda w: w["author"][0].__setitem__("given", 1), "author[1].given"),
    (lambda w: w.__setitem__("editor", [{"given": "A", "family": ["B"]}]), "editor[1].family"),
    (lambda w: w.__setitem__("updated-by", 3), "updated-by"),
    (lambda w: w.__setitem__("relation", {"is-preprint-of": 4}), "relation.is-preprint-of"),
])
def test_a_work_of_the_wrong_shape_fails_alone_in_a_batch(crossref, run, store_path, change, field):
    serve(crossref, BAD, change)
    result = run("add", "-", input="\n".join([BAD, *GOOD]) + "\n")
    assert result.exit_code == 3, result.stderr
    assert f"Crossref answered {BAD} of the wrong shape: {field}" in result.stderr
    assert "internal error" not in result.stderr
    dois = sorted(r["DOI"] for r in stored(store_path).values())
    assert dois == sorted(GOOD)
    assert run("list").exit_code == 0


def test_refresh_fails_only_the_reference_whose_answer_has_the_wrong_shape(crossref, run, store_path):
    assert run("add", BAD, *GOOD).exit_code == 0
    before = stored(store_path)
    bad_key = next(k for k, r in before.items() if r["DOI"] == BAD)
    serve(crossref, BAD, lambda w: w.__setitem__("title", {"text": "x"}))
    result = run("refresh")
    assert result.exit_code == 3
    assert f"{bad_key}: Crossref answered {BAD} of the wrong shape: title" in result.stderr
    assert "1 failed" in result.stderr
    assert stored(store_path)[bad_key] == before[bad_key]


def test_a_reference_written_out_whose_best_candidate_has_the_wrong_shape_fails(crossref, run, store_path, httpserver):
    from werkzeug import Response

    candidate = work("10.1038/srep16696")
    candidate["author"] = 7
    candidate["score"] = 90.0
    body = {"status": "ok", "message": {"items": [candidate]}}
    httpserver.clear()  # /works answers this search only
    httpserver.expect_request("/works").respond_with_handler(
        lambda request: Response(json.dumps(body), status=200, content_type="application/json"))
    result = run("add", "Tosatto et al. 2015 Single-molecule FRET studies on alpha-synuclein oligomerization")
    assert result.exit_code == 3
    assert "Crossref answered 10.1038/srep16696 of the wrong shape: author" in result.stderr
    assert not store_path.exists()


LINE = ("Tosatto, L. et al. (2015). Single-molecule FRET studies on alpha-synuclein oligomerization of "
        "Parkinson's disease genetically related mutants. Sci Rep 5, 16696.")


def test_a_runner_up_of_the_wrong_shape_does_not_sink_a_clear_match(run, store_path, httpserver, monkeypatch):
    from werkzeug import Response

    best, odd = work("10.1038/srep16696"), work("10.1038/ng.3834")
    best["score"], odd["score"], odd["container-title"] = 90.0, 10.0, 5
    body = {"status": "ok", "message": {"items": [odd, best]}}
    httpserver.expect_request("/works").respond_with_handler(
        lambda request: Response(json.dumps(body), status=200, content_type="application/json"))
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    listed = run("search", "--json", LINE)
    assert listed.exit_code == 0, listed.stderr
    assert [c["DOI"] for c in json.loads(listed.stdout)] == ["10.1038/srep16696"]  # the odd one is left out
    result = run("add", LINE)
    assert result.exit_code == 0, result.stderr
    assert [r["DOI"] for r in stored(store_path).values()] == ["10.1038/srep16696"]


@pytest.mark.parametrize(("field", "value", "said"), [
    ("updated-by", 1, "updated-by"), ("update-to", 1, "update-to"),
    ("relation", {"is-preprint-of": 1}, "relation.is-preprint-of"), ("relation", 1, "relation"),
])
@pytest.mark.parametrize("command", ["check", "upgrade"])
def test_check_with_a_number_for_the_notices_is_exit_3_the_others_checked(crossref, run, store_path, field, value,
                                                                          said, command):
    assert run("add", BAD, *GOOD).exit_code == 0
    before = store_path.read_bytes()
    import conftest

    changed = work(BAD)
    changed[field] = value
    path = store_path.parent / "bad-work.json"
    path.write_text(json.dumps({"message": changed}), encoding="utf-8")
    conftest.ALL_WORKS[BAD] = path
    try:
        result = run(command, *(["--all"] if command == "check" else []))
    finally:
        conftest.ALL_WORKS[BAD] = conftest.WORKS / "10.1038_hdy.2013.26.json"
    assert result.exit_code == 3, result.stderr
    assert f"Crossref answered {BAD} of the wrong shape: {said}" in result.stderr
    if command == "check":
        assert result.stdout.count("\tok") == 2
    assert store_path.read_bytes() == before


# --- B. upgrade whose published version has the wrong shape ------------------------

def test_upgrade_whose_published_version_has_the_wrong_shape_leaves_the_store_as_it_was(crossref, run, store_path):
    preprint = "10.1101/097196"
    assert run("add", preprint).exit_code == 0
    before = store_path.read_bytes()
    relation = {"is-preprint-of": [{"id-type": "doi", "id": "10.1038/ng.3834", "asserted-by": "subject"}]}
    import conftest

    changed = work(preprint)
    changed["relation"] = relation
    path = store_path.parent / "preprint.json"
    path.write_text(json.dumps({"message": changed}), encoding="utf-8")
    conftest.ALL_WORKS[preprint] = path
    serve(crossref, "10.1038/ng.3834", lambda w: w.__setitem__("container-title", 5))
    try:
        result = run("upgrade")
    finally:
        conftest.ALL_WORKS[preprint] = conftest.WORKS / "10.1101_097196.json"
    assert result.exit_code == 3, result.stderr
    assert "Crossref answered 10.1038/ng.3834 of the wrong shape: container-title" in result.stderr
    assert store_path.read_bytes() == before


# --- C. doi.org and Open Library answers of the wrong shape ------------------------

DATACITE = "10.5555/citetool-test.datacite"


@pytest.mark.parametrize(("change", "field"), [
    (lambda i: i.__setitem__("URL", {"date-parts": [[2020]]}), "URL"),
    (lambda i: i.__setitem__("author", 1), "author"),
    (lambda i: i.__setitem__("author", [{"family": {"x": 1}}]), "author.family"),
    (lambda i: i.__setitem__("DOI", {"x": 1}), "DOI"),
    (lambda i: i.__setitem__("title", True), "title"),
    (lambda i: i.__setitem__("issued", 2020.5), "issued"),
])
def test_doi_org_answer_of_the_wrong_shape_is_exit_3_and_stores_nothing(httpserver, run, store_path, monkeypatch,
                                                                           change, field):
    from conftest import DOI_ORG, NOT_FOUND_BODY
    from werkzeug import Response

    item = json.loads((DOI_ORG / "10.5555_citetool-test.datacite.json").read_text(encoding="utf-8"))
    change(item)
    httpserver.expect_request(f"/works/{DATACITE}").respond_with_response(Response(NOT_FOUND_BODY, status=404))
    httpserver.expect_request(f"/{DATACITE}").respond_with_response(
        Response(json.dumps(item), status=200, content_type="application/vnd.citationstyles.csl+json"))
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("CITETOOL_DOI_URL", httpserver.url_for("").rstrip("/"))
    result = run("add", DATACITE)
    assert result.exit_code == 3, result.stderr
    assert f"doi.org answered {DATACITE} of the wrong shape: {field}" in result.stderr
    assert not store_path.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("publishers", 5), ("authors", 1), ("publish_places", 2), ("title", ["A"]), ("subtitle", 3),
])
def test_open_library_answer_of_the_wrong_shape_is_exit_3(httpserver, run, store_path, monkeypatch, field, value):
    from conftest import OPENLIBRARY
    from werkzeug import Response

    isbn = "9780000000002"
    body = json.loads((OPENLIBRARY / f"isbn_{isbn}.json").read_text(encoding="utf-8"))
    body[f"ISBN:{isbn}"][field] = value
    empty = {"status": "ok", "message": {"items": []}}
    httpserver.expect_request("/works").respond_with_response(Response(json.dumps(empty), content_type="application/json"))
    httpserver.expect_request("/api/books").respond_with_response(Response(json.dumps(body), content_type="application/json"))
    for name in ("CITETOOL_CROSSREF_URL", "CITETOOL_OPENLIBRARY_URL"):
        monkeypatch.setenv(name, httpserver.url_for("").rstrip("/"))
    result = run("add", f"isbn:{isbn}")
    assert result.exit_code == 3, result.stderr
    assert f"Open Library answered ISBN {isbn} of the wrong shape: {field}" in result.stderr
    assert not store_path.exists()


# --- D. a CSL-JSON import of the wrong shape ----------------------------------------

def test_csl_json_entries_of_the_wrong_shape_are_reported_and_skipped(run, store_path, tmp_path):
    items = [
        {"id": "zz", "type": "book", "title": "A", "issued": "2020", "volume": None},
        {"id": "ok1", "type": "book", "title": "B", "issued": 2020, "volume": 3, "author": [{"family": "X"}]},
        {"id": "t1", "title": 1},
        {"id": "d5", "title": "C", "DOI": 5},
        {"id": "ty", "title": "D", "type": 1},
        {"id": "nm", "title": "E", "author": [{"family": "F", "given": 1}]},
        {"id": "ok2", "type": "article-journal", "title": "G", "volume": None, "issued": {"date-parts": [["2019", 5]]}},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(items)[:-1] + ', {"id": "nan", "title": NaN}]', encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 3, result.stderr
    for line in [f"{path}: entry 1 (zz): the field 'issued' holds text, not a date; skipped",
                 f"{path}: entry 3 (t1): the field 'title' holds a number, not text; skipped",
                 f"{path}: entry 4 (d5): the field 'DOI' holds a number, not text; skipped",
                 f"{path}: entry 5 (ty): the field 'type' holds a number, not text; skipped",
                 f"{path}: entry 6 (nm): the field 'author' holds a name whose 'given' is a number, not text; skipped",
                 f"{path}: entry 8 (nan): the field 'title' holds a number, not text; skipped"]:
        assert "citetool: " + line in result.stderr.splitlines()
    assert result.stdout.split() == ["ok1", "ok2"]
    refs = stored(store_path)
    assert sorted(refs) == ["ok1", "ok2"]
    assert refs["ok1"]["issued"] == {"date-parts": [[2020]]} and refs["ok1"]["volume"] == 3  # a year as a number: that year
    assert "volume" not in refs["ok2"]  # null: no value
    listed = run("list")
    assert listed.exit_code == 0 and listed.stdout.count("\n") == 2
    assert run("export", "-f", "csl-json").exit_code == 0


# --- E. a hand-edited store of the wrong shape --------------------------------------

HAND_EDITS = [
    ("title", 1, "'title' holds a number, not text"),
    ("title", ["x", "y"], "'title' holds a list, not text"),
    ("citetool", None, "'citetool' holds null, not an object"),
    ("citetool", {"unresolved": 1}, "'citetool.unresolved' holds a number, not an object"),
    ("citetool", {"aliases": 1}, "'citetool.aliases' holds a number, not a list"),
    ("citetool", {"fields": {"title": ["crossref"]}}, "'citetool.fields' holds something other than text"),
    ("type", ["book"], "'type' holds a list, not text"),
    ("DOI", 1, "'DOI' holds a number, not text"),
    ("issued", {"date-parts": [[None]]}, "'issued' holds a date with null among its date-parts"),
    ("volume", 123456789012345678901234567890, "'volume' holds a number too large"),
    ("author", [{"family": "A", "given": 5}], "'author' holds a name whose 'given' is a number"),
    ("issued", {"date-parts": [[2 ** 70]]}, "'issued' holds a date with a number too large"),
    ("citetool", {"updates": {"findings": [{"kind": 5}]}}, "'citetool.updates' holds findings that are not"),
    ("citetool", {"relations": [{"DOI": 5, "type": "preprint"}]}, "'citetool.relations' holds an entry whose"),
    ("citetool", {"sources": {"crossref": {"id": 5}}}, "'citetool.sources' holds an entry whose"),
    ("author", [{"family": "A", "static-ordering": 2 ** 70}], "'author' holds a name whose 'static-ordering'"),
]


@pytest.fixture
def two(store_path):
    """A valid store of two references, a and b."""
    refs = [{"id": "a", "type": "book", "title": "A book", "issued": {"date-parts": [[2020]]},
             "citetool": {"added": "2026-01-01T00:00:00Z", "fields": {"title": "user"}}},
            {"id": "b", "type": "book", "title": "B book", "DOI": "10.1/b", "volume": "3",
             "citetool": {"added": "2026-01-01T00:00:00Z", "fields": {"title": "user"}}}]
    return refs


def write_store(store_path, refs) -> bytes:
    from citetool.store import dump_bytes

    data = dump_bytes({r["id"]: r for r in refs})
    store_path.write_bytes(data)
    return data


COMMANDS = [("list",), ("list", "--json"), ("list", "--flagged"), ("export", "-f", "html"),
            ("show", "b"), ("show", "B"), ("show", "nosuchkey"), ("export",), ("export", "-f", "csl-json"),
            ("export", "-f", "text", "--style", "apa"), ("edit", "a", "--set", "note=x"), ("remove", "a"),
            ("rekey", "a", "c"), ("add", "--offline", "10.1/zz"), ("check",), ("refresh",), ("upgrade",)]


@pytest.mark.parametrize(("field", "value", "said"), HAND_EDITS)
def test_every_command_on_a_hand_edited_store_is_exit_4_naming_reference_and_field(run, store_path, two, field,
                                                                                   value, said):
    two[1][field] = value
    before = write_store(store_path, two)
    for command in COMMANDS:
        result = run(*command)
        if command == ("show", "nosuchkey"):  # no reference is read: the key is not there
            assert result.exit_code == 5, result.stderr
            continue
        assert result.exit_code == 4, (command, result.stderr)
        assert f"reference 'b': the field {said}" in result.stderr, (command, result.stderr)
        assert "citetool doctor --repair" in result.stderr
        assert store_path.read_bytes() == before
    shown = run("show", "a")  # show reads one reference: a sound one is shown
    assert shown.exit_code == 0 and "A book" in shown.stdout
    # doctor says what is wrong (exit 4), --repair mends it and says how; then every command works
    report = run("doctor")
    assert report.exit_code == 4 and f"problem: b: the field {said}" in report.stdout
    repaired = run("doctor", "--repair")
    assert repaired.exit_code == 0, repaired.stdout
    assert "repaired: b: " in repaired.stdout and "backup: " in repaired.stdout
    assert run("doctor").exit_code == 0
    for command in [("list",), ("export", "-f", "csl-json"), ("export", "-f", "text", "--style", "apa")]:
        assert run(*command).exit_code == 0, command


def test_doctor_repair_reads_what_it_can_and_says_so(run, store_path, two):
    two[1]["title"] = ["x", "y"]
    two[1]["type"] = ["book"]
    two[1]["citetool"]["aliases"] = "bee"
    two[1]["author"] = [{"family": "A", "given": 5}]
    write_store(store_path, two)
    result = run("doctor", "--repair")
    assert result.exit_code == 0, result.stdout
    assert "repaired: b: type set to 'book'" in result.stdout
    assert "repaired: b: the field 'title' is now 'x y'" in result.stdout
    assert "repaired: b: the field 'citetool.aliases' is now ['bee']" in result.stdout
    b = stored(store_path)["b"]
    assert (b["title"], b["type"], b["citetool"]["aliases"], b["author"]) == (
        "x y", "book", ["bee"], [{"family": "A", "given": "5"}])


@pytest.mark.parametrize("change", [
    lambda b: b.__setitem__("citetool", None),
    lambda b: b["citetool"].__setitem__("fields", 5),
    lambda b: b.__setitem__("DOI", 5),
])
def test_merge_driver_with_a_version_of_the_wrong_shape_is_exit_4(run, tmp_path, two, change):
    from citetool.store import dump_bytes

    base = tmp_path / "base.json"
    base.write_bytes(dump_bytes({r["id"]: r for r in two}))
    change(two[1])
    bad = tmp_path / "bad.json"
    bad.write_bytes(dump_bytes({r["id"]: r for r in two}))
    for ours, theirs, label in [(base, bad, "theirs"), (bad, base, "ours")]:
        target = tmp_path / "ours.json"
        target.write_bytes(ours.read_bytes())
        result = run("merge-driver", str(base), str(target), str(theirs))
        assert result.exit_code == 4, result.stderr
        assert f"cannot merge {label}: reference 'b': the field" in result.stderr
        assert target.read_bytes() == ours.read_bytes()


# --- F. resolve --take theirs of the wrong shape ---------------------------------------

@pytest.mark.parametrize(("theirs", "code", "said"), [
    ("bad", 2, "theirs value of issued: not a date: 'bad'"),
    (5, 2, "theirs value of issued holds a number, not a date"),
    ("2020-03", 0, None),
])
def test_resolve_reads_theirs_as_edit_set_does(run, store_path, two, theirs, code, said):
    two[0]["citetool"]["unresolved"] = {"issued": {"ours": {"date-parts": [[2020]]}, "theirs": theirs}}
    before = write_store(store_path, two)
    result = run("resolve", "a", "issued", "--take", "theirs")
    assert result.exit_code == code, result.stderr
    if said:
        assert said in result.stderr
        assert store_path.read_bytes() == before
    else:
        assert stored(store_path)["a"]["issued"] == {"date-parts": [[2020, 3]]}
    assert run("list").exit_code == 0


def test_edit_set_refuses_json_of_the_wrong_shape(run, store_path, two):
    before = write_store(store_path, two)
    result = run("edit", "a", "--set", "title=[1]")
    assert result.exit_code == 2
    assert "the value given for 'title' holds a list, not text" in result.stderr
    assert store_path.read_bytes() == before


@pytest.mark.parametrize(("change", "said"), [
    ("r['title'] = ['x', 'y']", "the value given for 'title' holds a list, not text"),
    ("r['issued'] = '2020'", "the value given for 'issued' holds text, not a date"),
    ("r['author'] = [{'family': 'A', 'given': 5}]", "the value given for 'author' holds a name whose 'given' is a number, not text"),
])
def test_edit_in_the_editor_refuses_a_value_of_the_wrong_shape(run, store_path, two, tmp_path, monkeypatch, change, said):
    import sys

    from citetool import environment

    before = write_store(store_path, two)
    editor = tmp_path / "editor.py"
    editor.write_text(f"import json, sys\np = sys.argv[1]\nr = json.load(open(p))\n{change}\n"
                      "json.dump(r, open(p, 'w'))\n", encoding="utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.setattr(environment, "_isatty", lambda stream: True)
    result = run("edit", "a")
    assert result.exit_code == 2, result.stderr
    assert f"{said}; nothing changed" in result.stderr
    assert store_path.read_bytes() == before
    assert run("list").exit_code == 0
