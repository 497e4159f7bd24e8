"""Files written and read safely, below everything that stores: an atomic
write (readers and crashes see the old file or the new one, never a part) and
a read that never waits on a FIFO nor follows a link."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path


def read_regular_file(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (never waiting on a FIFO,
    never following a link); None for anything else, or if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, durable: bool = True, make_folder: bool = False) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable, make_folder)


def atomic_write_bytes(path: Path, data: bytes | Iterable[bytes], durable: bool = True, make_folder: bool = False,
                       follow_links: bool = True) -> os.stat_result | None:
    """Write ``data`` (bytes, or pieces of them) to ``path`` so that readers (and crashes) see the old file or
    the new one, never a part: temp file in the same folder, fsync, rename, fsync
    the folder (``durable=False`` skips the fsyncs: for caches). A symbolic link
    is kept: its target is written, with the temporary file in the target's
    folder; with ``follow_links=False`` (a cache's fixed file name) the link itself
    is replaced. Keeps the old file's permissions. A missing folder is an error
    unless ``make_folder``. Raises OSError. Returns the written file's status
    once it is in place, or None if another file took its place at once."""
    import tempfile

    path = Path(os.path.realpath(path) if follow_links else os.path.abspath(path))
    folder = path.parent
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                fh.writelines(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
            inode = os.fstat(fh.fileno()).st_ino
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    written = _status_if_same(path, inode)
    if not durable:
        return written
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # not every filesystem lets a directory be fsynced
    return written


def _status_if_same(path: Path, inode: int) -> os.stat_result | None:
    """The status of ``path`` if it is still the file of ``inode`` (its rename
    changed its change time: the status is taken after it)."""
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return status if status.st_ino == inode else None
