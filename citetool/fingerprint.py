"""What cached work depends on besides its input: a digest of the code that made
it (citetool's and pylatexenc's sources, by content, and the Python version).
Used by the caches of citetool's own work: the export cache and the memory of
shape checks."""

from __future__ import annotations

import os
import sys
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
    import hashlib  # start-up: OpenSSL loads (2 ms) only for a command that uses a cache

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

        import citetool  # start-up: loaded only when needed

        folders = [Path(citetool.__file__).parent]
        spec = importlib.util.find_spec("pylatexenc")
        if spec is not None and spec.origin:
            folders.append(Path(spec.origin).parent)
        _fingerprint = sources_fingerprint(folders, citetool.IMPORTED_AT) or ""
    return _fingerprint or None
