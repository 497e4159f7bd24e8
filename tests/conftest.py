"""Shared test harness.

* Crossref (and later doi.org, EconPapers) are played by a real HTTP server on
  127.0.0.1 (pytest-httpserver) serving recorded responses from tests/fixtures/.
* Every base URL points at a closed local port unless a test starts a server,
  so no test can reach the internet by accident.
* Each test gets its own store file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"
WORKS = FIXTURES / "crossref" / "works"
SEED_DOI = "10.1080/14751798.2021.1995963"
SEED_FIXTURE = FIXTURES / "seed_10.1080_14751798.2021.1995963.json"
NOT_FOUND_BODY = (FIXTURES / "crossref" / "errors" / "404_works_10.1371_notarealdoi.txt").read_bytes()

logging.getLogger("werkzeug").setLevel(logging.WARNING)
# CI machines are noisy: no per-example deadline, and a slow first draw
# (hypothesis building its Unicode tables) is not a failure.
hypothesis_settings.register_profile("citetool", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("citetool")

# Whole genuine corpora (thousands of Crossref works, real papers and their .bib
# files) through the real consumers take minutes: CI runs them (CI=true), and so
# does anyone who sets CITETOOL_CORPUS_TESTS=1; the default run skips them, saying so.
RUN_CORPUS = bool(os.environ.get("CI") or os.environ.get("CITETOOL_CORPUS_TESTS"))


def pytest_collection_modifyitems(config, items):
    if RUN_CORPUS:
        return
    skip = pytest.mark.skip(reason="a whole corpus through the real consumers (minutes): "
                                   "runs in CI (CI=true), or here with CITETOOL_CORPUS_TESTS=1")
    for item in items:
        if item.get_closest_marker("corpus"):
            item.add_marker(skip)


DEAD_URL = "http://127.0.0.1:9"  # discard port: nothing listens, connections fail at once


def crossref_fixture_files() -> list[Path]:
    return sorted(WORKS.glob("*.json")) + [SEED_FIXTURE]


def load_works() -> dict[str, Path]:
    """DOI (lower case) -> recorded response file."""
    out = {}
    for path in crossref_fixture_files():
        doi = json.loads(path.read_text(encoding="utf-8"))["message"]["DOI"].lower()
        out[doi] = path
    return out


ALL_WORKS = load_works()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    for name in ("CITETOOL_CROSSREF_URL", "CITETOOL_DOI_URL", "CITETOOL_REPEC_URL", "CITETOOL_OPENLIBRARY_URL"):
        monkeypatch.setenv(name, DEAD_URL)
    monkeypatch.setenv("CITETOOL_STORE", str(tmp_path / "store.json"))
    monkeypatch.setenv("CITETOOL_TIMEOUT", "5")
    monkeypatch.setenv("CITETOOL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CITETOOL_REPEC_INTERVAL", "0")
    monkeypatch.setenv("CITETOOL_RETRY_BASE", "0.01")  # back-off steps of 10 ms, not 1 s
    # The fake servers have no rate limits: tests of the limiter set their own.
    monkeypatch.setenv("CITETOOL_CROSSREF_RATE", "1000")
    monkeypatch.setenv("CITETOOL_CROSSREF_LIST_RATE", "1000")
    monkeypatch.delenv("CITETOOL_MAILTO", raising=False)
    for name in ("CITETOOL_KEY_PATTERN", "CITETOOL_FORMAT", "CITETOOL_STYLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))  # no real user's citetool.toml
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    yield


class FakeCrossref:
    """Serves /works/{doi} from the recorded fixtures, and list queries
    /works?filter=doi:A,doi:B (a work-list of those recorded messages, built
    here: no genuine filter=doi: response was recorded); counts requests."""

    def __init__(self, server):
        self.server = server
        self.requests: list[str] = []
        self.list_requests: list[list[str]] = []
        self.overrides: dict[str, tuple[int, bytes, str]] = {}
        server.expect_request(re.compile(r"^/works/.+")).respond_with_handler(self.handle)
        server.expect_request("/works").respond_with_handler(self.handle_list)

    def handle_list(self, request):
        from werkzeug import Response

        filters = request.args.get("filter", "").split(",")
        wanted = [d[len("doi:"):] for d in filters if d.startswith("doi:")]
        isbns = [f[len("isbn:"):] for f in filters if f.startswith("isbn:")]
        self.list_requests.append(wanted or isbns)
        items = []
        for path in ALL_WORKS.values() if isbns else []:  # filter=isbn: the works carrying that ISBN
            message = json.loads(path.read_text(encoding="utf-8"))["message"]
            if set(isbns) & {i.replace("-", "") for i in message.get("ISBN", [])}:
                items.append(message)
        for doi in wanted:
            if doi.lower() in self.overrides:
                continue  # an override answers single look-ups only
            path = ALL_WORKS.get(doi.lower())
            if path is not None:
                items.append(json.loads(path.read_text(encoding="utf-8"))["message"])
        body = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
                "message": {"facets": {}, "total-results": len(items), "items": items,
                            "items-per-page": int(request.args.get("rows", 20)), "query": {"start-index": 0}}}
        return Response(json.dumps(body), status=200, content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def handle(self, request):
        from werkzeug import Response

        doi = request.path[len("/works/"):]
        self.requests.append(doi)
        if doi.lower() in self.overrides:
            status, body, ctype = self.overrides[doi.lower()]
            return Response(body, status=status, content_type=ctype)
        path = ALL_WORKS.get(doi.lower())
        if path is None:
            return Response(NOT_FOUND_BODY, status=404, content_type="text/plain")
        return Response(path.read_bytes(), status=200, content_type="application/json")


class FakeEconPapers:
    """Serves /RePEc:... persistent-link pages from tests/fixtures/econpapers/;
    ``script`` holds statuses to answer first (e.g. [503, 503])."""

    def __init__(self, server):
        self.server = server
        self.requests: list[str] = []
        self.script: list[int] = []
        server.expect_request(re.compile(r"^/[Rr][Ee][Pp][Ee][Cc]:.+")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def handle(self, request):
        from werkzeug import Response

        handle = request.path.lstrip("/")
        self.requests.append(handle)
        if self.script:
            status = self.script.pop(0)
            return Response("The service is unavailable.", status=status, headers={"Retry-After": "0"})
        path = ECONPAPERS / (handle.replace(":", "_") + ".html")
        if not path.exists():
            return Response("<html><body>Not found</body></html>", status=404, content_type="text/html")
        return Response(path.read_bytes(), status=200, content_type="text/html; charset=utf-8")


ECONPAPERS = FIXTURES / "econpapers"


@pytest.fixture
def econpapers(httpserver, monkeypatch):
    fake = FakeEconPapers(httpserver)
    monkeypatch.setenv("CITETOOL_REPEC_URL", fake.url)
    return fake


DOI_ORG = FIXTURES / "doi.org"


class FakeDoiOrg:
    """doi.org content negotiation: /{doi} with Accept: CSL-JSON answers the
    items in tests/fixtures/doi.org/ (synthetic, labelled so), 404 otherwise."""

    def __init__(self, server):
        self.requests: list[str] = []
        self.accepts: list[str] = []
        server.expect_request(re.compile(r"^/10\..+")).respond_with_handler(self.handle)

    def handle(self, request):
        from werkzeug import Response

        doi = request.path.lstrip("/")
        self.requests.append(doi)
        self.accepts.append(request.headers.get("Accept", ""))
        path = DOI_ORG / (doi.lower().replace("/", "_") + ".json")
        if not path.exists():
            return Response("<html><body>Error: DOI Not Found</body></html>", status=404, content_type="text/html")
        return Response(path.read_bytes(), status=200, content_type="application/vnd.citationstyles.csl+json")


OPENLIBRARY = FIXTURES / "openlibrary"


@pytest.fixture
def openlibrary(httpserver, monkeypatch):
    """Open Library's books API: /api/books?bibkeys=ISBN:... from tests/fixtures/openlibrary/."""
    from werkzeug import Response

    requests_seen = []

    def handle(request):
        key = request.args.get("bibkeys", "")
        requests_seen.append(key)
        path = OPENLIBRARY / ("isbn_" + key.split(":", 1)[-1] + ".json")
        body = path.read_text(encoding="utf-8") if path.exists() else "{}"
        return Response(body, status=200, content_type="application/json")

    httpserver.expect_request("/api/books").respond_with_handler(handle)
    monkeypatch.setenv("CITETOOL_OPENLIBRARY_URL", httpserver.url_for("").rstrip("/"))
    return requests_seen


WEB = FIXTURES / "web"


@pytest.fixture
def web(httpserver):
    """Serves tests/fixtures/web/NAME.html at /pages/NAME; returns the base URL."""
    from werkzeug import Response

    def handle(request):
        path = WEB / (request.path.rsplit("/", 1)[-1] + ".html")
        if not path.exists():
            return Response("gone", status=404)
        return Response(path.read_bytes(), status=200, content_type="text/html; charset=utf-8")

    httpserver.expect_request(re.compile(r"^/pages/.+")).respond_with_handler(handle)
    return httpserver.url_for("/pages")


@pytest.fixture
def crossref(httpserver, monkeypatch):
    """Crossref, and doi.org behind it (a DOI Crossref does not know goes there)."""
    fake = FakeCrossref(httpserver)
    fake.doi_org = FakeDoiOrg(httpserver)
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", fake.url)
    monkeypatch.setenv("CITETOOL_DOI_URL", fake.url)
    return fake


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run():
    """Run the CLI in-process: run("add", "10.x/y", input="...") -> Result."""
    from citetool.cli import app

    runner = CliRunner()

    def _run(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return _run


@pytest.fixture
def store_path(tmp_path) -> Path:
    return tmp_path / "store.json"


class RawServer:
    """A socket server on 127.0.0.1 answering each connection with ``respond(conn, request)``."""

    def __init__(self, respond):
        self.respond = respond
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.hits: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(conn,), daemon=True).start()

    def one(self, conn):
        with conn:
            request = conn.recv(65536)
            self.hits.append(request)
            with contextlib.suppress(OSError):
                self.respond(conn, request)

    def close(self):
        self.sock.close()
