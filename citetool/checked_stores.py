"""The memory of checked store files: the versions of store files known sound,
so that a command reading a large store no one has changed since does not
check it again, as git trusts a file whose stat data its index holds.

A store file is *sound* when every reference passed the shape check
(:func:`citetool.record_shape.check_fields`), every key and alias is citable and
none appears twice (the store's own read), and orjson reads its numbers as
``json`` does (no run of 19 digits, or written by orjson itself). A file is
remembered sound after a command read it and checked it all, or after a
command wrote it from references it knew sound, having checked the ones it
changed (``add``: one reference checked, not 10,000).

A version is the file's device, inode, size, modification and change times
(any write changes the change time, which no tool sets back), the CRC-32 of
its bytes (a write within the tick of the file system's clock, with the size
kept, leaves the times as they were: the content tells it; so do timestamps
set by hand), and the code that checked it
(:func:`citetool.fingerprint.code_fingerprint`: a process whose sources changed
under it remembers nothing). Kept in one small JSON file in the cache folder,
read only if it is a regular file and replaced, never written through a link;
a missing or broken one is no error (the store is checked), nor is one that
cannot be written. Used for store files of :attr:`CheckedVersions.from_bytes`
bytes or more: a smaller one is checked sooner than its CRC-32 and the memory
are read.
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from citetool.files import atomic_write_bytes, read_regular_file
from citetool.fingerprint import code_fingerprint


def content_checksum(data: bytes) -> Callable[[], int]:
    """The CRC-32 of a store file's bytes (an edit that kept the file's size and
    times must not pass for the version remembered), computed on another thread
    while this one parses or writes the file (zlib lets go of the interpreter
    for it: ~3 ms of a 17 MB store's read or write, then, on a second core, none):
    the function that returns it, once computed."""
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(zlib.crc32(data)), name="citetool-checksum")
    try:
        worker.start()
    except RuntimeError:  # no thread to be had (a container at its limit of processes): computed here
        result.append(zlib.crc32(data))
        return lambda: result[0]

    def checksum() -> int:
        worker.join()
        return result[0] if result else zlib.crc32(data)  # (a thread that failed: computed here)

    return checksum


class CheckedVersions:
    """The sound versions of store files, in the file ``path`` (or what
    ``path()`` gives, found when first used); ``from_bytes``: the smallest store
    file remembered."""

    KEPT = 20  # store files remembered

    def __init__(self, path: Path | Callable[[], Path], from_bytes: int = 0):
        self._path = path
        self.from_bytes = from_bytes

    @property
    def path(self) -> Path:
        if callable(self._path):
            self._path = self._path()
        return self._path

    def applies(self, size: int) -> bool:
        return size >= self.from_bytes

    def _read(self) -> dict:
        import orjson

        raw = read_regular_file(self.path)
        try:
            data = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _stamp(version: list[int], checksum: int) -> list | None:
        code = code_fingerprint()
        return [*version, checksum, code] if code else None

    def remembered_checksum(self, store_file: Path, version: list[int]) -> int | None:
        """The checksum remembered for this version of ``store_file`` checked by this
        code, or None: the version is known sound if its content has that checksum."""
        code = code_fingerprint()
        remembered = self._read().get(str(store_file)) if code else None
        if type(remembered) is not list or len(remembered) != len(version) + 2:
            return None
        if remembered[:len(version)] != version or remembered[-1] != code or type(remembered[-2]) is not int:
            return None
        return remembered[-2]

    def remember(self, store_file: Path, version: list[int], checksum: int) -> None:
        import orjson

        stamp = self._stamp(version, checksum)
        if stamp is None:
            return
        known = {k: v for k, v in self._read().items() if k != str(store_file)}
        kept = dict(list(known.items())[-(self.KEPT - 1):])
        kept[str(store_file)] = stamp
        try:
            data = orjson.dumps(kept)
        except orjson.JSONEncodeError:  # a path JSON cannot name (not UTF-8): that store is checked each time
            return
        with contextlib.suppress(OSError):
            atomic_write_bytes(self.path, data, durable=False, make_folder=True, follow_links=False)
