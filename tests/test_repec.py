"""RePEc: handles, URL forms, EconPapers pages, and one reference with Crossref."""

import csv
import json
import re
from pathlib import Path

import pytest
from conftest import SEED_DOI

from citetool.identifiers.repec import (
    NotAHandle,
    econpapers_escape,
    econpapers_page,
    handle_from_url,
    ideas_page,
    parse_handle,
)
from citetool.sources.repec_handle import kind_of

SEED_HANDLE = "RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452"
SEED_KEY = "arduino2021russia"
HANDLES_TSV = Path(__file__).resolve().parent / "fixtures" / "vendor" / "repec-handles.tsv"  # origin: fixtures/vendor/SOURCES.md
ROWS = list(csv.DictReader(HANDLES_TSV.open(encoding="utf-8"), delimiter="\t")) if HANDLES_TSV.exists() else []


def expected_fields(text: str) -> dict:
    """'archive=taf; series=cdanxx (Defense ...); v=37; p=205-10 (abbreviated...)' -> {key: value}."""
    out = {}
    for part in text.split("; "):
        m = re.match(r"^(archive|series|v|y|i|p|s|d|n|number|id)=(\S+)", part.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


@pytest.mark.skipif(not ROWS, reason=f"{HANDLES_TSV} not found")
@pytest.mark.parametrize("row", ROWS, ids=[r["handle"] for r in ROWS])
def test_every_handle_of_the_tsv_parses_as_listed(row):
    handle = parse_handle(row["handle"])
    want = expected_fields(row["expected_parsed_fields"])
    assert handle.archive == want["archive"]
    assert handle.series == want["series"]
    for key in ("v", "y", "i", "s", "n"):
        if key in want:
            assert handle.value(key) == want[key], key
    if "p" in want:  # the raw pages, less OUP's trailing dot and CUP's _00
        assert re.sub(r"_\d+$", "", handle.pages_raw.rstrip(".")) == want["p"]
    if "d" in want:
        assert handle.value("d") == want["d"]
        assert handle.doi == want["d"].replace("_", "/", 1)
    if "number" in want:
        assert handle.number == want["number"]
    if "id" in want:  # "id=S457319", "id=ISBN-13", "id=57-13 (volume 57, chapter 13)"
        described = row["expected_parsed_fields"].replace("-", "")
        if "id=ISBN" in described:
            assert handle.isbn and handle.isbn in handle.item.replace("-", "")
        else:
            assert handle.item.split("_")[0].replace("-", "") in described
    assert kind_of(handle) == row["type"]


@pytest.mark.skipif(not ROWS, reason=f"{HANDLES_TSV} not found")
def test_offline_works_for_every_handle_of_the_tsv(run, store_path):
    handles = [r["handle"] for r in ROWS]
    result = run("add", "--offline", *handles)
    assert result.exit_code == 0, result.stderr
    keys = result.stdout.split()
    assert len(keys) == len(handles) == len(set(keys))
    refs = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    by_handle = {r["citetool"]["ids"]["repec"]: r for r in refs}
    assert set(by_handle) == set(handles)
    seed = by_handle[SEED_HANDLE]
    assert seed["container-title"] == "Defense & Security Analysis"
    assert (seed["volume"], seed["issue"], seed["page"]) == ("37", "4", "435-452")
    assert seed["issued"] == {"date-parts": [[2021]]}
    assert seed["ISSN"] == "1475-1798" and seed["publisher"] == "Taylor & Francis Journals"
    assert seed["URL"] == "https://EconPapers.repec.org/" + SEED_HANDLE
    assert by_handle["RePEc:nbr:nberwo:11309"]["type"] == "report"
    assert by_handle["RePEc:nbr:nberwo:11309"]["number"] == "11309"
    assert by_handle["RePEc:nbr:nberwo:11309"]["collection-title"] == "NBER Working Papers"
    assert by_handle["RePEc:ecm:emetrp:v:48:y:1980:i:2:p:437-46"]["page"] == "437-446"
    assert "issue" not in by_handle["RePEc:eee:energy:v:110:y:2016:i:c:p:148-156"]
    assert by_handle["RePEc:spr:annopr:v:297:y:2021:i:1:d:10.1007_s10479-019-03357-1"]["DOI"] == "10.1007/s10479-019-03357-1"
    assert by_handle["RePEc:oxp:obooks:9780198759980"]["ISBN"] == "9780198759980"
    assert by_handle["RePEc:boc:bocode:S457319"]["type"] == "software"


@pytest.mark.parametrize("text", ["repec:taf:cdanxx:v:37:y:2021:i:4:p:435-452", "RePEC:taf:cdanxx:v:37:y:2021:i:4:p:435-452",
                                  " RePEc: taf :cdanxx:v:37:y:2021:i:4:p:435-452 "])
def test_prefix_case_and_spaces(text):
    assert parse_handle(text).text == SEED_HANDLE


def test_abbreviated_and_odd_pages():
    assert parse_handle("RePEc:taf:applec:v:27:y:1995:i:2:p:205-10").pages == "205-210"
    assert parse_handle("RePEc:oup:qjecon:v:93:y:1979:i:4:p:675-689.").pages == "675-689"
    assert parse_handle("RePEc:cup:bjposi:v:10:y:1980:i:03:p:317-339_00").pages == "317-339"
    assert parse_handle("RePEc:bes:jnlasa:v:103:i:483:y:2008:p:1155-1165").year == 2008


@pytest.mark.parametrize("bad", ["RePEc:taf", "RePEc:ta:cdanxx:1", "RePEc:taf:cd/anxx:1", "RePEc:taf:cdanxx:"])
def test_bad_handles(bad, run):
    with pytest.raises(NotAHandle):
        parse_handle(bad)
    result = run("add", "--offline", bad)
    assert result.exit_code == 3 and bad.strip() in result.stderr


SEED_URLS = [
    "https://EconPapers.repec.org/RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452",
    "http://econpapers.repec.org/RePEc%3Ataf%3Acdanxx%3Av%3A37%3Ay%3A2021%3Ai%3A4%3Ap%3A435-452",
    "https://econpapers.repec.org/article/tafcdanxx/v_3a37_3ay_3a2021_3ai_3a4_3ap_3a435-452.htm",
    "https://ideas.repec.org/a/taf/cdanxx/v37y2021i4p435-452.html",
    "https://econpapers.repec.org/scripts/redir.pf?u=http%3A%2F%2Fhdl.handle.net%2F10.1080%2F14751798.2021.1995963;h=repec:taf:cdanxx:v:37:y:2021:i:4:p:435-452",
    "http://d.repec.org/n?u=RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452&r=mil",
]


@pytest.mark.parametrize("url", SEED_URLS)
def test_url_forms_give_the_seed_handle(url):
    assert handle_from_url(url).key == SEED_HANDLE.lower()


def test_url_building_is_exact():
    h = parse_handle(SEED_HANDLE)
    assert econpapers_page(h, "article") == SEED_URLS[2]
    assert ideas_page(h, "article") == SEED_URLS[3]
    spr = parse_handle("RePEc:spr:annopr:v:297:y:2021:i:1:d:10.1007_s10479-019-03357-1")
    assert econpapers_page(spr, "article").endswith(
        "/article/sprannopr/v_3a297_3ay_3a2021_3ai_3a1_3ad_3a10.1007_5fs10479-019-03357-1.htm")
    wp = parse_handle("RePEc:spo:wpecon:info:hdl:2441/h4tv2ee028raq0ib4dabsqqei")
    assert ideas_page(wp, "paper") == "https://ideas.repec.org/p/spo/wpecon/infohdl2441-h4tv2ee028raq0ib4dabsqqei.html"
    assert handle_from_url(econpapers_page(wp, "paper")).text == wp.text  # EconPapers is lossless
    assert econpapers_escape("a:b_c/d é") == "a_3ab_5fc_2fd_20_c3_a9"


def test_ideas_urls_are_marked_rebuilt(run):
    result = run("add", "--offline", SEED_URLS[3])
    assert result.exit_code == 0
    assert "id repec-rebuilt: from an IDEAS URL" in run("show", result.stdout.strip()).stdout
    assert handle_from_url(SEED_URLS[3]).rebuilt
    assert not handle_from_url(SEED_URLS[2]).rebuilt
    nber = handle_from_url("https://ideas.repec.org/p/nbr/nberwo/11309.html")
    assert nber.text == "RePEc:nbr:nberwo:11309" and kind_of(nber) == "paper"


@pytest.mark.parametrize("order", ["doi-first", "handle-first"])
def test_seed_handle_and_doi_give_one_reference(crossref, econpapers, run, store_path, order):
    first, second = (SEED_DOI, SEED_HANDLE) if order == "doi-first" else (SEED_HANDLE, SEED_DOI)
    assert run("add", first).stdout == f"{SEED_KEY}\n"
    assert run("add", second).stdout == f"{SEED_KEY}\n"
    for url in SEED_URLS:
        result = run("add", url)
        assert result.stdout == f"{SEED_KEY}\n", (url, result.stderr)
    refs = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert len(refs) == 1
    ref = refs[0]
    assert ref["citetool"]["ids"]["repec"] == SEED_HANDLE
    assert ref["DOI"] == SEED_DOI
    assert ref["citetool"]["fields"]["title"] == "crossref"
    assert ref["title"].startswith("Russia’s scalable soft power")
    assert {"crossref", "econpapers", "repec-handle"} <= set(ref["citetool"]["sources"])
    assert len(crossref.requests) == 1  # the DOI is never asked twice
    assert len(econpapers.requests) == 1  # every later form is recognised as stored


def test_a_handle_whose_page_cannot_be_had_is_a_failed_item_not_a_stub(econpapers, run, store_path):
    """Issue #26: online, a handle whose EconPapers page cannot be fetched is a failed item
    (exit 3), never an untitled stub that keeps its key after a later refresh; --offline
    still keeps what the handle and RePEc's tables say."""
    econpapers.script = [500]
    result = run("add", SEED_HANDLE)
    assert result.exit_code == 3
    assert "error: EconPapers answered HTTP 500" in result.stderr
    assert "`citetool add --offline` keeps what the identifier says" in result.stderr
    assert not store_path.exists()
    offline = run("add", "--offline", SEED_HANDLE)
    assert offline.exit_code == 0, offline.stderr
    ref = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert ref["volume"] == "37" and ref["citetool"]["fields"]["volume"] == "repec-handle"


def test_503_is_retried_and_pages_are_cached(crossref, econpapers, run, tmp_path):
    econpapers.script = [503, 503]
    result = run("add", SEED_HANDLE)
    assert result.exit_code == 0, result.stderr
    assert len(econpapers.requests) == 3
    assert list((tmp_path / "cache" / "econpapers").rglob("*"))  # the page was cached
    run("remove", SEED_KEY)
    assert run("add", SEED_HANDLE).stdout == f"{SEED_KEY}\n"
    assert len(econpapers.requests) == 3  # served from the cache


def test_polite_interval_between_requests(econpapers, run, monkeypatch):
    import time

    monkeypatch.setenv("CITETOOL_REPEC_INTERVAL", "0.3")
    start = time.monotonic()
    run("add", "RePEc:nbr:nberwo:11309", "RePEc:nbr:nberwo:11310", "RePEc:nbr:nberwo:11311")
    assert time.monotonic() - start >= 0.6
    assert len(econpapers.requests) == 3


def test_exports_carry_the_handle_and_persistent_link(crossref, econpapers, run):
    run("add", SEED_HANDLE)
    link = "https://EconPapers.repec.org/" + SEED_HANDLE
    bib = run("export", "-f", "bibtex").stdout
    assert f"url = {{{link}}}" in bib
    blx = run("export", "-f", "biblatex").stdout
    assert f"eprint = {{{SEED_HANDLE}}}" in blx and "eprinttype = {RePEc}" in blx
    ris = run("export", "-f", "ris").stdout
    assert f"UR  - {link}" in ris and f"AN  - {SEED_HANDLE}" in ris
    csl = json.loads(run("export", "-f", "csl-json").stdout)[0]
    assert SEED_HANDLE in csl["note"]
    html = run("export", "-f", "html").stdout
    assert f'href="{link}"' in html
    text = run("export", "-f", "text").stdout.splitlines()
    assert text[:3] == [
        "Alessandro Arduino and Asif Shuja",
        "Russia’s scalable soft power: leveraging defense diplomacy through the transfer of S-400 triumph",
        "Defense & Security Analysis, 2021, vol. 37, issue 4, 435-452",
    ]
    assert link in text


def test_working_papers_export_as_reports(run):
    run("add", "--offline", "RePEc:nbr:nberwo:11309")
    bib = run("export", "-f", "bibtex").stdout
    assert bib.startswith("@techreport{") or "@misc{" in bib
    ris = run("export", "-f", "ris").stdout
    assert "TY  - RPRT" in ris and "M1  - 11309" in ris
    text = run("export", "-f", "text").stdout
    assert "No 11309, NBER Working Papers from National Bureau of Economic Research, Inc" in text


def test_refresh_of_a_handle_added_offline_asks_econpapers(econpapers, run, store_path):
    assert run("add", "--offline", SEED_HANDLE).exit_code == 0
    ref = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert set(ref["citetool"]["sources"]) == {"repec-handle"} and not econpapers.requests
    result = run("refresh", ref["id"])
    assert result.exit_code == 0, result.stderr
    assert len(econpapers.requests) == 1  # asked although it was never asked before
    assert "1 refreshed, 1 changed" in result.stderr
    ref = json.loads(store_path.read_text(encoding="utf-8"))["references"][0]
    assert {"econpapers", "repec-handle"} <= set(ref["citetool"]["sources"])
    assert ref["title"].startswith("Russia’s scalable soft power")
