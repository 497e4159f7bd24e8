"""What cached work depends on besides its input: a digest of the code that made
it (citetool's and pylatexenc's sources, by content, and the Python version:
a checksum, see :func:`sources_fingerprint`).
Used by the caches of citetool's own work: the export cache and the memory of
shape checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_fingerprint: str | None = None


def _sources(folder: Path) -> list[tuple[str, str]]:
    """The modules under ``folder``: (name relative to it, path), in a stable order."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        relative = os.path.relpath(root, folder)
        paths += [(os.path.normpath(os.path.join(relative, name)), os.path.join(root, name))
                  for name in sorted(files) if name.endswith(".py")]
    return paths


def sources_fingerprint(folders: list[Path], loaded_at: float) -> str | None:
    """A checksum of the Python version and of the name, size and contents of
    every module in ``folders``; None if one of them changed after ``loaded_at``
    (the code running may not be the code on disk). CRC-32 (zlib): an edit of
    the code is what it must notice, not a forgery (the caches are the user's
    own files); SHA-256 took OpenSSL's loading and ~1 ms of hashing from every
    command that reads a large store or exports."""
    import zlib  # start-up: loaded only for a command that uses a cache

    checksum = zlib.crc32(sys.version.encode())
    count = 0
    for folder in folders:
        for name, path in _sources(folder):
            with open(path, "rb") as stream:
                if os.fstat(stream.fileno()).st_mtime > loaded_at:
                    return None
                data = stream.read()
            checksum = zlib.crc32(f"{name}\0{len(data)}\0".encode() + data, checksum)
            count += 1
    return f"crc32-{checksum:08x}-{count}"


def code_fingerprint() -> str | None:
    """What cached work depends on besides its input: citetool's and pylatexenc's
    sources, by content (once a process). None when a source changed after this
    process loaded citetool (a long-lived kernel): such a process caches nothing."""
    global _fingerprint
    if _fingerprint is None:
        import importlib.util

        import citetool  # start-up: loaded only when needed

        folders = [Path(citetool.__file__).parent]
        spec = importlib.util.find_spec("pylatexenc")
        if spec is not None and spec.origin:
            folders.append(Path(spec.origin).parent)
        _fingerprint = sources_fingerprint(folders, citetool.IMPORTED_AT) or ""
    return _fingerprint or None
