"""The store: one JSON file holding every reference, written atomically under a lock.

Format (version 1)::

    {
      "format": "citetool-store",
      "version": 1,
      "references": [ <CSL-JSON item with "id" = citation key and a "citetool" field>, ... ]
    }

References are sorted by key (ignoring case), fields sorted, two-space indent,
UTF-8, final newline: adding one reference adds only that reference's lines.
Writes go to a temporary file in the same directory, are fsynced, then renamed
over the store, so a crash leaves the old or the new file, never half of one.
Concurrent writers serialise on ``<store>.lock`` (an OS lock: a crashed process
releases it).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from citetool.checked_stores import CheckedVersions, content_checksum
from citetool.errors import StoreError, StoreLocked, StoreReadOnly
from citetool.files import atomic_write_bytes, atomic_write_text, read_regular_file  # noqa: F401 (atomic_write_text: the store's API)
from citetool.keys import all_citable, invalid_key_reason, sorted_keys
from citetool.locking import LockTimeout, acquire, is_free
from citetool.record import META, Record, aliases, map_strings, without_surrogates

FORMAT = "citetool-store"
VERSION = 1


def dump_bytes(records: dict[str, Record]) -> bytes:
    """The store file's exact bytes for ``records`` (keyed by citation key):
    what ``json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True)``
    writes, UTF-8 encoded, produced by orjson (15 times faster on a
    10,000-reference store, and no str to encode again). The one difference:
    a float is written in orjson's shortest form (``1e-7``, not ``1e-07``),
    the same number. What orjson cannot write (integers beyond 64 bits) is
    written by ``json``."""
    return _dumped(records)[0]


def _dumped(records: dict[str, Record]) -> tuple[bytes, bool]:
    """:func:`dump_bytes`, and whether orjson wrote them (then orjson reads them back as ``json`` does)."""
    import orjson

    body = {
        "format": FORMAT,
        "version": VERSION,
        "references": [records[k] for k in sorted_keys(records)],
    }
    try:
        return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE), True
    except TypeError:
        return (json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"), False


def _streamed(records) -> Iterator[bytes]:
    """The store file for an import's :class:`~citetool.packed.PackedRecords` with
    references in pieces: the bytes :func:`dump_bytes` gives, never all in memory at once."""
    import orjson

    # what dump_bytes writes around a list of one reference, "0": the head and tail around any list
    around = orjson.dumps({"format": FORMAT, "version": VERSION, "references": [0]},
                          option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    head, tail = around.split(b"\n    0\n", 1)
    return records.store_chunks(head + b"\n", b"\n" + tail)


def dumps(records: dict[str, Record]) -> str:
    """The store file's exact text for ``records`` (see :func:`dump_bytes`)."""
    return dump_bytes(records).decode("utf-8")


# Maps every ASCII digit to "9" and every other byte to a space (see _holds_19_digits).
_DIGITS_TO_NINES = bytes(57 if 48 <= b <= 57 else 32 for b in range(256))
_NINETEEN_DIGITS = re.compile(rb"[0-9]{19}")


def _holds_19_digits(data: bytes) -> bool:
    """Whether ``data`` holds a run of 19 ASCII digits or more, found from every
    fourth byte: a run of 19 holds at least four of them in a row, so only where
    four sampled bytes in a row are digits is the run (all of it lies between the
    sampled bytes around them that are not digits) searched byte by byte. A
    quarter of the bytes mapped, not all (a 17 MB store: 5 ms instead of 16)."""
    sample = data[::4].translate(_DIGITS_TO_NINES)
    start = sample.find(b"9999")
    while start >= 0:
        end = sample.find(b" ", start + 4)
        end = len(sample) if end < 0 else end
        if _NINETEEN_DIGITS.search(data, max(0, 4 * start - 3), 4 * end):
            return True
        start = sample.find(b"9999", end)
    return False


def _parse_json(data: bytes | str, path: Path | str) -> tuple[object, bool]:
    """The JSON value of a store file, as ``json.loads`` of its UTF-8 text
    gives it, parsed by orjson (a third faster) when orjson gives the same.
    orjson refuses lone surrogates (``json`` accepts them) and reads integers
    beyond 64 bits as floats, so those files, and any with a run of 19 digits
    (cheaply spotted: :func:`_holds_19_digits`; almost never there), go to the standard library
    instead. NaN, Infinity and numbers beyond a float's range (1e400) are
    refused, as orjson refuses them: they are not JSON numbers, and would
    be written back as null. Also says whether orjson read it."""
    import orjson

    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if not _holds_19_digits(raw):
        try:
            return orjson.loads(raw), True
        except orjson.JSONDecodeError:
            pass  # invalid, or valid JSON that only json reads: json decides, and words the error
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(f"cannot read store {path}: not UTF-8; the file was left untouched") from None
    try:
        value = json.loads(data, parse_constant=_not_a_json_number, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"cannot read store {path}: not valid JSON (line {exc.lineno}, column {exc.colno}); "
            "the file was left untouched"
        ) from None
    except _NotJSONNumber as exc:
        raise StoreError(f"cannot read store {path}: {exc} is not a JSON number; the file was left untouched") from None
    except ValueError:  # Python reads no integer of over 4,300 digits (a denial-of-service guard)
        raise StoreError(f"cannot read store {path}: it holds a number of more than 4,300 digits, "
                         "which no field can hold; the file was left untouched") from None
    return replace_surrogates(value, data), False


def replace_surrogates(value, text: str):
    """``value``, read by ``json`` from ``text``, with each lone surrogate
    (``"\\ud800"`` in a file edited by hand: half of a character, which no
    UTF-8 file, terminal or consumer can hold) replaced by U+FFFD, the
    replacement character, in strings and keys. Only JSON text that escapes a
    surrogate can hold one: other text gives ``value`` itself."""
    if "\\ud" not in text and "\\uD" not in text:  # (JSON's \u is lower case; its hex digits are not; no copy of the text)
        return value

    return map_strings(value, without_surrogates)


class _NotJSONNumber(ValueError):
    pass


def _not_a_json_number(name: str):
    raise _NotJSONNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJSONNumber(text)
    return value


def loads(data: bytes | str, path: Path | str = "<store>") -> dict[str, Record]:
    """Parse a store file's bytes (or text); raises StoreError naming what is wrong."""
    return _read(data, path)[0]


def _read(data: bytes | str, path: Path | str) -> tuple[dict[str, Record], bool]:
    """:func:`loads`, and whether orjson read the file (see :func:`_parse_json`)."""
    data, by_orjson = _parse_json(data, path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoreError(f"cannot read store {path}: not a citetool store; the file was left untouched")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise StoreError(f"cannot read store {path}: missing or bad version; the file was left untouched")
    if version > VERSION:
        raise StoreError(
            f"cannot read store {path}: it has version {version}, newer than this citetool "
            f"understands ({VERSION}); upgrade citetool. The file was left untouched"
        )
    refs = data.get("references")
    if not isinstance(refs, list):
        raise StoreError(f"cannot read store {path}: 'references' is not a list; the file was left untouched")
    records = _all_sound(refs)
    return (records if records is not None else _records_checked_one_by_one(refs, path)), by_orjson


def _known_sound(raw: bytes) -> dict[str, Record] | None:
    """The references of a store file known sound (:mod:`citetool.checked_stores`:
    a version read, or written, and checked before), by key, with none of the
    checks of a file never seen; None if it is not as it was known (then the
    file is read as any other)."""
    import orjson

    try:
        data = orjson.loads(raw)
        refs = data["references"]
        if data.get("format") != FORMAT or not 1 <= data.get("version") <= VERSION or type(refs) is not list:
            return None
        records = dict(zip([ref["id"] for ref in refs], refs, strict=True))
    except (orjson.JSONDecodeError, TypeError, KeyError, IndexError):
        return None
    return records if len(records) == len(refs) else None


def _all_sound(refs: list) -> dict[str, Record] | None:
    """The references by key when every one is sound (an object with a key, the
    key and any aliases citable, no key twice), checked for all at once: a few
    passes in C over 10,000 references instead of a loop of checks in Python
    for each (the read of a large store for ``show`` was a third slower).
    None when one is not: :func:`_records_checked_one_by_one` then says which and why."""
    try:
        keys = [ref["id"] for ref in refs]
    except (TypeError, KeyError, IndexError):  # a reference that is no object, or has no key
        return None
    try:
        if not all_citable(keys):  # (a key that is not text: TypeError)
            return None
    except TypeError:
        return None
    with_aliases = [ref for ref in refs if type(meta := ref.get(META)) is dict and meta.get("aliases")]  # few
    if any(_alias_problem(ref) for ref in with_aliases):
        return None
    records = dict(zip(keys, refs, strict=True))
    return records if len(records) == len(refs) else None  # fewer: a key twice


def _records_checked_one_by_one(refs: list, path: Path | str) -> dict[str, Record]:
    """The references by key; raises StoreError for the first that is not sound."""
    records: dict[str, Record] = {}
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
            raise StoreError(f"cannot read store {path}: reference #{i + 1} has no citation key; the file was left untouched")
        why = _key_problem(ref)
        if why:
            raise StoreError(f"cannot read store {path}: the reference with key {ref['id']!r} cannot be cited: {why}; "
                             "run `citetool doctor --repair` to fix it; the file was left untouched")
        if ref["id"] in records:
            raise StoreError(f"cannot read store {path}: key {ref['id']!r} appears twice; the file was left untouched")
        records[ref["id"]] = ref
    return records


def _key_problem(ref: Record) -> str | None:
    """Why a reference read from a store cannot be cited by its key or by one of
    its aliases (a hand edit, a co-author's store): one rule for every key
    (:func:`citetool.keys.invalid_key_reason`), so no export writes past its entry."""
    why = invalid_key_reason(ref["id"])
    if why:
        return f"its key {why}"
    return _alias_problem(ref)


def _alias_problem(ref: Record) -> str | None:
    """Why one of a reference's aliases cannot be cited, or None."""
    meta = ref.get(META)
    for alias in aliases(ref) if type(meta) is dict and meta.get("aliases") else ():  # (few have any)
        why = invalid_key_reason(alias)
        if why:
            return f"its alias {alias!r} {why}"
    return None


class Store:
    """Load and save one store file; with ``checked_versions``, a large file
    known sound is read without the checks (see :mod:`citetool.checked_stores`)."""

    def __init__(self, path: Path | str, lock_timeout: float = 30.0, checked_versions: CheckedVersions | None = None):
        self.path = Path(path)
        self.checked_versions = checked_versions
        # what the memory of checks would remember of the file last read, or last written:
        # (its records, version, checksum); None when it cannot be remembered sound
        self._read_soundness: tuple[dict[str, Record], list[int], int] | None = None
        self._written_soundness: tuple[list[int], int] | None = None
        self.read_known_sound = False  # the records last read are of a version known sound
        self.lock_timeout = lock_timeout
        self._last: tuple[tuple, dict[str, Record]] | None = None  # (file stamp, records)
        self.saves = 0  # how many times this object wrote the store
        self.created = False  # this object's first save made the file
        self._first_count: int | None = None  # references in the store when this object first read it
        self._saved_count: int | None = None  # references it last wrote, when they are not kept (an import's)
        # (records, the version of the file they were read from: device, inode, size, times)
        self.read_version: tuple[dict[str, Record], list[int]] | None = None

    def _stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def load_fresh(self) -> dict[str, Record]:
        """Like :meth:`load`, but when the file is unchanged since this object
        last read or wrote it, the records it has already (no second read)."""
        if self._last is not None and self._last[0] == self._stamp():
            return self._last[1]
        return self.load()

    @property
    def target(self) -> Path:
        """The file the store's path names, symbolic links followed (the one written)."""
        return Path(os.path.realpath(self.path))

    @property
    def lock_path(self) -> Path:
        return self.target.with_name(self.target.name + ".lock")

    def temp_files(self) -> list[Path]:
        """Temporary files of saves (a crashed save leaves one)."""
        target = self.target
        return sorted(target.parent.glob(f".{target.name}.*.tmp"))

    def lock_is_free(self) -> bool:
        """True when no process holds the store's lock (checked by taking it, at once)."""
        return is_free(str(self.lock_path))

    def _check_writable(self) -> None:
        """A store made read-only (``chmod a-w``) is the user's "do not touch":
        refused before any change, even for root, who could write it."""
        try:
            mode = self.target.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot use store {self.path}: {exc.strerror or exc}") from None
        if not mode & stat.S_IWUSR or not os.access(self.target, os.W_OK):
            raise StoreReadOnly(f"store {self.path} is read-only; nothing was changed (chmod u+w to allow changes)")

    def _check_folder(self) -> None:
        """The store's folder must exist; only citetool's own data folder is
        created (a mistyped ``--store no/such/dir/s.json`` creates nothing)."""
        from citetool.config import default_data_folder  # start-up: loaded only when needed

        folder = self.target.parent
        if folder.is_dir():
            return
        if folder != Path(os.path.realpath(default_data_folder())):
            raise StoreError(f"cannot use store {self.path}: the folder {folder} does not exist (create it first)")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's folder {folder}: {exc.strerror or exc}") from None

    def load(self) -> dict[str, Record]:
        """All references by key; an absent or empty file is an empty store."""
        self.read_version, self._read_soundness, self.read_known_sound = None, None, False
        try:
            with open(self.path, "rb") as stream:
                st = os.fstat(stream.fileno())  # the very file read (a save replaces it by another)
                raw = stream.read()
        except FileNotFoundError:
            self._last, self._saved_count = (None, {}), None
            self._first_count = 0 if self._first_count is None else self._first_count
            return self._last[1]
        except OSError as exc:
            raise StoreError(f"cannot read store {self.path}: {exc.strerror or exc}") from None
        version = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        memory = self.checked_versions if self.checked_versions and self.checked_versions.applies(st.st_size) else None
        checksum = content_checksum(raw) if memory else None  # (on another thread, while the file is parsed)
        remembered = memory.remembered_checksum(self.target, version) if memory else None
        records = _known_sound(raw) if remembered is not None else None
        if records is not None and checksum() != remembered:
            records = None  # the file changed within the tick of the file system's clock: read as any other
        self.read_known_sound = records is not None
        if records is None:
            # an empty file (``touch``) is an empty store (isspace: no copy of a large file, as strip makes)
            records, by_orjson = _read(raw, self.path) if raw and not raw.isspace() else ({}, True)
            self._read_soundness = (records, version, checksum()) if checksum and by_orjson else None
        elif checksum:
            checksum()  # (the thread is done before this returns)
        self._saved_count = None
        self._last = ((st.st_ino, st.st_size, st.st_mtime_ns), records)
        self.read_version = (records, version)
        self._first_count = len(records) if self._first_count is None else self._first_count
        return records

    def remember_read_sound(self, records: dict[str, Record]) -> None:
        """``records``, as last read, passed the shape check: their file is remembered sound
        (if orjson read it, and the memory is used for files of its size)."""
        known = self._read_soundness
        if known is not None and known[0] is records:
            self.checked_versions.remember(self.target, known[1], known[2])
        self._read_soundness = None

    def remember_written_sound(self) -> None:
        """The file last saved holds only references known sound (the caller checked
        what it changed): remembered so (if orjson wrote it, and the memory is used
        for files of its size)."""
        if self._written_soundness is not None:
            self.checked_versions.remember(self.target, *self._written_soundness)
        self._written_soundness = None

    def saved_summary(self) -> str:
        """What this object's saves left in the store, in words (for a Ctrl-C)."""
        if not self.saves or (self._last is None and self._saved_count is None):
            return f"nothing was saved ({self.path} is as it was)"
        total = len(self._last[1]) if self._last is not None else self._saved_count
        added = total - (self._first_count or 0)
        return (f"what was done before it is saved: {self.path} now holds {total} references"
                f" ({added:+d} since this command started)")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (waits up to ``lock_timeout`` seconds)."""
        self._check_folder()
        self._check_writable()
        try:
            release = acquire(str(self.lock_path), self.lock_timeout)
        except LockTimeout:
            raise StoreLocked(
                f"store {self.path} is locked by another citetool process "
                f"(waited {self.lock_timeout:g}s for {self.lock_path}); try again, "
                "or raise CITETOOL_LOCK_TIMEOUT"
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot lock store {self.path}: {exc.strerror or exc}") from None
        try:
            yield
        finally:
            release()

    def save(self, records: dict[str, Record]) -> None:
        """Write the store atomically (see :func:`atomic_write_bytes`)."""
        self._check_writable()
        new = not self.path.exists()
        try:
            self._write(records)
        except OSError as exc:
            self._last, self._saved_count = None, None
            raise StoreError(
                f"cannot write store {self.path}: {exc.strerror or exc}; the old store is unchanged"
            ) from None
        self.saves += 1
        self.created = self.created or new
        # an import's packed references are not kept: what reads next reads the file
        kept = isinstance(records, dict)
        self._last = (self._stamp(), records) if kept else None
        self._saved_count = None if kept else len(records)

    def _write(self, records: dict[str, Record]) -> None:
        """Write the file atomically: streamed, for a large import's packed references."""
        self._written_soundness = None
        if not isinstance(records, dict) and records:  # a PackedRecords (citetool.packed)
            from citetool.packed import NotWritableByOrjson  # start-up: loaded only when needed

            try:
                atomic_write_bytes(self.path, _streamed(records))
                return
            except NotWritableByOrjson:
                pass  # a reference only json writes: dump_bytes writes the whole store, as always
        data, by_orjson = _dumped(records)
        memory = self.checked_versions
        checksum = content_checksum(data) if by_orjson and memory is not None and memory.applies(len(data)) else None
        written = atomic_write_bytes(self.path, data)  # (the checksum computed meanwhile, on another thread)
        if checksum is not None and written is not None:
            version = [written.st_dev, written.st_ino, written.st_size, written.st_mtime_ns, written.st_ctime_ns]
            self._written_soundness = (version, checksum())
        elif checksum is not None:
            checksum()
