"""A large export rendered on every core: the entries a first export (or an
export with the cache off) must render, shared among forked copies of this
process, each rendering a contiguous share and handing its texts back in an
anonymous file in memory (``memfd_create``), read once the copy has ended; the
entries come back in order, the very texts one process renders.

Only where forking is safe and worth it: on Linux, in a process with no other
thread (a thread holding a lock at the fork would leave it held in the copy),
with at least :data:`ENTRIES_PER_WORKER` entries for each copy.
``CITETOOL_WORKERS`` sets the number of processes (``1``: none forked).
A copy that fails in any way (fork refused, killed, a render that raised, an
answer cut short) has its share rendered here instead, so a render error is
raised as it would be without workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson

Item = TypeVar("Item")
Made = TypeVar("Made")

ENTRIES_PER_WORKER = 1000  # below this a fork (~5 ms with a large store in memory) gains little
MAX_WORKERS = 8
# What handing a copy's texts back costs against rendering them (its JSON written, then read
# here: ~2.6 µs an entry against ~25 µs of rendering a BibTeX entry), and its fork: measured,
# this process finished its equal share ~15 ms before a copy of 10,000 entries had finished its own.
HANDING_BACK = 0.12


def worker_count(entries: int) -> int:
    """How many processes render ``entries`` entries: ``CITETOOL_WORKERS`` when it
    is set (a number; anything else counts as 1), else one a core, one for each
    :data:`ENTRIES_PER_WORKER` entries."""
    setting = os.environ.get("CITETOOL_WORKERS", "").strip()
    if setting:
        wanted = int(setting) if setting.isascii() and setting.isdigit() else 1  # ("²".isdigit(): no int)
        return max(1, min(wanted, MAX_WORKERS, entries))
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, entries // ENTRIES_PER_WORKER))


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def _is_text(value: object) -> bool:
    return type(value) is str


def rendered_in_workers(render: Callable[[Item], Made], items: Sequence[Item],
                        valid: Callable[[object], bool] = _is_text) -> list[Made]:
    """``[render(item) for item in items]``, shared among worker processes where
    that is safe and worth it (see the module's notes). What ``render`` makes is
    a text, or a JSON value that ``valid`` tells (what a copy hands back is
    checked with it: one that does not pass had its share rendered here)."""
    workers = worker_count(len(items))
    if workers < 2 or not _can_fork():
        return [render(item) for item in items]
    shares = _shares(len(items), workers)
    children: list[tuple[int, int] | None] = []
    try:
        for start, end in shares[1:]:
            children.append(_fork_share(render, items, start, end))
        out = [render(item) for item in items[shares[0][0]:shares[0][1]]]
        for n, (start, end) in enumerate(shares[1:]):
            child, children[n] = children[n], None  # _collected reaps it, even when interrupted
            texts = _collected(child, end - start, valid)
            out.extend(texts if texts is not None else [render(item) for item in items[start:end]])
    except BaseException:  # a Ctrl-C, a render error: no copy left rendering, nor unreaped, once we are gone
        _stopped(children)
        raise
    return out


def _shares(count: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous shares of ``count`` items, the first (this process's) larger by
    :data:`HANDING_BACK`: a copy's texts still have to come back after it has rendered them."""
    weights = [1 + HANDING_BACK] + [1] * (workers - 1)
    bounds = [round(count * sum(weights[:n]) / sum(weights)) for n in range(workers + 1)]
    return list(zip(bounds, bounds[1:], strict=False))


def _stopped(children: list[tuple[int, int] | None]) -> None:
    """Kill and reap the copies not yet collected, closing their files."""
    for child in children:
        if child is not None:
            _kill(child[0])
            with contextlib.suppress(OSError):
                os.close(child[1])


def _kill(pid: int) -> None:
    """Kill a copy and reap it, unless it was reaped already (its pid may then be another
    process's: only an unreaped child of ours is sure to be ours)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return  # it had ended: now reaped
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:  # ChildProcessError: reaped already
        pass


def _fork_share(render, items, start: int, end: int) -> tuple[int, int] | None:
    """A forked copy rendering ``items[start:end]`` into an anonymous file in
    memory (a pipe passed 2.5 MB in 64 KB turns, ~15 ms of waiting for a copy's
    half of 10,000 entries): (pid, the file), or None when no copy could be made."""
    try:
        shared = os.memfd_create("citetool-render-share", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # (no memfd_create: this share is rendered here)
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(shared)
        return None
    if pid == 0:  # the copy: render, hand back, leave without running anything of the parent's
        code = 1
        try:
            data = memoryview(orjson.dumps([render(item) for item in items[start:end]]))
            while data:
                data = data[os.write(shared, data):]
            code = 0
        finally:
            os._exit(code)
    return pid, shared


def _collected(child: tuple[int, int] | None, expected: int, valid: Callable[[object], bool]) -> list | None:
    """What a copy handed back, once it has ended, or None when it failed."""
    if child is None:
        return None
    pid, shared = child
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:  # a Ctrl-C while waiting: the copy killed and reaped, not left behind
        _kill(pid)
        os.close(shared)
        raise
    try:
        if status != 0:
            return None
        os.lseek(shared, 0, os.SEEK_SET)  # (the copy's writes moved the offset both share)
        with os.fdopen(shared, "rb", closefd=False) as stream:
            data = stream.read()
    except OSError:
        return None
    finally:
        os.close(shared)
    try:
        texts = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(texts) is not list or len(texts) != expected or not all(valid(text) for text in texts):
        return None
    return texts
