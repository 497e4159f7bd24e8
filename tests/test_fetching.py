"""Fetching, through the CLI: refresh asks the sources again; every request has
a deadline and a size cap; redirects are bounded, http(s) only, and never lead
from a public host to a private one; one bad item never sinks a batch; pages
are decoded as the HTML standard says. Servers are real, on 127.0.0.1."""

import json
import re
import time

import pytest
from conftest import ALL_WORKS, SEED_DOI, RawServer

SEED_KEY = "arduino2021russia"
SEED_HANDLE = "RePEc:taf:cdanxx:v:37:y:2021:i:4:p:435-452"


def stored(store_path):
    return {r["id"]: r for r in json.loads(store_path.read_text(encoding="utf-8"))["references"]}


# --- refresh asks the sources again ------------------------------------------------------

def test_refresh_asks_crossref_again_and_reports_what_changed(crossref, run, store_path):
    assert run("add", SEED_DOI).exit_code == 0
    assert len(crossref.requests) == 1
    same = run("refresh", SEED_KEY)  # one key: the summary is printed too
    assert same.exit_code == 0, same.stderr
    assert len(crossref.requests) == 2  # the cache (a minute old) was not used
    assert "1 refreshed, 0 changed" in same.stderr
    work = json.loads(ALL_WORKS[SEED_DOI].read_text(encoding="utf-8"))
    work["message"]["volume"] = "38"  # Crossref corrected its record
    crossref.overrides[SEED_DOI] = (200, json.dumps(work).encode(), "application/json")
    changed = run("refresh")
    assert changed.exit_code == 0, changed.stderr
    assert "1 refreshed, 1 changed" in changed.stderr and f"{SEED_KEY}: changed volume" in changed.stderr
    assert stored(store_path)[SEED_KEY]["volume"] == "38"
    assert run("add", SEED_DOI).stdout == f"{SEED_KEY}\n" and len(crossref.requests) == 3  # add: no request


def test_refresh_asks_crossref_in_list_queries_as_add_does(crossref, run, store_path):
    dois = sorted(ALL_WORKS)[:30]
    assert run("add", *dois).exit_code == 0
    refs = stored(store_path)
    asked = sorted(r["citetool"]["sources"]["crossref"]["id"].lower() for r in refs.values())
    crossref.requests.clear()
    crossref.list_requests.clear()
    result = run("refresh")
    assert result.exit_code == 0, result.stderr
    assert f"{len(refs)} refreshed, 0 changed" in result.stderr
    assert sorted(result.stdout.split()) == sorted(refs)
    # every DOI in one list query (the cache, a minute old, not used), no single look-up
    assert [sorted(d.lower() for d in batch) for batch in crossref.list_requests] == [asked]
    assert crossref.requests == []


def test_refresh_looks_up_singly_what_a_list_query_left_out(crossref, run, store_path):
    dois = sorted(ALL_WORKS)[:5]
    assert run("add", *dois).exit_code == 0
    work = json.loads(ALL_WORKS[dois[0]].read_text(encoding="utf-8"))
    work["message"]["volume"] = "999"  # an override answers single look-ups only: the list leaves it out
    crossref.overrides[dois[0]] = (200, json.dumps(work).encode(), "application/json")
    crossref.requests.clear()
    result = run("refresh")
    assert result.exit_code == 0, result.stderr
    assert [d.lower() for d in crossref.requests] == [dois[0]]
    assert "5 refreshed, 1 changed" in result.stderr and ": changed volume" in result.stderr


def test_refresh_asks_econpapers_again(crossref, econpapers, run):
    assert run("add", SEED_HANDLE).exit_code == 0
    pages = len(econpapers.requests)
    result = run("refresh")
    assert result.exit_code == 0, result.stderr
    assert len(econpapers.requests) == pages + 1  # the page was cached for 30 days, and asked again
    assert "1 refreshed, 0 changed" in result.stderr


def test_refresh_help_says_it_asks_again(run):
    assert "never the cache" in run("refresh", "--help").stdout


# --- a deadline and a size cap on every request -------------------------------------------

def drip(conn, request):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(600):  # one byte every 50 ms: each read is quick, the answer never ends
        conn.sendall(b" ")
        time.sleep(0.05)


def test_a_dripping_server_cannot_hold_citetool(run, monkeypatch, store_path):
    server = RawServer(drip)
    try:
        monkeypatch.setenv("CITETOOL_CROSSREF_URL", server.url)
        monkeypatch.setenv("CITETOOL_TIMEOUT", "0.5")
        start = time.monotonic()
        result = run("add", SEED_DOI)
        elapsed = time.monotonic() - start
    finally:
        server.close()
    assert result.exit_code == 3
    assert f"Crossref did not finish answering within 1.5s for {SEED_DOI}" in result.stderr
    assert elapsed < 4
    assert not store_path.exists()


def test_every_source_caps_the_size_of_its_answer(httpserver, crossref, run, monkeypatch, store_path):
    from werkzeug import Response

    huge = "<html><head>" + "<!-- padding -->" * 400_000 + "</head></html>"  # 6.4 MB
    httpserver.expect_request(re.compile(r"^/RePEc:.+")).respond_with_data(huge, content_type="text/html")
    monkeypatch.setenv("CITETOOL_REPEC_URL", httpserver.url_for("").rstrip("/"))
    result = run("add", SEED_HANDLE)
    assert result.exit_code == 3, result.stderr  # the handle alone makes no reference (issue #26)
    assert "error: EconPapers's answer for RePEc:taf:cdanxx" in result.stderr and "larger than 5 MB" in result.stderr

    def big_books(request):  # streamed, no Content-Length: counted as it comes
        return Response((b" " * 65536 for _ in range(40)), content_type="application/json")

    httpserver.expect_request("/api/books").respond_with_handler(big_books)
    monkeypatch.setenv("CITETOOL_OPENLIBRARY_URL", httpserver.url_for("").rstrip("/"))
    book = run("add", "isbn:978-0-000-00000-2")
    assert book.exit_code == 3
    assert "Open Library's answer for ISBN 9780000000002 is larger than 2 MB" in book.stderr


# --- redirects --------------------------------------------------------------------------

def redirecting(location):
    def respond(conn, request):
        conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())
    return respond


def test_redirects_are_bounded_and_only_to_http(run):
    loop = RawServer(lambda conn, request: redirecting("/again")(conn, request))
    to_file = RawServer(redirecting("file:///etc/passwd"))
    try:
        result = run("add", f"{loop.url}/page", f"{to_file.url}/page")
    finally:
        loop.close()
        to_file.close()
    assert result.exit_code == 3
    assert "redirected more than 5 times" in result.stderr
    assert len(loop.hits) == 6
    assert "to a file: address, which citetool does not follow" in result.stderr


def test_a_typed_local_address_may_redirect_on_the_same_machine(web, run, store_path):
    target = RawServer(redirecting(f"{web}/seed002"))
    try:
        result = run("add", f"{target.url}/moved")
    finally:
        target.close()
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def public_site(monkeypatch):
    """A proxy on 127.0.0.1 playing the public web (citetool honours HTTP_PROXY,
    as curl does): whatever a public address is asked, it answers with a
    redirect to ``public_site.location``."""
    site = RawServer(lambda conn, request: redirecting(site.location)(conn, request))
    monkeypatch.setenv("HTTP_PROXY", site.url)
    monkeypatch.setenv("http_proxy", site.url)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield site
    site.close()


@pytest.mark.parametrize("where, kind", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.7/admin", "private"),
    ("http://[::1]:8080/", "loopback"),
])
def test_a_public_page_never_redirects_to_a_private_address(public_site, where, kind, run):
    public_site.location = where
    result = run("add", "http://93.184.216.34/article")
    assert result.exit_code == 3
    host = where.split("/")[2].removesuffix(":8080").strip("[]")
    assert f"from the public host 93.184.216.34 to {host}, a {kind} address, refused" in result.stderr
    assert len(public_site.hits) == 1  # the private address was never asked


def test_a_public_page_never_redirects_to_this_machine(public_site, run):
    secret = RawServer(lambda conn, request: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    try:
        public_site.location = f"{secret.url}/secret"
        result = run("add", "http://93.184.216.34/article")
    finally:
        secret.close()
    assert result.exit_code == 3 and "a loopback address, refused" in result.stderr
    assert secret.hits == []


# --- one bad item never sinks a batch -----------------------------------------------------------

def test_a_70000_character_line_is_one_failed_item(crossref, run, store_path):
    monster = "10.1000/" + "x" * 70_000
    result = run("add", "-", input=f"{monster}\n{SEED_DOI}\n10.1038/srep16696\n")
    assert result.exit_code == 3
    assert "too long to be an identifier (70,008 characters)" in result.stderr
    assert "internal error" not in result.stderr
    assert result.stdout.split() == [SEED_KEY, "tosatto2015single"]
    assert "2 added, 0 updated, 0 already present, 1 failed" in result.stderr


def test_json_ld_nested_5000_deep_is_one_failed_item(httpserver, web, run):
    deep = "[" * 5000 + "]" * 5000
    page = f'<html><head><title>Deep</title><script type="application/ld+json">{deep}</script></head></html>'
    httpserver.expect_request("/deep").respond_with_data(page, content_type="text/html")
    result = run("add", httpserver.url_for("/deep"), f"{web}/seed002")
    assert result.exit_code == 3
    assert "its JSON-LD is nested too deeply" in result.stderr
    assert "internal error" not in result.stderr
    assert len(result.stdout.split()) == 1 and "1 added" in result.stderr


# --- page encoding -------------------------------------------------------------------------------

TITLE = "Café Zürich – naïve Ærø"


def page(charset_meta: str = "") -> str:
    return f"<html><head>{charset_meta}<title>{TITLE}</title></head><body>x</body></html>"


@pytest.mark.parametrize("body, content_type", [
    (page('<meta charset="utf-8">').encode("utf-8"), "text/html"),  # the header names no charset
    (page('<meta http-equiv="Content-Type" content="text/html; charset=utf-8">').encode("utf-8"), "text/html"),
    (page().encode("utf-8"), "text/html; charset=utf-16"),  # a wrong header the bytes contradict
    (b"\xef\xbb\xbf" + page().encode("utf-8"), "text/html; charset=iso-8859-1"),  # the BOM wins
    (page().encode("utf-8"), "text/html"),  # no declaration: valid UTF-8 is UTF-8
    (page().encode("cp1252"), "text/html"),  # no declaration, not UTF-8: windows-1252
    (page('<meta charset="windows-1252">').encode("cp1252"), "text/html"),
    (page().encode("cp1252"), "text/html; charset=ISO-8859-1"),  # Latin-1 means windows-1252
])
def test_pages_are_decoded_as_browsers_do(httpserver, body, content_type, run, store_path):
    httpserver.expect_request("/cafe").respond_with_data(body, content_type=content_type)
    result = run("add", httpserver.url_for("/cafe"))
    assert result.exit_code == 0, result.stderr
    (ref,) = stored(store_path).values()
    assert ref["title"] == TITLE


def test_a_web_address_found_in_a_manuscript_must_be_public(web, run, tmp_path, store_path):
    secret = RawServer(lambda conn, request: conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 33\r\n\r\n<html><title>secret</title></html>"))
    paper = tmp_path / "paper.md"
    paper.write_text(f"As shown [@url:{secret.url}/latest/meta-data], and typed by hand.\n", encoding="utf-8")
    try:
        result = run("bib", str(paper), "-o", str(tmp_path / "refs.bib"))
        typed = run("add", f"{secret.url}/latest/meta-data")  # the same address typed: the user's own
    finally:
        secret.close()
    assert result.exit_code == 3
    assert "refused to fetch 127.0.0.1, a loopback address" in result.stderr
    assert len(secret.hits) == 1  # only the typed request reached it
    assert typed.exit_code == 0, typed.stderr


def test_crossref_and_doi_org_answers_are_capped_too(httpserver, run, monkeypatch):
    from werkzeug import Response

    def padded(megabytes):
        return Response((b" " * 65536 for _ in range(megabytes * 16 + 1)), content_type="application/json")

    httpserver.expect_request("/works/10.5555/huge").respond_with_handler(lambda request: padded(10))
    httpserver.expect_request("/works/10.5555/elsewhere").respond_with_data("Resource not found.", status=404)
    httpserver.expect_request("/10.5555/elsewhere").respond_with_handler(lambda request: padded(5))
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("CITETOOL_DOI_URL", httpserver.url_for("").rstrip("/"))
    result = run("add", "10.5555/huge")
    assert result.exit_code == 3 and "Crossref's answer for 10.5555/huge is larger than 10 MB" in result.stderr
    result = run("add", "10.5555/elsewhere")
    assert result.exit_code == 3 and "doi.org's answer for 10.5555/elsewhere is larger than 5 MB" in result.stderr


def _longtail_work(doi: str) -> dict:
    """A genuine Crossref work from the recorded corpus (tests/fixtures/crossref_longtail/SOURCES.md)."""
    import gzip
    from pathlib import Path

    for path in sorted((Path(__file__).parent / "fixtures" / "crossref_longtail").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                work = json.loads(line)["work"]
                if work["DOI"] == doi:
                    return work
    raise LookupError(doi)


def test_a_doi_ending_in_a_full_stop_is_added_with_it(crossref, run, monkeypatch, tmp_path, store_path):
    """"10.21052/kcmr." is a genuine DOI (sckott/serrano's recorded Crossref answer):
    read first as a DOI at the end of a sentence, unknown so, then asked with its stop."""
    served = tmp_path / "kcmr.json"
    served.write_text(json.dumps({"status": "ok", "message-type": "work",
                                  "message": _longtail_work("10.21052/kcmr.")}), encoding="utf-8")
    monkeypatch.setitem(ALL_WORKS, "10.21052/kcmr.", served)
    result = run("add", "10.21052/kcmr.")
    assert result.exit_code == 0, result.stderr
    [stored] = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert stored["DOI"] == "10.21052/kcmr."
    asked = [d for batch in crossref.list_requests for d in batch] + crossref.requests
    assert asked.index("10.21052/kcmr") < asked.index("10.21052/kcmr.")  # the sentence's reading first


def test_a_doi_at_the_end_of_a_sentence_is_added_without_the_stop(crossref, run, store_path):
    result = run("add", f"{SEED_DOI}.")
    assert result.exit_code == 0, result.stderr
    [stored] = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert stored["DOI"].lower() == SEED_DOI.lower()
    assert not [d for d in crossref.requests + sum(crossref.list_requests, []) if d.endswith(".")]  # found: no second asking


@pytest.mark.parametrize("order", ["dotted first", "undotted first"])
def test_a_dotted_doi_and_its_undotted_reading_typed_together_each_end_as_alone(crossref, run, monkeypatch, tmp_path,
                                                                                 store_path, order):
    """"10.21052/kcmr." and "10.21052/kcmr" in one command share their first reading, yet are two
    inputs: the dotted one is added (as alone), the other, which no source knows, fails (it was
    "present" under the dotted work's key, or, typed first, made the dotted one fail too)."""
    served = tmp_path / "kcmr.json"
    served.write_text(json.dumps({"status": "ok", "message-type": "work",
                                  "message": _longtail_work("10.21052/kcmr.")}), encoding="utf-8")
    monkeypatch.setitem(ALL_WORKS, "10.21052/kcmr.", served)
    inputs = ["10.21052/kcmr.", "10.21052/kcmr"] if order == "dotted first" else ["10.21052/kcmr", "10.21052/kcmr."]
    result = run("add", "--json", *inputs)
    assert result.exit_code == 3, result.stderr
    status = {o["input"]: (o["status"], o["key"]) for o in map(json.loads, result.stdout.splitlines())}
    [stored] = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert stored["DOI"] == "10.21052/kcmr."
    assert status == {"10.21052/kcmr.": ("added", stored["id"]), "10.21052/kcmr": ("failed", None)}


def test_a_stored_doi_ending_in_a_full_stop_costs_no_request(crossref, run, monkeypatch, tmp_path, store_path):
    served = tmp_path / "kcmr.json"
    served.write_text(json.dumps({"status": "ok", "message-type": "work",
                                  "message": _longtail_work("10.21052/kcmr.")}), encoding="utf-8")
    monkeypatch.setitem(ALL_WORKS, "10.21052/kcmr.", served)
    assert run("add", "10.21052/kcmr.").exit_code == 0
    asked = len(crossref.requests) + len(crossref.list_requests)
    for again in (["10.21052/kcmr."], ["--offline", "doi:10.21052/KCMR.)"]):
        result = run("add", "--json", *again)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["status"] == "present"
    assert len(crossref.requests) + len(crossref.list_requests) == asked
