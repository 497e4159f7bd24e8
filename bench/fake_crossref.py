"""A local fake Crossref for benchmarks (and the limiter's tests).

Serves ``/works/{doi}`` and ``/works?filter=doi:A,doi:B&rows=N`` on 127.0.0.1
from the recorded fixtures in tests/fixtures/crossref/works/. Synthetic DOIs
``10.5555/bench.N`` answer with fixture N (cycled) under that DOI. Like the
real service it sends ``x-rate-limit-limit``/``x-rate-limit-interval``/
``x-concurrency-limit`` and answers 429 (HTML body, no Retry-After, as
recorded) when a client exceeds the rate of its route or the concurrency
limit. Every request waits ``latency`` seconds.

    python bench/fake_crossref.py --port 8765 --latency 0.1
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

WORKS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "crossref" / "works"
TOO_MANY = (b"<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests "
            b"in a given amount of time.\n</body></html>")


def bench_doi(i: int) -> str:
    return f"10.5555/bench.{i}"


class FakeCrossref:
    def __init__(self, latency: float = 0.0, single_rate: int = 10, list_rate: int = 3, concurrency: int = 3,
                 port: int = 0):
        self.latency = latency
        self.limits = {"single": single_rate, "list": list_rate}
        self.concurrency = concurrency
        self.messages = [json.loads(p.read_text(encoding="utf-8"))["message"] for p in sorted(WORKS.glob("*.json"))]
        self.by_doi = {m["DOI"].lower(): m for m in self.messages}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.starts = {"single": deque(), "list": deque()}
        self.stats = {"single": 0, "list": 0, "429": 0, "429 rate": 0, "429 concurrency": 0, "max_in_flight": 0}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def message(self, doi: str) -> dict | None:
        doi = doi.lower()
        if doi.startswith("10.5555/bench."):
            n = int(doi.rsplit(".", 1)[1])
            base = self.messages[n % len(self.messages)]
            title = (base.get("title") or ["Untitled"])[0] or "Untitled"
            return {**base, "DOI": doi, "title": [f"{title} (bench {n})"]}
        return self.by_doi.get(doi)

    def _admit(self, route: str) -> bool:
        with self.lock:
            now = time.monotonic()
            window = self.starts[route]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if self.in_flight >= self.concurrency or len(window) >= self.limits[route]:
                self.stats["429"] += 1
                self.stats["429 " + ("concurrency" if self.in_flight >= self.concurrency else "rate")] += 1
                return False
            window.append(now)
            self.in_flight += 1
            self.stats[route] += 1
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.in_flight)
            return True

    def _send(self, handler, status: int, body: bytes, ctype: str, route: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("x-rate-limit-limit", str(self.limits[route]))
        handler.send_header("x-rate-limit-interval", "1s")
        handler.send_header("x-concurrency-limit", str(self.concurrency))
        handler.send_header("x-api-pool", "polite" if route == "single" else "polite-array")
        handler.end_headers()
        handler.wfile.write(body)

    def handle(self, handler) -> None:
        parts = urlsplit(handler.path)
        route = "single" if parts.path.startswith("/works/") else "list"
        if not self._admit(route):
            self._send(handler, 429, TOO_MANY, "text/html", route)
            return
        try:
            time.sleep(self.latency)
            if route == "single":
                message = self.message(unquote(parts.path[len("/works/"):]))
                if message is None:
                    self._send(handler, 404, b"Resource not found.", "text/plain", route)
                    return
                body = {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": message}
            else:
                query = parse_qs(parts.query)
                wanted = [d[4:] for d in query.get("filter", [""])[0].split(",") if d.startswith("doi:")]
                items = [m for m in (self.message(d) for d in wanted) if m is not None]
                rows = int(query.get("rows", ["20"])[0])
                body = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0",
                        "message": {"facets": {}, "total-results": len(items), "items": items[:rows],
                                    "items-per-page": rows, "query": {"start-index": 0}}}
            self._send(handler, 200, json.dumps(body).encode("utf-8"), "application/json", route)
        finally:
            with self.lock:
                self.in_flight -= 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    with FakeCrossref(latency=args.latency, port=args.port) as fake:
        print(f"fake Crossref on {fake.url} (latency {args.latency}s); Ctrl-C stops")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
