"""The command-line contract, driven against a local HTTP server playing Crossref."""

import json
import time

import pytest
from conftest import SEED_DOI

from citetool.errors import ExitCode

SEED_KEY = "arduino2021russia"


def stored(store_path) -> dict:
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


def test_add_prints_only_the_key_and_stores_the_reference(crossref, run, store_path):
    result = run("add", SEED_DOI)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{SEED_KEY}\n"
    rec = stored(store_path)[SEED_KEY]
    assert rec["DOI"] == SEED_DOI and rec["volume"] == "37"
    assert rec["citetool"]["sources"]["crossref"]["id"] == SEED_DOI
    assert rec["citetool"]["fields"]["title"] == "crossref"


def test_a_stored_doi_is_not_added_twice_and_costs_no_request(crossref, run, store_path):
    run("add", SEED_DOI)
    assert len(crossref.requests) == 1
    result = run("add", f"https://doi.org/{SEED_DOI.upper()}")
    assert result.exit_code == 0
    assert result.stdout == f"{SEED_KEY}\n"
    assert len(crossref.requests) == 1
    assert list(stored(store_path)) == [SEED_KEY]
    result = run("add", "--refresh", SEED_DOI)
    assert result.exit_code == 0 and result.stdout == f"{SEED_KEY}\n"
    assert len(crossref.requests) == 2


def test_spellings_of_one_doi_in_one_command_cost_one_request(crossref, run):
    result = run("add", SEED_DOI, f"doi:{SEED_DOI}", f"https://dx.doi.org/{SEED_DOI}.")
    assert result.exit_code == 0
    assert result.stdout.split() == [SEED_KEY] * 3
    assert len(crossref.requests) == 1


def test_stdin_skips_blank_and_comment_lines(crossref, run):
    text = f"# my reading list\n\n{SEED_DOI}\n   \n10.1038/srep16696\n"
    result = run("add", "-", input=text)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [SEED_KEY, "tosatto2015single"]


def test_from_file(crossref, run, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{SEED_DOI}\n# done\n", encoding="utf-8")
    result = run("add", "--from", str(ids))
    assert result.exit_code == 0 and result.stdout == f"{SEED_KEY}\n"


def test_bad_identifiers_fail_alone(crossref, run, store_path):
    result = run("add", "not-a-doi", SEED_DOI, "10.1371/notarealdoi")
    assert result.exit_code == ExitCode.IDENTIFIERS_FAILED == 3
    assert result.stdout == f"{SEED_KEY}\n"
    assert "'not-a-doi'" in result.stderr
    assert "not found in Crossref or at doi.org: 10.1371/notarealdoi" in result.stderr
    assert "1 added, 0 updated, 0 already present, 2 failed" in result.stderr
    assert list(stored(store_path)) == [SEED_KEY]


def test_json_output(crossref, run):
    run("add", SEED_DOI)
    result = run("add", "--json", SEED_DOI, "10.1038/srep16696", "nonsense")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["status"], o["key"]) for o in lines] == [
        ("present", SEED_KEY), ("added", "tosatto2015single"), ("failed", None)
    ]
    assert "nonsense" in lines[2]["error"]
    assert result.exit_code == 3


def test_server_errors_are_one_line_and_leave_the_store_alone(crossref, run, store_path):
    run("add", SEED_DOI)
    before = store_path.read_bytes()
    crossref.overrides["10.1038/srep16696"] = (500, b'{"status":"error"}', "application/json")
    crossref.overrides["10.1038/nnano.2014.279"] = (429, b"<html>429 Too Many Requests</html>", "text/html")
    crossref.overrides["10.1038/hdy.2013.26"] = (200, b"<html>not json</html>", "text/html")
    crossref.overrides["10.1038/ng.3834"] = (200, b'{"status":"ok","message":[]}', "application/json")
    result = run("add", "10.1038/srep16696", "10.1038/nnano.2014.279", "10.1038/hdy.2013.26", "10.1038/ng.3834")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "Crossref answered HTTP 500 for 10.1038/srep16696" in result.stderr
    assert "HTTP 429" in result.stderr
    assert "unreadable answer for 10.1038/hdy.2013.26" in result.stderr
    assert "wrong shape for 10.1038/ng.3834" in result.stderr
    assert "Traceback" not in result.stderr
    assert store_path.read_bytes() == before


def test_unreachable_crossref(run, store_path):
    result = run("add", SEED_DOI)  # the autouse fixture points Crossref at a closed port
    assert result.exit_code == 3
    assert f"cannot reach Crossref for {SEED_DOI}" in result.stderr
    assert not store_path.exists()


def test_timeout(httpserver, run, monkeypatch):
    def slow(request):
        time.sleep(1.5)
        from werkzeug import Response

        return Response("{}", content_type="application/json")

    httpserver.expect_request(f"/works/{SEED_DOI}").respond_with_handler(slow)
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("CITETOOL_TIMEOUT", "0.3")
    result = run("add", SEED_DOI)
    assert result.exit_code == 3
    assert f"Crossref did not answer within 0.3s for {SEED_DOI}" in result.stderr


@pytest.mark.parametrize("url", ["not a url", "htp:/bad", "ftp://example.org", "http://127.0.0.1:99999",
                                 "https://example.org/?q=1"])
def test_a_malformed_base_url_is_a_usage_error(run, monkeypatch, store_path, url):
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", url)
    result = run("add", SEED_DOI)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"citetool: error: CITETOOL_CROSSREF_URL must be an http(s) base URL "
                                      f"such as https://api.crossref.org, not {url!r}")
    assert not store_path.exists()


def test_no_identifiers_is_a_usage_error(run):
    result = run("add")
    assert result.exit_code == 2
    assert "no identifiers given" in result.stderr


def test_list_show_remove(crossref, run):
    run("add", SEED_DOI, "10.1038/ng.3834")
    listing = run("list")
    rows = [line.split("\t") for line in listing.stdout.splitlines()]
    assert [r[0] for r in rows] == [SEED_KEY, "chiang2017impact"]
    assert rows[0][1:4] == ["article-journal", "2021", "Arduino; Shuja"]
    as_json = json.loads(run("list", "--json").stdout)
    assert [r["id"] for r in as_json] == [SEED_KEY, "chiang2017impact"]

    shown = run("show", SEED_KEY.upper())
    assert shown.exit_code == 0
    assert "container-title: Defense & Security Analysis  [crossref]" in shown.stdout
    assert f"source crossref: {SEED_DOI}" in shown.stdout
    assert json.loads(run("show", SEED_KEY, "--json").stdout)["volume"] == "37"

    missing = run("show", "nosuchkey")
    assert missing.exit_code == ExitCode.NOT_IN_STORE == 5
    assert "no reference with key 'nosuchkey'" in missing.stderr

    assert run("remove", SEED_KEY, "nosuchkey").exit_code == 5
    assert len(json.loads(run("list", "--json").stdout)) == 2  # nothing removed
    removed = run("remove", SEED_KEY)
    assert removed.exit_code == 0 and f"removed {SEED_KEY}" in removed.stderr and removed.stdout == ""
    assert [r["id"] for r in json.loads(run("list", "--json").stdout)] == ["chiang2017impact"]


def test_export_keys_output_file_and_bad_format(crossref, run, tmp_path):
    run("add", SEED_DOI, "10.1038/ng.3834")
    one = run("export", "-f", "ris", SEED_KEY)
    assert one.stdout.count("TY  - ") == 1 and "ID  - arduino2021russia" in one.stdout
    both = run("export", "-f", "csl-json")
    assert [i["id"] for i in json.loads(both.stdout)] == [SEED_KEY, "chiang2017impact"]
    out = tmp_path / "refs.bib"  # an existing folder: a missing one is an error (test_store_files)
    result = run("export", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("@article{arduino2021russia,")
    bad = run("export", "--format", "docx")
    assert bad.exit_code == 2 and "unknown format 'docx'" in bad.stderr
    missing = run("export", "nosuchkey")
    assert missing.exit_code == 5


def test_seed_text_export_reads_as_on_the_seed_page(crossref, run):
    run("add", SEED_DOI)
    lines = run("export", "--format", "text").stdout.splitlines()
    assert lines == [
        "Alessandro Arduino and Asif Shuja",
        "Russia’s scalable soft power: leveraging defense diplomacy through the transfer of S-400 triumph",
        "Defense & Security Analysis, 2021, vol. 37, issue 4, 435-452",
        "https://doi.org/10.1080/14751798.2021.1995963",
    ]


def test_unreadable_stores_are_left_untouched(run, store_path):
    for content in (b"{not json", b'{"format": "citetool-store", "version": 99, "references": []}',
                    b'{"format": "citetool-store", "version": 1, "references": {}}', b"[]"):
        store_path.write_bytes(content)
        for args in (("list",), ("add", SEED_DOI), ("export",), ("remove", "x")):
            result = run(*args)
            assert result.exit_code == ExitCode.STORE == 4, (content, args, result)
            assert "cannot read store" in result.stderr
            assert "Traceback" not in result.stderr
            assert store_path.read_bytes() == content
    store_path.write_bytes(b'{"format": "citetool-store", "version": 99, "references": []}')
    assert "newer than this citetool understands" in run("list").stderr


def test_store_option_beats_environment(crossref, run, tmp_path):
    other = tmp_path / "elsewhere.json"
    assert run("--store", str(other), "add", SEED_DOI).exit_code == 0
    assert other.exists()
    assert run("list").stdout == ""


def test_version_and_help(run):
    from citetool import __version__

    assert run("--version").stdout == f"citetool {__version__}\n"
    help_text = run("--help").stdout
    for command in ("add", "list", "show", "remove", "export"):
        assert command in help_text
    assert "Exit codes" in help_text


def test_unreadable_from_file_is_a_usage_error(run, tmp_path):
    result = run("add", "--from", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2 and "cannot read" in result.stderr and "missing.txt" in result.stderr


@pytest.mark.parametrize("args", [("list",), ("export", "-f", "bibtex"), ("show", "anykey")])
def test_reading_a_named_store_that_does_not_exist_is_exit_4(run, tmp_path, monkeypatch, args):
    # A typo in a Makefile must not write an empty refs.bib and succeed.
    result = run("--store", str(tmp_path / "no" / "such" / "refs.json"), *args)
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr.startswith(f"citetool: error: no store at {tmp_path / 'no' / 'such' / 'refs.json'}: ")
    monkeypatch.setenv("CITETOOL_STORE", str(tmp_path / "refz.json"))
    result = run(*args)
    assert result.exit_code == 4 and "no store at" in result.stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "refz.json").exists()


def test_the_default_store_may_not_exist_yet(run, tmp_path, monkeypatch):
    monkeypatch.delenv("CITETOOL_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = run("list")
    assert result.exit_code == 0 and result.stdout == "", result.stderr


@pytest.mark.parametrize("name, value", [("CITETOOL_TIMEOUT", "nan"), ("CITETOOL_TIMEOUT", "inf"),
                                         ("CITETOOL_TIMEOUT", "1e20"), ("CITETOOL_TIMEOUT", "0"),
                                         ("CITETOOL_LOCK_TIMEOUT", "nan"), ("CITETOOL_RETRY_BASE", "inf"),
                                         ("CITETOOL_CROSSREF_CONCURRENCY", "nan"), ("CITETOOL_REPEC_INTERVAL", "-1")])
def test_a_setting_that_is_not_a_usable_number_is_a_usage_error(run, monkeypatch, store_path, name, value):
    # nan passed every comparison (a 'nans' timeout), inf overflowed a sleep, a huge back-off hung
    monkeypatch.setenv(name, value)
    for args in (("add", SEED_DOI), ("list",)):
        result = run(*args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith(f"citetool: error: {name} must be a number of ")
        assert result.stderr.rstrip().endswith(f"not {value!r}") and result.stderr.count("\n") == 1
    assert not store_path.exists()
