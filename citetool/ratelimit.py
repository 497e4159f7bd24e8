"""Client-side limits for a rate-limited API: at most ``rate`` requests per
``interval`` seconds and ``concurrency`` in flight, adjusted by the server's
``x-rate-limit-*`` / ``x-concurrency-limit`` headers when it sends them, and a
shared pause after a 429 (``Retry-After``, else exponential back-off with jitter).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from contextlib import contextmanager

# The server clocks a request somewhere between the moment the client starts
# it and the moment the answer is back. To be sure of the server's count, a
# request leaves the rate window only ``interval`` after its answer arrived,
# and a finished request keeps its concurrency slot a moment longer (counted
# as in flight; its own thread goes on with the answer at once).
WINDOW_MARGIN = 0.02  # seconds added to the rate window
RELEASE_DELAY = 0.05  # seconds a finished request keeps its concurrency slot


class Limiter:
    def __init__(self, rate: float, interval: float = 1.0, concurrency: int = 1):
        self.rate = max(rate, 0.001)
        self.interval = interval
        self.concurrency = max(1, int(concurrency))
        self._cond = threading.Condition()
        self._in_flight = 0
        self._recent: deque[list] = deque()  # [start, end or None] per recent request
        self._paused_until = 0.0

    def _wait_time(self, now: float) -> float | None:
        """0 when a request may start now; else seconds to wait (None: until notified)."""
        window = self.interval + WINDOW_MARGIN
        while self._recent and self._recent[0][1] is not None and now - self._recent[0][1] >= window:
            self._recent.popleft()
        if self._paused_until > now:
            return self._paused_until - now
        held = [end + RELEASE_DELAY - now for _, end in self._recent if end is not None and end + RELEASE_DELAY > now]
        if self._in_flight + len(held) >= self.concurrency:
            return min(held) if held else None
        if len(self._recent) >= self.rate:
            oldest_end = self._recent[0][1]
            return None if oldest_end is None else max(window - (now - oldest_end), 0.001)
        return 0.0

    @contextmanager
    def slot(self):
        """Hold one request slot: waits for concurrency, rate and any pause."""
        with self._cond:
            while True:
                wait = self._wait_time(time.monotonic())
                if wait == 0.0:
                    break
                self._cond.wait(wait)
            self._in_flight += 1
            entry = [time.monotonic(), None]
            self._recent.append(entry)
        try:
            yield
        finally:
            with self._cond:
                entry[1] = time.monotonic()
                self._in_flight -= 1
                self._cond.notify_all()

    def update_from_headers(self, headers) -> None:
        """Adopt the server's stated limits (only ever tighter than ours)."""
        try:
            limit = headers.get("x-rate-limit-limit")
            interval = headers.get("x-rate-limit-interval")
            concurrency = headers.get("x-concurrency-limit")
        except AttributeError:
            return
        with self._cond:
            if limit and str(limit).strip().isdigit() and int(limit) > 0:
                seconds = float(str(interval).strip().rstrip("s")) if interval and str(interval).strip().rstrip("s").replace(".", "", 1).isdigit() else 1.0
                if int(limit) / seconds < self.rate / self.interval:
                    self.rate, self.interval = float(limit), seconds
            if concurrency and str(concurrency).strip().isdigit() and int(concurrency) < self.concurrency:
                self.concurrency = max(1, int(concurrency))

    def pause(self, seconds: float) -> None:
        """Nobody starts a request for ``seconds`` (after a 429)."""
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()


def backoff(attempt: int, retry_after: str | None = None, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): ``Retry-After`` when
    the server gives seconds, else exponential with full jitter."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), cap)
    return random.uniform(0, min(cap, base * (2 ** attempt)))
