"""The Crossref REST API client: ``/works/{doi}`` and ``/works?filter=...`` list
queries through the one HTTP session, under Crossref's published limits (polite
pool), with its answers cached on disk."""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

from citetool.errors import LookupFailed, NotFound, SourceUnavailable
from citetool.identifiers import doi_route

CACHE_MAX_AGE = 7 * 24 * 3600  # a week: CITETOOL_CACHE_MAX_AGE overrides


MAX_URL = 4000  # characters in one list query's URL: a length every proxy accepts


MAX_BATCH = 100  # DOIs in one list query


RETRIES = 5


RETRY_ON = (429, 500, 502, 503, 504)


MAX_WORK_BYTES = 10 * 1024 * 1024  # one work (a few have thousands of references)


MAX_LIST_BYTES = 100 * 1024 * 1024  # a list of up to 100 works


SERVICE = "Crossref"


class CrossrefClient:
    """Fetches works from the Crossref REST API, through the shared HTTP session.

    * One DOI: ``/works/{doi}``, the DOI quoted (SICI DOIs hold ``<>;()[]:``).
    * Many DOIs: ``/works?filter=doi:A,doi:B,...&rows=N`` list queries, each URL
      under ``MAX_URL`` characters, a bounded number in flight, then single
      look-ups for whatever a batch did not return.
    * Limits: the polite pool's (10 single and 3 list requests a second, 3 in
      flight) with ``CITETOOL_MAILTO``, the public pool's (5, 1, 1) without;
      tightened by the server's ``x-rate-limit-*``/``x-concurrency-limit``
      headers; 429 answered by a shared pause (``Retry-After`` or exponential
      back-off with jitter); 429 and 5xx retried a bounded number of times.
    * Answers are cached on disk (one file per DOI), so adding again makes no
      request; ``offline`` uses the cache alone, ``fresh`` bypasses it.
    """

    def __init__(self, settings, cache=None, http=None):
        from citetool.ratelimit import Limiter  # start-up: loaded only when needed
        from citetool.sources.http import Http  # start-up: loaded only when needed

        self.settings = settings
        self.cache = cache
        self.http = http or Http(settings)
        polite = bool(settings.mailto)
        concurrency = settings.crossref_concurrency or (3 if polite else 1)
        self.singles = Limiter(settings.crossref_rate or (10 if polite else 5), 1.0, concurrency)
        self.lists = Limiter(settings.crossref_list_rate or (3 if polite else 1), 1.0, concurrency)

    # --- the cache -------------------------------------------------------------

    def _cached(self, doi: str, any_age: bool = False) -> dict | None:
        if self.cache is None:
            return None
        text = self.cache.get("work:" + doi.lower(), any_age=any_age)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    def remember(self, message: dict, *asked: str) -> None:
        """Cache a work (under its DOI and the spellings it was asked by)."""
        if self.cache is None:
            return
        text = json.dumps(message, ensure_ascii=False)
        for doi in {d.lower() for d in asked + (message["DOI"],)}:
            self.cache.put("work:" + doi, text)

    # --- one DOI -----------------------------------------------------------------

    def fetch(self, doi: str, offline: bool = False, fresh: bool = False) -> dict:
        """The Crossref ``message`` for ``doi``; raises NotFound or SourceUnavailable."""
        cached = None if fresh and not offline else self._cached(doi, any_age=offline)
        if cached is not None:
            return cached
        if offline:
            raise SourceUnavailable(f"{doi} is not in the cache (offline)")
        message = self._fetch_one(doi)
        self.remember(message, doi)
        return message

    def _fetch_one(self, doi: str) -> dict:
        url = doi_route(f"{self.settings.crossref_url}/works", doi)
        answer = self.http.get(url, service=SERVICE, what=doi, max_bytes=MAX_WORK_BYTES,
                               limiter=self.singles, retry_on=RETRY_ON, retries=RETRIES)
        if answer.status == 404:
            raise NotFound(f"not found in Crossref: {doi}")
        if answer.status != 200:
            raise answer.failed()
        envelope = answer.json()
        message = envelope.get("message") if isinstance(envelope, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("DOI"), str):
            raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {doi}")
        return message

    # --- many DOIs ---------------------------------------------------------------

    def batches(self, dois: list[str]) -> list[list[str]]:
        """Split ``dois`` so each list query stays under MAX_URL characters and MAX_BATCH DOIs."""
        base = len(self.settings.crossref_url) + len("/works?rows=100&filter=")
        out: list[list[str]] = []
        current: list[str] = []
        length = base
        for doi in dois:
            cost = len(quote("doi:" + doi, safe="")) + 3  # the comma, encoded
            if current and (length + cost > MAX_URL or len(current) >= MAX_BATCH):
                out.append(current)
                current, length = [], base
            current.append(doi)
            length += cost
        if current:
            out.append(current)
        return out

    def _fetch_list(self, batch: list[str]) -> dict[str, dict]:
        """One list query: {doi lower: message} for the works Crossref returned."""
        params = {"filter": ",".join("doi:" + d for d in batch), "rows": str(len(batch))}
        items = self.query_list(params)
        return {i["DOI"].lower(): i for i in items if isinstance(i, dict) and isinstance(i.get("DOI"), str)}

    def query_list(self, params: dict, strict: bool = False, what: str = "a list query") -> list[dict]:
        """The items of one ``/works`` list query (never cached). When it fails:
        [] (callers fall back), or SourceUnavailable with ``strict``."""
        try:
            answer = self.http.get(self.settings.crossref_url + "/works", service=SERVICE, what=what, params=params,
                                   max_bytes=MAX_LIST_BYTES, limiter=self.lists, retry_on=RETRY_ON, retries=RETRIES)
            if answer.status != 200:
                raise answer.failed()
            try:
                items = answer.json()["message"]["items"]
            except (KeyError, TypeError):
                raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {what}") from None
            if not isinstance(items, list):
                raise SourceUnavailable(f"Crossref sent an answer of the wrong shape for {what}")
        except LookupFailed as exc:
            if strict:
                raise SourceUnavailable(f"Crossref list query failed: {exc}") from None
            return []
        return [i for i in items if isinstance(i, dict)]

    def fetch_many(self, dois: list[str], offline: bool = False, fresh: bool = False, on_result=None) -> dict:
        """{doi: message or LookupFailed} for every DOI; ``on_result(doi, value)`` as each arrives."""
        from concurrent.futures import ThreadPoolExecutor

        results: dict = {}
        lock = threading.Lock()

        def done(doi, value):
            with lock:
                results[doi] = value
            if on_result:
                on_result(doi, value)

        remaining = []
        for doi in dois:
            cached = None if fresh and not offline else self._cached(doi, any_age=offline)
            if cached is not None:
                done(doi, cached)
            elif offline:
                done(doi, SourceUnavailable(f"{doi} is not in the cache (offline)"))
            else:
                remaining.append(doi)
        if not remaining:
            return results

        def one(doi):
            try:
                done(doi, self.fetch(doi, fresh=fresh))
            except LookupFailed as exc:
                done(doi, exc)

        workers = max(self.lists.concurrency, self.singles.concurrency)
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            leftovers: list[str] = []
            if len(remaining) > 1:
                def batch_job(batch):
                    found = self._fetch_list(batch)
                    for doi in batch:
                        message = found.get(doi.lower())
                        if message is None:
                            leftovers.append(doi)
                        else:
                            self.remember(message, doi)
                            done(doi, message)

                list(pool.map(batch_job, self.batches(remaining)))
            else:
                leftovers = remaining
            list(pool.map(one, leftovers))
        except BaseException:  # Ctrl-C: stop asking, keep what arrived
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        return results

    def close(self) -> None:
        self.http.close()
