"""Batch resolution at the edge of Crossref's limits, the cache, offline work,
saving as the run goes, and a start-up that loads no network code."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ALL_WORKS, SEED_DOI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from fake_crossref import FakeCrossref, bench_doi  # noqa: E402

from citetool.config import Settings  # noqa: E402
from citetool.library import Library  # noqa: E402
from citetool.sources.crossref_client import MAX_BATCH, MAX_URL, CrossrefClient  # noqa: E402


def test_many_dois_go_in_list_queries(crossref, run):
    dois = sorted(ALL_WORKS)
    result = run("add", "-", input="\n".join(dois))
    assert result.exit_code == 0
    assert len(crossref.list_requests) == 1 and sorted(crossref.list_requests[0]) == sorted(dois)
    assert crossref.requests == []  # every DOI came back in the list


def test_batches_respect_url_length_and_size():
    client = CrossrefClient(Settings(crossref_url="https://api.crossref.org"))
    dois = [f"10.1000/{'x' * (i % 90 + 10)}.{i}" for i in range(1000)]
    batches = client.batches(dois)
    assert [d for b in batches for d in b] == dois
    for batch in batches:
        assert len(batch) <= MAX_BATCH
        from urllib.parse import urlencode

        url = "https://api.crossref.org/works?" + urlencode({"filter": ",".join("doi:" + d for d in batch), "rows": len(batch)})
        assert len(url) <= MAX_URL, len(url)


def test_what_a_batch_misses_is_looked_up_alone(crossref, run):
    crossref.overrides["10.1038/ng.3834"] = (500, b"oops", "text/plain")  # absent from lists, 500 alone
    result = run("add", SEED_DOI, "10.1038/ng.3834", "10.1371/notarealdoi", "10.1038/srep16696")
    assert result.exit_code == 3
    assert sorted(crossref.requests) == ["10.1038/ng.3834"] * 6 + ["10.1371/notarealdoi"]  # 5 retries on 5xx
    assert "not found in Crossref or at doi.org: 10.1371/notarealdoi" in result.stderr
    assert "Crossref answered HTTP 500 for 10.1038/ng.3834" in result.stderr
    assert result.stdout.split() == ["arduino2021russia", "tosatto2015single"]


@pytest.fixture
def limited(monkeypatch, tmp_path):
    """A fake Crossref with the polite pool's limits, and citetool at its defaults."""
    for name in ("CITETOOL_CROSSREF_RATE", "CITETOOL_CROSSREF_LIST_RATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CITETOOL_MAILTO", "tests@example.org")
    with FakeCrossref(latency=0.02, single_rate=10, list_rate=3, concurrency=3) as fake:
        monkeypatch.setenv("CITETOOL_CROSSREF_URL", fake.url)
        yield fake


def test_list_queries_stay_within_the_limits(limited, run):
    dois = [bench_doi(i) for i in range(600)]  # 6+ list queries at 3 a second
    result = run("add", "-", input="\n".join(dois))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.split()) == 600
    assert limited.stats["429"] == 0, limited.stats
    assert limited.stats["list"] >= 6 and limited.stats["max_in_flight"] <= 3


def test_single_look_ups_stay_within_the_limits(limited, run):
    dois = [bench_doi(i) for i in range(25)]
    limited.limits["list"] = 0  # every list query is refused: all singles, at 10 a second
    result = run("add", "-", input="\n".join(dois))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.split()) == 25
    assert limited.stats["single"] == 25


def test_server_limits_tighten_ours(monkeypatch, run):
    """Configured for more than the server allows, citetool adopts its headers."""
    monkeypatch.setenv("CITETOOL_CROSSREF_LIST_RATE", "50")
    monkeypatch.setenv("CITETOOL_CROSSREF_CONCURRENCY", "3")
    with FakeCrossref(latency=0.0, list_rate=2, concurrency=3) as fake:
        monkeypatch.setenv("CITETOOL_CROSSREF_URL", fake.url)
        result = run("add", "-", input="\n".join(bench_doi(i) for i in range(400)))
        assert result.exit_code == 0, result.stderr
        assert len(result.stdout.split()) == 400
        assert fake.stats["429"] <= 3  # only before the first headers arrived


def test_429_with_retry_after_is_honoured(httpserver, monkeypatch, run):
    from werkzeug import Response

    path = ALL_WORKS[SEED_DOI]
    answers = [Response("slow down", status=429, headers={"Retry-After": "1"}),
               Response(path.read_bytes(), status=200, content_type="application/json")]
    times = []

    def handler(request):
        import time

        times.append(time.monotonic())
        return answers.pop(0)

    httpserver.expect_request(f"/works/{SEED_DOI}").respond_with_handler(handler)
    monkeypatch.setenv("CITETOOL_CROSSREF_URL", httpserver.url_for("").rstrip("/"))
    result = run("add", SEED_DOI)
    assert result.exit_code == 0, result.stderr
    assert len(times) == 2 and times[1] - times[0] >= 1.0


def test_the_cache_saves_requests_and_serves_offline(crossref, run, tmp_path):
    assert run("add", SEED_DOI).exit_code == 0
    assert run("remove", "arduino2021russia").exit_code == 0
    assert run("add", SEED_DOI).stdout == "arduino2021russia\n"
    assert len(crossref.requests) == 1
    run("remove", "arduino2021russia")
    offline = run("add", "--offline", SEED_DOI, "10.1038/srep16696")
    assert offline.exit_code == 3
    assert offline.stdout == "arduino2021russia\n"
    assert "10.1038/srep16696 is not in the cache (offline)" in offline.stderr
    assert len(crossref.requests) == 1
    cached = list((tmp_path / "cache" / "crossref").rglob("*"))
    assert cached and all("mailto" not in p.read_text(encoding="utf-8") for p in cached if p.is_file())


def test_an_interrupted_run_keeps_what_was_done(crossref, store_path, monkeypatch):
    lib = Library(store_path)
    lib.SAVE_EVERY = 0  # save after each arrival

    def interrupt(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lib.add(sorted(ALL_WORKS), progress=interrupt)
    saved = json.loads(store_path.read_text(encoding="utf-8"))["references"]
    assert len(saved) >= 4  # everything that arrived before Ctrl-C


def test_the_store_is_read_and_written_once_per_command(crossref, store_path, monkeypatch):
    from citetool import store as store_module

    Library(store_path).add([SEED_DOI, "10.1038/ng.3834"])
    reads, writes = [], []
    real_read, real_write = store_module.Store.load, store_module.Store.save
    monkeypatch.setattr(store_module.Store, "load", lambda self: reads.append(1) or real_read(self))
    monkeypatch.setattr(store_module.Store, "save", lambda self, r: writes.append(1) or real_write(self, r))
    outcomes = Library(store_path).add(["10.1038/srep16696", SEED_DOI])
    assert [o.status for o in outcomes] == ["added", "present"]
    assert (len(reads), len(writes)) == (1, 1)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["list"], ["export"], ["export", "-f", "ris"],
                                  ["show", "x"], ["list", "--json"]])
def test_commands_without_network_load_no_network_code(args, tmp_path):
    code = ("import os, sys, runpy\n"
            "os._exit = sys.exit  # (the command line ends its process at once: here, what it loaded is asked after)\n"
            f"sys.argv = ['citetool'] + {args!r}\n"
            "try:\n    runpy.run_module('citetool', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('habanero', 'httpx2', 'requests', 'bibtexparser', 'rich', 'pylatexenc')"
            " if m in sys.modules)\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))\n")
    env = {**os.environ, "CITETOOL_STORE": str(tmp_path / "s.json")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "HEAVY=" in proc.stderr
    heavy = proc.stderr.rsplit("HEAVY=", 1)[1].strip()
    assert heavy == "", f"{args} imported {heavy}"
