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


class Limiter:
    def __init__(self, rate: float, interval: float = 1.0, concurrency: int = 1):
        self.rate = max(rate, 0.001)
        self.interval = interval
        self.concurrency = max(1, int(concurrency))
        self._cond = threading.Condition()
        self._in_flight = 0
        self._starts: deque[float] = deque()
        self._paused_until = 0.0

    @contextmanager
    def slot(self):
        """Hold one request slot: waits for concurrency, rate and any pause."""
        with self._cond:
            while True:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self.interval:
                    self._starts.popleft()
                wait = 0.0
                if self._paused_until > now:
                    wait = self._paused_until - now
                elif self._in_flight >= self.concurrency:
                    wait = None  # until a slot frees
                elif len(self._starts) >= self.rate:
                    wait = self.interval - (now - self._starts[0])
                if wait == 0.0:
                    break
                self._cond.wait(wait if wait is None or wait > 0 else 0.001)
            self._in_flight += 1
            self._starts.append(time.monotonic())
        try:
            yield
        finally:
            with self._cond:
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
            if limit and str(limit).strip().isdigit():
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
