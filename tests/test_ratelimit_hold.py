"""A finished request keeps its concurrency slot a moment (RELEASE_DELAY) so the
server's count is sure, but the thread that made it goes on with its answer."""

from __future__ import annotations

import time

from citetool import ratelimit
from citetool.ratelimit import RELEASE_DELAY, Limiter


def test_the_next_request_waits_for_the_held_slot_but_the_finished_one_does_not_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(ratelimit.time, "sleep", lambda s: slept.append(s))
    limiter = Limiter(rate=100, interval=1.0, concurrency=1)
    with limiter.slot():
        pass
    ended = time.monotonic()
    assert slept == []  # leaving the slot did not put this thread to sleep
    with limiter.slot():
        started = time.monotonic()
    assert started - ended >= RELEASE_DELAY * 0.95  # ... but the slot stayed taken that long


def test_free_slots_are_not_held_up():
    limiter = Limiter(rate=100, interval=1.0, concurrency=2)
    with limiter.slot():
        pass
    start = time.monotonic()
    with limiter.slot():  # the other of the two slots: no wait
        assert time.monotonic() - start < RELEASE_DELAY
