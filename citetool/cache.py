"""An on-disk cache of answers from metadata sources, so that adding or
refreshing again makes no request (and ``--offline`` can still work).

One file per request under ``CITETOOL_CACHE_DIR`` (default: the platform's
user cache dir), named by a hash of the source and the URL; entries older than
``max_age`` seconds are ignored. Only response bodies are stored: never a
header, a mailto or any other setting.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path


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
        from citetool.files import atomic_write_text  # start-up: loaded only when needed

        with contextlib.suppress(OSError):
            atomic_write_text(self._path(key), text, durable=False, make_folder=True)
