"""The one HTTP path of every source.

One pooled ``httpx2`` session (thread-safe, connections reused) per
:class:`~citetool.sources.Sources`, and for every request:

* a User-Agent naming citetool (and the mailto, which puts Crossref requests
  in its polite pool);
* a per-read timeout (``CITETOOL_TIMEOUT``) and an overall deadline of
  ``DEADLINE_FACTOR`` times it, so a server dripping one byte at a time cannot
  hold citetool: every socket read is given at most what is left of it;
* a cap on the size of the answer (each source says its own);
* at most ``MAX_REDIRECTS`` redirects, only to http(s), and never from a public
  host to a loopback, private or link-local address (the address the user typed
  is theirs; an address found in a document is treated as a redirect target);
* bounded retries with back-off (``Retry-After``, else exponential with
  jitter) for the statuses a source names, under its rate limiter if it has one;
* every failure mapped to :class:`~citetool.errors.SourceUnavailable` with a
  one-line message naming the service and what was asked.

``httpx2`` is imported on first use: commands that need no network never load it,
and without ``trio`` (see :func:`_without_async_backends`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass

from citetool.errors import SourceUnavailable

DEADLINE_FACTOR = 3  # overall deadline of one request: this many per-read timeouts
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Answer:
    """A complete HTTP answer: status, headers, body (at most the size cap) and the final URL."""

    status: int
    headers: object  # case-insensitive mapping
    body: bytes
    url: str
    service: str
    what: str

    def json(self):
        """The body as JSON; an unreadable body is the service's failure, said in one line."""
        import json

        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise SourceUnavailable(f"{self.service} sent an unreadable answer for {self.what}") from None

    def failed(self) -> SourceUnavailable:
        """The error for a status the caller does not expect."""
        if self.status == 429:
            return SourceUnavailable(f"{self.service} is rate-limiting requests (HTTP 429) for {self.what}; try again later")
        return SourceUnavailable(f"{self.service} answered HTTP {self.status} for {self.what}")

    def text(self) -> str:
        """The body as text, decoded as the HTML standard says (see :func:`decode_page`)."""
        return decode_page(self.body, self.headers.get("content-type", ""))


class _Budget(dict):
    """httpcore's timeout extension, asked before every connect, read and write:
    the per-read timeout, or what is left of the overall deadline if less."""

    def __init__(self, timeout: float, deadline: float):
        super().__init__(connect=timeout, read=timeout, write=timeout, pool=timeout)
        self.timeout = timeout
        self.deadline = deadline

    def get(self, key, default=None):
        return max(0.001, min(self.timeout, self.deadline - time.monotonic()))


def _addresses(host: str) -> list:
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
        except ValueError:
            continue
    return out


def private_kind(host: str) -> str | None:
    """``loopback``, ``link-local``, ``private`` (or another non-public kind)
    when ``host`` is or resolves to such an address; None for a public host
    (or one that does not resolve: that request fails on its own)."""
    for address in _addresses(host):
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link-local"
        if not address.is_global:
            return "private"
    return None


# Optional async back-ends httpcore2 imports at its own import when they are
# installed, for its async API, which citetool never uses (one sync client).
_ASYNC_ONLY = ("trio",)


@contextlib.contextmanager
def _without_async_backends():
    """While httpx2 and its transport (httpcore2) are first loaded, ``import
    trio`` fails as if trio were absent. httpcore2 tries it at its import, for
    its async API, which citetool never uses (one sync client), and handles its
    absence; with trio installed that import alone cost 50-240 ms of ``add``'s
    0.3-0.7 s (``python -X importtime``). Afterwards trio imports normally; a
    process that had imported trio already is left as it is."""
    import sys

    blocked = [name for name in _ASYNC_ONLY if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # "import trio" raises ImportError
    try:
        yield
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


class Http:
    """The shared session. ``get`` returns an :class:`Answer` or raises SourceUnavailable."""

    def __init__(self, settings):
        self.settings = settings
        self.deadline = settings.timeout * DEADLINE_FACTOR
        self.counts: Counter = Counter()  # (service, status) -> answers
        self._client = None
        self._lock = threading.Lock()

    def _session(self):
        with self._lock:
            if self._client is None:
                with _without_async_backends():  # httpx2 loads httpcore2 when the client is made
                    import httpx2

                    self._client = httpx2.Client(
                        headers={"User-Agent": self.settings.user_agent},
                        timeout=self.settings.timeout,
                        follow_redirects=False,
                        limits=httpx2.Limits(max_connections=20, max_keepalive_connections=10),
                    )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def get(self, url: str, *, service: str, what: str, params: dict | None = None, accept: str | None = None,
            max_bytes: int = DEFAULT_MAX_BYTES, limiter=None, retry_on: tuple[int, ...] = (), retries: int = 0,
            backoff_base: float | None = None, pace=None, typed: bool = True) -> Answer:
        """GET ``url``. Statuses in ``retry_on`` are retried ``retries`` times
        (a 429 also pauses every request on ``limiter``); ``pace()`` is called
        before each try (a source's own politeness); ``typed=False`` for an
        address found in a document: it must be public, like a redirect target."""
        from citetool.ratelimit import backoff  # start-up: loaded only when needed

        base = self.settings.retry_base if backoff_base is None else backoff_base
        for attempt in range(retries + 1):
            if pace is not None:
                pace()
            with limiter.slot() if limiter is not None else nullcontext():
                answer = self._fetch(url, params, accept, max_bytes, service, what, typed)
            with self._lock:
                self.counts[(service, answer.status)] += 1
            if limiter is not None:
                limiter.update_from_headers(answer.headers)
            if answer.status in retry_on and attempt < retries:
                wait = backoff(attempt, answer.headers.get("retry-after"), base=base)
                if answer.status == 429 and limiter is not None:
                    limiter.pause(wait)
                time.sleep(wait)
                continue
            return answer
        raise AssertionError("unreachable")

    def _fetch(self, url, params, accept, max_bytes, service, what, typed) -> Answer:
        session = self._session()
        import httpx2  # imported by _session
        timeout = self.settings.timeout
        deadline = time.monotonic() + self.deadline
        headers = {"Accept": accept} if accept else {}
        current = url
        try:
            for hop in range(MAX_REDIRECTS + 1):
                target = httpx2.URL(current, params=params) if hop == 0 and params else httpx2.URL(current)
                if target.scheme not in ("http", "https"):
                    raise SourceUnavailable(f"{service} sent {what} to a {target.scheme}: address, which citetool does not follow")
                if not typed:
                    kind = private_kind(target.host)
                    if kind:
                        raise SourceUnavailable(f"refused to fetch {target.host}, a {kind} address, for {what}")
                request = session.build_request("GET", target, headers=headers,
                                                extensions={"timeout": _Budget(timeout, deadline)})
                response = session.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECTS and location:
                        current = str(response.url.join(location))
                        self._check_redirect(response.url, httpx2.URL(current), service, what)
                        continue
                    body = self._read(response, max_bytes, deadline, service, what)
                    return Answer(response.status_code, response.headers, body, str(response.url), service, what)
                finally:
                    response.close()
            raise SourceUnavailable(f"{service} redirected more than {MAX_REDIRECTS} times for {what}")
        except httpx2.TimeoutException:
            if time.monotonic() >= deadline - 0.01:
                raise SourceUnavailable(f"{service} did not finish answering within {self.deadline:g}s for {what}") from None
            raise SourceUnavailable(f"{service} did not answer within {timeout:g}s for {what}") from None
        except (httpx2.InvalidURL, httpx2.UnsupportedProtocol) as exc:
            raise SourceUnavailable(f"cannot ask {service} for {what}: {exc}") from None
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(f"cannot reach {service} for {what}: {what_went_wrong(exc)}") from None

    def _check_redirect(self, origin, target, service: str, what: str) -> None:
        if target.scheme not in ("http", "https"):
            raise SourceUnavailable(f"{service} redirected {what} to a {target.scheme}: address, which citetool does not follow")
        if target.host == origin.host or private_kind(origin.host):
            return  # the same host, or from a non-public host the user chose: theirs
        kind = private_kind(target.host)
        if kind:
            raise SourceUnavailable(
                f"{what}: a redirect from the public host {origin.host} to {target.host}, a {kind} address, refused")

    def _read(self, response, max_bytes: int, deadline: float, service: str, what: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise SourceUnavailable(f"{service}'s answer for {what} is larger than {_size(max_bytes)}")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise SourceUnavailable(f"{service}'s answer for {what} is larger than {_size(max_bytes)}")
            if time.monotonic() > deadline:
                raise SourceUnavailable(f"{service} did not finish answering within {self.deadline:g}s for {what}")
        return bytes(body)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


# --- page encoding ---------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            return value.strip().strip("\"'").lower()
    return None


def _known(label: str | None) -> str | None:
    import codecs

    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # the HTML standard: a page parsed as ASCII-compatible bytes is not UTF-16
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"  # what browsers mean by either label
    return name


def _meta_charset(head: bytes) -> str | None:
    """The charset a ``<meta charset>`` or ``<meta http-equiv=Content-Type>`` in
    the first 4 KB names (a prescan, as browsers do)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Prescan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag != "meta" or found:
                return
            a = {k.lower(): (v or "") for k, v in attrs}
            if a.get("charset"):
                found.append(a["charset"].strip())
            elif a.get("http-equiv", "").lower() == "content-type" and "charset" in a.get("content", "").lower():
                value = _charset("x;" + a["content"].split(";", 1)[-1])
                if value:
                    found.append(value)

    with contextlib.suppress(AssertionError, ValueError):  # a prescan of hostile bytes never stops the page
        Prescan().feed(head.decode("ascii", errors="replace"))
    return found[0] if found else None


def decode_page(body: bytes, content_type: str = "") -> str:
    """Decode a page as the HTML standard orders: a BOM, then the HTTP header's
    charset, then a ``<meta>`` charset, then UTF-8 if the bytes are valid UTF-8,
    else windows-1252. A header charset the bytes contradict (UTF-16 on a page
    of single bytes) is not believed."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace")
    header = _charset(content_type)
    for label in (header, _meta_charset(body[:4096])):
        name = _known(label)
        if name:
            try:
                return body.decode(name)
            except UnicodeDecodeError:
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def what_went_wrong(exc: Exception) -> str:
    """A network failure in words, not an exception's name (``ConnectError``)."""
    import httpx2

    said = str(exc).lower()
    if isinstance(exc, httpx2.ConnectError):
        if any(word in said for word in ("name or service", "nodename", "getaddrinfo", "name resolution", "no address")):
            return "its name could not be looked up (no network, or a mistyped address?)"
        if "refused" in said:
            return "the connection was refused (nothing listens at that address)"
        if "ssl" in said or "certificate" in said:
            return "the secure connection could not be set up (a certificate problem?)"
        return "no connection could be made"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return "the server closed the connection before answering in full"
    if isinstance(exc, httpx2.ReadError):
        return "the connection broke while the answer was read"
    if isinstance(exc, httpx2.WriteError):
        return "the connection broke while the request was sent"
    if isinstance(exc, httpx2.ProxyError):
        return "the proxy refused the request"
    if isinstance(exc, httpx2.DecodingError):
        return "the answer could not be decoded (a broken compression?)"
    return "the request failed on the way"
