"""The store's lock: an OS lock on ``<store>.lock`` that a crashed process
releases, held while a command changes the store.

Where the file system has ``flock`` (every local one, on Linux and macOS), the
lock is taken here, with ``fcntl.flock`` on the lock file: the very lock the
``filelock`` library takes on POSIX, so both exclude each other (a test holds
each against the other). Anywhere else (Windows; a network file system without
``flock``, where filelock keeps a lock file of its own) it is filelock's.
Why not filelock everywhere: since its version 4 its import costs ~15 ms
(logging, secrets with OpenSSL, platform, inspect, dataclasses), a twentieth
of adding one DOI to a 10,000-reference store, for the two system calls that
take and release the lock.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable

try:
    import fcntl
except ImportError:  # (not POSIX: Windows) filelock's lock instead
    fcntl = None

POLL_SECONDS = 0.05  # how often a busy lock is tried again (filelock's own interval)
# the lock file made as filelock makes it: through the umask, so a group sharing a store (umask 002) can each lock it
LOCK_FILE_MODE = 0o666

# flock errors that say the file system has no such lock (not that the lock is busy)
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


class LockTimeout(Exception):
    """The lock stayed busy for the whole timeout."""


def _open_lock_file(path: str) -> tuple[int, bool]:
    """The lock file, never through a link, and whether it was made here (its content is never read)."""
    # (O_NONBLOCK: a lease another program holds on the file never blocks the open past the timeout)
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    for _ in range(3):  # (a file removed between the two opens: made again)
        try:
            return os.open(path, flags | os.O_CREAT | os.O_EXCL, LOCK_FILE_MODE), True
        except FileExistsError:
            pass
        try:
            return os.open(path, flags), False
        except FileNotFoundError:
            continue
    return os.open(path, flags), False


def _flock_exclusive(fd: int) -> bool | None:
    """Take the lock at once: True; False when another holds it; None when the file system has no flock."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if exc.errno in _NO_FLOCK:
            return None
        raise
    return True


def _inode(path: str) -> int | None:
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return None


def acquire(path: str, timeout: float) -> Callable[[], None]:
    """Take the lock of ``path``, waiting up to ``timeout`` seconds (0: not at all);
    returns what releases it. Raises LockTimeout when it stays busy, OSError when
    the lock file cannot be used."""
    if fcntl is None:
        return _acquired_by_filelock(path, timeout)
    fd, made = _open_lock_file(path)
    try:
        deadline = time.monotonic() + timeout
        while not (taken := _flock_exclusive(fd)):
            if taken is None:
                break
            if time.monotonic() >= deadline:
                raise LockTimeout(path)
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
    except BaseException:
        os.close(fd)
        raise
    if taken is None:  # no flock on this file system: filelock's lock file instead, as if never here
        made_inode = os.fstat(fd).st_ino if made else None
        os.close(fd)
        if made_inode is not None and _inode(path) == made_inode:  # (the file made here, no other since)
            os.unlink(path)
        return _acquired_by_filelock(path, timeout)
    return lambda: os.close(fd)  # closing the file releases the lock (a crash closes it too)


def _acquired_by_filelock(path: str, timeout: float) -> Callable[[], None]:
    import warnings

    from filelock import FileLock, Timeout  # start-up: only where flock is not to be had

    lock = FileLock(path, timeout=timeout)
    try:
        with warnings.catch_warnings():  # its notice that it keeps a lock file of its own: not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            lock.acquire()
    except Timeout:
        raise LockTimeout(path) from None
    return lock.release


def is_free(path: str) -> bool:
    """True when no process holds the lock of ``path`` (checked by taking it, at once)."""
    try:
        release = acquire(path, 0)
    except (LockTimeout, OSError):
        return False
    release()
    return True
