"""Inputs that used to crash citetool (exit 1, "internal error") or lose or
misreport data: each is now a one-line message with its documented exit code,
and what is stored is what the input says."""

import json

from citetool.errors import ExitCode


def stored(store_path) -> dict:
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- one bad entry never sinks an import ---------------------------------------

def test_a_name_bibtexparser_cannot_split_skips_only_its_entry(run, store_path, tmp_path):
    bib = write(tmp_path / "n.bib", "@article{ok,title={Fine},author={Doe, J.},year=2000}\n"
                                    "@article{n3,title={N3},author={, , ,},year=2000}\n")
    result = run("import", bib)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED, result.stderr
    assert f"citetool: {bib}:2: skipped an entry that cannot be read (" in result.stderr
    assert "Too many commas" in result.stderr and "internal error" not in result.stderr
    assert result.stdout == "ok\n"
    assert list(stored(store_path)) == ["ok"]


def test_json_nested_too_deeply_is_a_malformed_file(run, store_path, tmp_path):
    deep = write(tmp_path / "deep.json", "[" + "[" * 100000 + "]" * 100000 + "]\n")
    result = run("import", deep)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr == f"citetool: {deep}: cannot be read: its JSON is nested too deeply\n"
    assert not store_path.exists()


def test_yaml_front_matter_that_holds_itself_is_a_usage_error(run, store_path, tmp_path):
    md = write(tmp_path / "y.md", "---\nnocite: &a [*a]\n---\n@x\n")
    result = run("bib", "--keys", md)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (f"citetool: error: cannot read {md}: its YAML front matter holds itself "
                             "(an alias inside its own anchor)\n")
    deep = write(tmp_path / "deep.md", "---\nnocite: " + "[" * 10000 + "]" * 10000 + "\n---\n@x\n")
    result = run("bib", "--keys", deep)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"citetool: error: cannot read {deep}: its YAML front matter is nested too deeply to be read\n"


def test_an_alias_used_twice_in_yaml_is_no_loop(run, tmp_path):
    md = write(tmp_path / "y.md", '---\nnocite: ["@a", &b {x: "@c"}, *b, [["@d"]]]\ntitle_: "@z"\n---\n@x [@y]\n')
    result = run("bib", "--keys", md)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["x", "y", "a", "c", "d"]


# --- identifiers ---------------------------------------------------------------

def test_malformed_web_addresses_are_not_identifiers(run, store_path):
    for url in ("http://[::1", "http://host:99999/", "http://[::1]:x/", "http://[zz]/", "https://[::1]x/"):
        result = run("add", url)
        assert result.exit_code == ExitCode.IDENTIFIERS_FAILED, (url, result.stderr)
        assert result.stderr.startswith(f"citetool: error: not a recognisable identifier (expected a DOI, a RePEc "
                                        f"handle, an ISBN or a web address): {url!r}\n"), result.stderr
    assert not store_path.exists()


def test_a_control_character_in_an_identifier_is_named_and_nothing_is_asked(crossref, run, store_path, tmp_path):
    listing = tmp_path / "nul.txt"
    listing.write_bytes(b"10.1038/srep16696\x00\n")
    result = run("add", "--from", str(listing))
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr.splitlines()[0] == ("citetool: error: holds a control character (U+0000), which no "
                                             "identifier has: '10.1038/srep16696\\x00'")
    assert crossref.requests == []
    assert not store_path.exists()
    result = run("add", "-", input="10.1038/srep16696\x1b[2J\n")
    assert "holds a control character (U+001B)" in result.stderr and result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert crossref.requests == []


# --- RIS -----------------------------------------------------------------------

def test_a_ris_record_without_its_end_is_reported_not_lost(run, store_path, tmp_path):
    ris = write(tmp_path / "noend.ris", "TY  - JOUR\nTI  - No end\nAU  - Doe, J.\nPY  - 2020\n")
    result = run("import", ris)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr == (f"citetool: {ris}:1: skipped a record with no end (the file ends before its 'ER  - ' line)\n"
                             "citetool: 0 imported, 0 updated, 0 already present, 1 failed\n")  # counts are true (#26)
    assert not store_path.exists()


def test_a_ris_record_cut_by_the_next_one_is_reported_and_the_next_imported(run, store_path, tmp_path):
    ris = write(tmp_path / "two.ris", "TY  - JOUR\nTI  - A\nTY  - JOUR\nTI  - B\nPY  - 2020\nER  - \n")
    result = run("import", ris)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert f"{ris}:1: skipped a record with no end (a new 'TY  - ' came at line 3 before its 'ER  - ' line)" in result.stderr
    assert [r["title"] for r in stored(store_path).values()] == ["B"]


def test_a_ris_file_is_read_as_ris_whatever_it_holds(run, store_path, tmp_path):
    empty = write(tmp_path / "zero.ris", "")
    result = run("import", empty)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr == f"citetool: {empty}: no RIS record (a record starts with a 'TY  - ' line)\n"
    headless = write(tmp_path / "nty.ris", "TI  - x\nER  - \n")
    result = run("import", headless)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr == (f"citetool: {headless}:1: 'TI  - ' outside a record: a RIS record starts with a "
                             "'TY  - ' line and ends with an 'ER  - ' line\n")
    assert not store_path.exists()


def test_ris_dates_in_ris_spelling(run, store_path, tmp_path):
    ris = write(tmp_path / "d.ris", "TY  - JOUR\nTI  - A\nPY  - 2020///x\nER  - \n"
                                    "TY  - JOUR\nTI  - B\nDA  - 2019/10//\nER  - \n")
    result = run("import", ris)
    assert result.exit_code == 0, result.stderr
    dates = {r["title"]: r["issued"] for r in stored(store_path).values()}
    assert dates == {"A": {"date-parts": [[2020]]}, "B": {"date-parts": [[2019, 10]]}}


# --- keys ----------------------------------------------------------------------

def test_an_imported_key_that_cannot_be_kept_is_named_with_the_stored_one(run, store_path, tmp_path):
    """Issue #21: a key biber and pandoc take (``ключ``) is kept as it is; only one
    no paper can cite (a space) is renamed, and named on stderr; it is no alias
    (issue #23: every key the store holds follows the one key rule)."""
    bib = write(tmp_path / "k.bib", "@article{key with space,title={Spaces},author={Doe, J.},year=2001}\n"
                                    "@article{ключ,title={Unicode},author={Doe, J.},year=2001}\n")
    result = run("import", bib)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "doe2001spaces\nключ\n"
    why = 'no paper can cite it: a space, control character or one of , { } % # \\ ~ "'
    assert f"citetool: warning: {bib}:1 (key with space): key 'key with space' stored as 'doe2001spaces' ({why})\n" \
        in result.stderr
    assert "ключ" not in result.stderr
    assert sorted(stored(store_path)) == ["doe2001spaces", "ключ"]
    assert "aliases" not in stored(store_path)["doe2001spaces"]["citetool"]
    other = write(tmp_path / "o.bib", "@book{doe2001spaces,title={Another work},author={Roe, R.},year=1990}\n")
    result = run("import", other)
    assert result.exit_code == 0
    assert result.stderr == (f"citetool: warning: {other}:1 (doe2001spaces): key 'doe2001spaces' stored as "
                             "'doe2001spacesa' (taken by another reference)\n")


# --- options -------------------------------------------------------------------

def test_unknown_type_empty_style_and_empty_set_are_usage_errors(run, store_path, tmp_path):
    run("import", write(tmp_path / "a.bib", "@article{a1,title={T},author={Doe, J.},journal={J},year=2000}\n"))
    before = store_path.read_bytes()
    for command in ("list", "export"):
        result = run(command, "-t", "nonsense")
        assert result.exit_code == ExitCode.USAGE, command
        assert result.stdout == ""
        assert result.stderr.startswith("citetool: error: --type 'nonsense' is not a CSL type; choose among: article, "
                                        "article-journal, ")
        assert "webpage" in result.stderr and result.stderr.count("\n") == 1
    assert run("list", "-t", "article-journal").stdout.startswith("a1\t")
    result = run("export", "-f", "text", "--style", "")
    assert result.exit_code == ExitCode.USAGE and result.stdout == ""
    assert result.stderr == ("citetool: error: --style is empty: give a CSL style name (apa, chicago-author-date, ...) "
                             "or a .csl file\n")
    result = run("edit", "a1", "--set", "title=")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "citetool: error: --set title= has no value: use --unset title to remove a field\n"
    assert store_path.read_bytes() == before


# --- dates ---------------------------------------------------------------------

def test_impossible_dates_in_a_bib_file_are_left_out_and_named(run, store_path, tmp_path):
    bib = write(tmp_path / "d.bib", "@article{y4,title={Y4},author={Doe, J.},date={2020-02-31}}\n"
                                    "@article{y5,title={Y5},author={Doe, J.},year={99999}}\n"
                                    "@article{y6,title={Y6},author={Doe, J.},year={two thousand}}\n"
                                    "@article{y7,title={Y7},author={Doe, J.},year={c1999},month={13}}\n"
                                    "@article{y8,title={Y8},author={Doe, J.},date={2020-02-03/2020-02-05}}\n"
                                    "@article{y9,title={Y9},author={Doe, J.},date={2020-02-30},year={2020}}\n"
                                    "@article{y10,title={Y10},author={Doe, J.},year={n.d.}}\n")
    result = run("import", bib)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr.splitlines()[:4] == [
        f"citetool: {bib}:1 (y4): date '2020-02-31' is not a date: left out",
        f"citetool: {bib}:2 (y5): year '99999' is not a year: left out",
        f"citetool: {bib}:4 (y7): month '13' is not a month: left out",
        f"citetool: {bib}:6 (y9): date '2020-02-30' is not a date: left out",
    ]
    refs = stored(store_path)
    assert {k: r.get("issued") for k, r in refs.items()} == {
        "y4": None, "y5": None, "y6": {"literal": "two thousand"}, "y7": {"date-parts": [[1999]]},
        "y8": {"date-parts": [[2020, 2, 3]]}, "y9": {"date-parts": [[2020]]}, "y10": None}
    # a date words alone say ("forthcoming", "two thousand") is kept as written (issue #21);
    # the stored reference holds no impossible date, and the BibTeX exports write back
    # what the user's file said, as it said it (their paper compiles as before)
    export = run("export", "-f", "biblatex", "y4").stdout
    assert "date = {2020-02-31}" in export
    edited = run("edit", "y4", "--set", "title=Y4 again")
    assert edited.exit_code == 0
    export = run("export", "-f", "biblatex", "y4").stdout  # the entry changed: the store's date, none
    assert "2020-02-31" not in export


def test_impossible_dates_in_csl_json_and_ris_are_left_out_and_named(run, store_path, tmp_path):
    items = [{"title": "A", "issued": {"date-parts": [[2020, 2, 31]]}},
             {"title": "B", "issued": {"date-parts": [[99999]]}},
             {"title": "C", "issued": {"date-parts": [[2020, 2, 29]]}}]
    csl = write(tmp_path / "d.json", json.dumps(items))
    result = run("import", csl)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr.splitlines()[:2] == [
        f"citetool: {csl}: item 1: issued left out: 2020-2-31 is not a date (no such day or month)",
        f"citetool: {csl}: item 2: issued left out: 99999 is not a date (the year has more than four digits)"]
    assert sorted(str(r.get("issued")) for r in stored(store_path).values()) == [
        "None", "None", "{'date-parts': [[2020, 2, 29]]}"]
    ris = write(tmp_path / "d.ris", "TY  - JOUR\nTI  - R\nPY  - 99999\nER  - \n")
    result = run("import", ris)
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED
    assert result.stderr.startswith(f"citetool: {ris}:1: PY left out: not a date: '99999'")
    assert [r for r in stored(store_path).values() if r["title"] == "R"][0].get("issued") is None


def test_edit_refuses_an_impossible_date(run, store_path, tmp_path):
    run("import", write(tmp_path / "a.bib", "@article{y1,title={T},author={Doe, J.},journal={J},year=2000}\n"))
    before = store_path.read_bytes()
    for field, value in (("issued", "2021-13"), ("issued", "2021-02-29"), ("accessed", "9999999999"),
                         ("issued", "99999")):
        result = run("edit", "y1", "--set", f"{field}={value}")
        assert result.exit_code == ExitCode.USAGE, (field, value)
        assert result.stderr.startswith(f"citetool: error: not a date: {value!r}"), result.stderr
    assert store_path.read_bytes() == before
    assert run("edit", "y1", "--set", "issued=2020-02-29").exit_code == 0
    assert stored(store_path)["y1"]["issued"] == {"date-parts": [[2020, 2, 29]]}


def test_exports_write_only_dates_their_readers_accept_and_say_so(run, store_path, tmp_path):
    references = [
        {"id": "bc", "type": "book", "title": "Old", "author": [{"family": "Caesar"}], "issued": {"date-parts": [[-50]]}},
        {"id": "bad", "type": "article-journal", "title": "Bad", "author": [{"family": "Doe"}], "container-title": "J",
         "issued": {"date-parts": [[2020, 2, 31]]}},
        {"id": "big", "type": "article-journal", "title": "Big", "author": [{"family": "Doe"}], "container-title": "J",
         "issued": {"date-parts": [[99999]]}},
    ]
    store_path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": references}))
    before = store_path.read_bytes()
    result = run("export", "-f", "biblatex")
    assert result.exit_code == 0, result.stderr
    dates = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("date =")]
    assert dates == ["date = {2020-02},", "date = {-0049},", "date = {XXXX},"]  # EDTF: 50 BCE is year -49
    assert result.stderr == ("citetool: warning: bad: issued 2020-2-31 is not a date: exported as 2020-02\n"
                             "citetool: warning: big: issued 99999 is not a date: exported without it\n")
    ris = run("export", "-f", "ris", "bc").stdout
    assert "PY  -" not in ris and "DA  -" not in ris and "N1  - Date: 50 BCE\n" in ris
    assert store_path.read_bytes() == before  # the store keeps what it holds
    assert "issued: 2020-02-31" in run("show", "bad").stdout
    bib = tmp_path / "bc.bib"
    bib.write_text(run("export", "-f", "biblatex", "bc").stdout, encoding="utf-8")
    store_path.unlink()
    assert run("import", str(bib)).exit_code == 0
    assert stored(store_path)["bc"]["issued"] == {"date-parts": [[-50]]}  # read back as written


def test_dates_from_sources_are_never_cut_down_to_an_invented_year():
    from citetool.record_input import parse_date

    assert parse_date("2021-10-28T12:00:00Z") == {"date-parts": [[2021, 10, 28]]}  # a web page's meta date
    assert parse_date("2021/10") == {"date-parts": [[2021, 10]]}  # EconPapers
    for impossible in ("99999", "99999-01-01", "2021-13", "2021-02-29", "12021"):
        assert parse_date(impossible) is None, impossible


def test_a_web_page_date_that_cannot_be_gives_no_year(httpserver, run, store_path):
    page = ('<html><head><meta name="citation_title" content="Far future">'
            '<meta name="citation_author" content="Doe, Jane">'
            '<meta name="citation_publication_date" content="99999-01-01"></head></html>')
    httpserver.expect_request("/future").respond_with_data(page, content_type="text/html")
    result = run("add", httpserver.url_for("/future"))
    assert result.exit_code == 0, result.stderr
    rec = stored(store_path)[result.stdout.strip()]
    assert rec["title"] == "Far future" and "issued" not in rec  # not 9999


def test_bib_says_so_too_when_a_stored_date_cannot_be_written(run, store_path, tmp_path):
    references = [{"id": "bad", "type": "article-journal", "title": "Bad", "author": [{"family": "Doe"}],
                   "container-title": "J", "issued": {"date-parts": [[2020, 2, 31]]}}]
    store_path.write_text(json.dumps({"format": "citetool-store", "version": 1, "references": references}))
    tex = write(tmp_path / "p.tex", "\\cite{bad}\n")
    result = run("bib", tex, "-f", "biblatex")
    assert result.exit_code == 0, result.stderr
    assert "date = {2020-02}," in result.stdout
    assert "citetool: warning: bad: issued 2020-2-31 is not a date: exported as 2020-02\n" in result.stderr
