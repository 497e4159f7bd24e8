"""An on-disk cache of answers from metadata sources, so that adding or
refreshing again makes no request (and ``--offline`` can still work).

One file per request under ``CITETOOL_CACHE_DIR`` (default: the platform's
user cache dir), named by a hash of the source and the URL; entries older than
``max_age`` seconds are ignored. Only response bodies are stored: never a
header, a mailto or any other setting.

Also what the caches of citetool's own work (the export cache, the memory of
shape checks) share: :func:`code_fingerprint`, the code their contents depend
on, and :func:`read_regular_file`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from pathlib import Path

_fingerprint: str | None = None


def _sources(folder: Path) -> list[Path]:
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths += [Path(root) / name for name in sorted(files) if name.endswith(".py")]
    return paths


def sources_fingerprint(folders: list[Path], loaded_at: float) -> str | None:
    """A digest of the Python version and of the contents of every module in
    ``folders``; None if one of them changed after ``loaded_at`` (the code
    running may not be the code on disk)."""
    digest = hashlib.sha256(sys.version.encode())
    for folder in folders:
        for path in _sources(folder):
            if path.stat().st_mtime > loaded_at:
                return None
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_fingerprint() -> str | None:
    """What cached work depends on besides its input: citetool's and pylatexenc's
    sources, by content (once a process). None when a source changed after this
    process loaded citetool (a long-lived kernel): such a process caches nothing."""
    global _fingerprint
    if _fingerprint is None:
        import importlib.util

        import citetool

        folders = [Path(citetool.__file__).parent]
        spec = importlib.util.find_spec("pylatexenc")
        if spec is not None and spec.origin:
            folders.append(Path(spec.origin).parent)
        _fingerprint = sources_fingerprint(folders, citetool.IMPORTED_AT) or ""
    return _fingerprint or None


def read_regular_file(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (never waiting on a FIFO,
    never following a link); None for anything else, or if it cannot be read."""
    import stat

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


class Cache:
    def __init__(self, folder: Path, namespace: str, max_age: float):
        self.folder = Path(folder) / namespace
        self.max_age = max_age

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.folder / digest[:2] / digest

    def get(self, key: str, any_age: bool = False) -> str | None:
        path = self._path(key)
        try:
            if not any_age and time.time() - path.stat().st_mtime > self.max_age:
                return None
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, text: str) -> None:
        """Store ``text``; a cache that cannot be written is no error."""
        from citetool.store import atomic_write_text

        with contextlib.suppress(OSError):
            atomic_write_text(self._path(key), text, durable=False, make_folder=True)
