"""References held as the bytes the store file will have for them, compressed,
instead of as Python objects: what lets a large ``import`` (100,000 entries) stay
near the size of its files (a parsed reference takes ~5 times its JSON as dicts,
lists and strings; its JSON, compressed, a third of it).

:class:`PackedRecords` is the ``records`` of an import's transaction: a
mapping of citation key to reference, in which a reference asked for by key
(``records[key]``, ``records.get(key)``) is unpacked and stays a live dict,
changed in place as a dict is, until :meth:`~PackedRecords.settle` packs it
again; the references a store already held stay live dicts. Iterating over
``values()`` or ``items()`` gives packed references unpacked afresh each time:
to read, never to change. :meth:`~PackedRecords.store_chunks` is the store
file, piece by piece, byte for byte what :func:`citetool.store.dump_bytes`
writes for the same references.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, MutableMapping

import orjson

from citetool.keys import sorted_keys
from citetool.record import Record

_INDENT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
# A reference written two lists deep is indented as the store's "references" list indents it.
_AROUND_BEFORE, _AROUND_AFTER = len(b"[\n  [\n    "), len(b"\n  ]\n]")
# A packed reference shorter than this is kept as it is: compressed, it would not be shorter.
_COMPRESS_FROM = 160
# Every compressed reference starts with zlib's header byte; one not compressed with the "[" around it.
_ZLIB = 0x78


class NotWritableByOrjson(Exception):
    """A reference orjson cannot write (an integer beyond 64 bits, a lone surrogate): the
    store is then written by :func:`citetool.store.dump_bytes`, as it writes such a store."""


def _as_listed(record: Record) -> memoryview:
    """``record`` as the store file lists it, fields sorted, but for the four spaces before
    its first line and the comma or line break after its last (written in one piece, with no
    copy: a reference may be huge). TypeError if orjson cannot write it."""
    return memoryview(orjson.dumps([[record]], option=_INDENT))[_AROUND_BEFORE:-_AROUND_AFTER]


def _pack(record: Record, was: tuple[bytes, bytes | memoryview] | None = None) -> bytes | None:
    """``record`` packed; ``was``: its packed bytes and lines when it was unpacked, kept if it is unchanged."""
    try:
        listed = _as_listed(record)
    except TypeError:
        return None  # kept live: dump_bytes decides how the store is written
    if was is not None and listed == was[1]:
        return was[0]  # only read (a match looked at): not compressed again
    if len(listed) >= _COMPRESS_FROM:
        return zlib.compress(listed, 1)
    return listed.obj  # (the bytes around it are a few: _listed takes them off)


def _listed(packed: bytes) -> bytes | memoryview:
    if packed[0] == _ZLIB:
        return zlib.decompress(packed)
    return memoryview(packed)[_AROUND_BEFORE:-_AROUND_AFTER]


_PIECE = 1 << 20  # a huge reference is written a megabyte at a time


def _listed_pieces(packed: bytes) -> Iterator[bytes | memoryview]:
    """:func:`_listed`, in pieces of at most a megabyte for a huge compressed reference."""
    if packed[0] != _ZLIB or len(packed) < _PIECE // 16:
        yield _listed(packed)
        return
    unpacking = zlib.decompressobj()
    piece = unpacking.decompress(packed, _PIECE)
    while piece:
        yield piece
        piece = unpacking.decompress(unpacking.unconsumed_tail, _PIECE)
    yield unpacking.flush()


def _unpack(packed: bytes) -> Record:
    return orjson.loads(_listed(packed))


class PackedRecords(MutableMapping):
    """Citation key -> reference, most of them packed (see the module's docstring)."""

    def __init__(self, records: dict[str, Record]):
        self._data: dict[str, Record | bytes] = dict(records)  # key -> live dict, or packed bytes
        # keys given out or set since the last settle -> (packed bytes, lines) of one given out
        self._live: dict[str, tuple[bytes, bytes | memoryview] | None] = {}

    def __getitem__(self, key: str) -> Record:
        value = self._data[key]
        if type(value) is bytes:
            listed = _listed(value)
            self._live[key] = (value, listed)
            value = self._data[key] = orjson.loads(listed)
        return value

    def get(self, key: str, default=None):
        return self[key] if key in self._data else default

    def __setitem__(self, key: str, record: Record) -> None:
        self._data[key] = record
        self._live[key] = None

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._live.pop(key, None)

    def __contains__(self, key) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def values(self) -> Iterator[Record]:  # type: ignore[override]
        """Every reference, in order; a packed one unpacked for the reader (a change to it is lost)."""
        return (_unpack(v) if type(v) is bytes else v for v in self._data.values())

    def items(self) -> Iterator[tuple[str, Record]]:  # type: ignore[override]
        """Every (key, reference), in order; as :meth:`values`, to read only."""
        return ((k, _unpack(v) if type(v) is bytes else v) for k, v in self._data.items())

    def settle(self) -> None:
        """Pack the references given out or set since the last settle: no one may hold
        them any more (an import calls this after each entry is placed)."""
        for key, was in self._live.items():
            value = self._data.get(key)
            if type(value) is dict:
                self._data[key] = _pack(value, was) or value
        self._live.clear()

    def store_chunks(self, head: bytes, tail: bytes) -> Iterator[bytes]:
        """The store file in pieces: ``head``, the references sorted by key, each as
        :func:`_as_listed` after four spaces, separated by ",\\n", then ``tail``. Raises
        NotWritableByOrjson, before or during, if a reference is one orjson cannot write."""
        yield head
        first = True
        for key in sorted_keys(self._data):
            value = self._data[key]
            yield b"    " if first else b",\n    "
            if type(value) is bytes:
                yield from _listed_pieces(value)
            else:
                try:
                    yield _as_listed(value)
                except TypeError:
                    raise NotWritableByOrjson(key) from None
            first = False
        yield tail
