"""Rendered entries remembered between runs, as Better BibTeX does for Zotero:
a reference whose stored data has not changed since an earlier export is not
rendered again (a Makefile that exports the whole library before each build
pays for the references that changed, not for all of them).

One file per format variant (``bibtex``, ``biblatex-unicode``, ``ris``...)
under ``exports/`` in the cache folder (``CITETOOL_CACHE_DIR``): a JSON object

    {"fingerprint": "...", "entries": {DIGEST: [TEXT, DAY], ...}}

* ``DIGEST``: BLAKE2b of the reference's JSON as stored, every field included:
  any change to a reference (an edit, a refresh, a hand edit of the store)
  is a new digest, so an entry is never served for data it was not made from.
* ``fingerprint``: the renderer that made the entries: the Python version, and
  the size and modification time of every module of citetool and of pylatexenc
  (an upgrade, or an edited checkout, starts a new cache).
* ``DAY``: when the entry was last written (days since 1970); entries unused for
  :data:`KEEP_DAYS` are dropped when the file is written again.

A missing, unreadable or foreign file is an empty cache, and a cache that cannot
be written is no error: the export is the same bytes either way (tests pin it).
``CITETOOL_EXPORT_CACHE=off`` renders every entry afresh and touches no file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from citetool.record import Record

KEEP_DAYS = 60

_fingerprint: str | None = None


def _source_stamps(folder: Path) -> list[str]:
    stamps = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(root, name))
                stamps.append(f"{os.path.relpath(os.path.join(root, name), folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return stamps


def renderer_fingerprint() -> str:
    """What the cached entries depend on besides the references (once a process)."""
    global _fingerprint
    if _fingerprint is None:
        import importlib.util

        import citetool

        parts = [sys.version, *_source_stamps(Path(citetool.__file__).parent)]
        spec = importlib.util.find_spec("pylatexenc")
        if spec is not None and spec.origin:
            parts += _source_stamps(Path(spec.origin).parent)
        _fingerprint = hashlib.blake2b("\n".join(parts).encode("utf-8"), digest_size=16).hexdigest()
    return _fingerprint


class EntryCache:
    """The rendered entries of the exports, in ``folder`` (``<cache dir>/exports``)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def _path(self, variant: str) -> Path:
        return self.folder / f"{variant}.json"

    def _read(self, variant: str) -> dict[str, list]:
        import orjson

        try:
            data = orjson.loads(self._path(variant).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(data, dict) or data.get("fingerprint") != renderer_fingerprint():
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def entries(self, variant: str, records: list[Record], render: Callable[[Record], str]) -> list[str]:
        """``render(record)`` of each record, in order, from the cache where it
        holds the entry for the record's very data; the cache is written again
        when an entry had to be rendered."""
        import orjson

        try:
            digests = [hashlib.blake2b(orjson.dumps(rec), digest_size=16).hexdigest() for rec in records]
        except (TypeError, orjson.JSONEncodeError):  # a value JSON cannot hold (Python callers): no cache
            return [render(rec) for rec in records]
        known = self._read(variant)
        out, rendered = [], {}
        for rec, digest in zip(records, digests, strict=True):
            hit = known.get(digest)
            if type(hit) is list and hit and type(hit[0]) is str:
                out.append(hit[0])
            else:
                text = rendered[digest] = render(rec)
                out.append(text)
        if rendered:
            self._write(variant, known, digests, out)
        return out

    def _write(self, variant: str, known: dict[str, list], digests: list[str], texts: list[str]) -> None:
        import orjson

        from citetool.store import atomic_write_bytes

        today = int(time.time() // 86400)
        kept = {digest: entry for digest, entry in known.items()
                if type(entry) is list and len(entry) == 2 and type(entry[1]) is int and today - entry[1] < KEEP_DAYS}
        kept.update((digest, [text, today]) for digest, text in zip(digests, texts, strict=True))
        data = orjson.dumps({"fingerprint": renderer_fingerprint(), "entries": kept})
        with contextlib.suppress(OSError):
            atomic_write_bytes(self._path(variant), data, durable=False, make_folder=True)
