"""Rendered entries remembered between runs, as Better BibTeX does for Zotero:
a reference whose stored data has not changed since an earlier export is not
rendered again (a Makefile that exports the whole library before each build
pays for the references that changed, not for all of them).

One file per format variant (``bibtex``, ``biblatex-unicode``, ``ris``...)
under ``exports/`` in the cache folder (``CITETOOL_CACHE_DIR``): a JSON object

    {"fingerprint": "...", "entries": {DIGEST: [TEXT, DAY], ...}}

* ``DIGEST``: SHA-256 of the reference's data as stored, every bibliographic
  field included, and of the parts of citetool's own data an export prints (its
  RePEc handle, the preprint it replaced: :data:`RENDERED_META`): any change to
  what an entry shows (an edit, a refresh that changed a field, a hand edit of
  the store, a git merge) is a new digest, while a refresh that changed
  nothing but its fetch time is not.
* ``fingerprint``: the renderer that made the entries
  (:func:`citetool.fingerprint.code_fingerprint`: the Python version and the contents
  of every module of citetool and of pylatexenc; an upgrade, an edited
  checkout, starts a new cache). A process whose citetool sources changed after
  it loaded them (a long-lived kernel) uses no cache at all: the code it runs
  may not be the code on disk.
* ``DAY``: when the entry was last written (days since 1970). When the file is
  written again, the entries of this export are stamped today, and the others
  are kept while younger than :data:`KEEP_DAYS` (a day in the future is a clock
  that was wrong: dropped). The file grows by an entry for each version of a
  reference exported in that time, not by refreshes that changed nothing.

A styled bibliography keeps the values of its style's sort keys the same way
(variant ``csl-order-...``, TEXT: the values computed for the reference, as
JSON), read with :meth:`EntryCache.texts` and written with :meth:`EntryCache.keep`.

Only records of the data JSON holds are cached (a record built in Python with a
NaN, a tuple or a date object is rendered afresh: two such records could share
a digest). A missing, unreadable or foreign file is an empty cache, and a cache
that cannot be written is no error: the export is the same bytes either way
(tests pin it). The file is read only if it is a regular file, and replaced,
never written through a link. ``CITETOOL_EXPORT_CACHE=off`` renders every entry
afresh and touches no file.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from citetool.files import atomic_write_bytes, read_regular_file
from citetool.fingerprint import code_fingerprint
from citetool.formats.render_workers import rendered_in_workers
from citetool.record import META, Record
from citetool.record_shape import record_problem

KEEP_DAYS = 60
# The parts of citetool's own data (``record["citetool"]``) an export prints.
RENDERED_META = ("ids", "relations")

def _digest(record: Record) -> str:
    """The digest of what an entry is made from: the record without citetool's
    own data, and the parts of it an export prints. Raises TypeError for a
    value JSON does not hold as such (a date object, a dataclass)."""
    meta = record.get(META)
    if isinstance(meta, dict):  # (a copy in C, citetool's own data replaced by what is printed of it)
        record = {**record, META: [meta.get(part) for part in RENDERED_META]}
    return hashlib.sha256(orjson.dumps(record, option=_STRICT)).hexdigest()[:32]


# orjson's options that refuse (TypeError) what JSON does not hold as such.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


@dataclass
class Remembered:
    """What the cache file of ``variant`` held for some records: their digests
    (None: not cached), the file's entries, and each record's text (None: none)."""

    variant: str
    digests: list[str | None]
    known: dict[str, list]
    texts: list[str | None]


def _digest_and_text(made: object) -> bool:
    """What a worker makes of a record for a first export: [its digest or None, its entry]."""
    return (type(made) is list and len(made) == 2 and (made[0] is None or type(made[0]) is str)
            and type(made[1]) is str)


def _usable(entry: object) -> bool:
    """Whether a cached entry can stand for a reference: ``[TEXT, DAY]`` with some
    text. Anything else (``["", day]`` from a hand edit or another program) is a
    miss, never a reference missing from the export."""
    return (type(entry) is list and len(entry) == 2 and type(entry[0]) is str and type(entry[1]) is int
            and not entry[0].isspace() and entry[0] != "")


class EntryCache:
    """The rendered entries of the exports, in ``folder`` (``<cache dir>/exports``).
    ``checked(record)``: whether a record is known to hold only what JSON holds,
    with the types its fields must have (a reference of the store, whose shape
    was checked on reading); any other is checked before it is cached
    (:func:`citetool.record_shape.record_problem`)."""

    def __init__(self, folder: Path | str, checked: Callable[[Record], bool] | None = None):
        self.folder = Path(folder)
        self.checked = checked

    def _path(self, variant: str) -> Path:
        return self.folder / f"{variant}.json"

    def _read(self, variant: str) -> dict[str, list]:
        raw = read_regular_file(self._path(variant))
        try:
            data = orjson.loads(raw) if raw is not None else None
        except orjson.JSONDecodeError:
            return {}
        if not isinstance(data, dict) or data.get("fingerprint") != code_fingerprint():
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def entries(self, variant: str, records: list[Record], render: Callable[[Record], str]) -> list[str]:
        """``render(record)`` of each record, in order, from the cache where it
        holds the entry for the record's very data; the others rendered by
        worker processes (:func:`~citetool.formats.render_workers.rendered_in_workers`),
        and the cache written again. With nothing cached (a first export), each
        entry's digest is made beside it, in the workers."""
        if code_fingerprint() is None:
            return rendered_in_workers(render, records)
        known = self._read(variant)
        if known:
            return self._entries_from(variant, known, records, lambda missing: rendered_in_workers(render, missing))
        made = rendered_in_workers(lambda rec: [self._digest_or_none(rec), render(rec)], records, _digest_and_text)
        digests, texts = [digest for digest, _ in made], [text for _, text in made]
        if any(digest is not None for digest in digests):
            self._write(variant, known, digests, texts)
        return texts

    def entries_many(self, variant: str, records: list[Record], render_many: Callable[[list[Record]], list[str]],
                     places: list[str] | None = None) -> list[str]:
        """As :meth:`entries`, the records the cache does not hold rendered
        together by ``render_many`` (one entry each, in order): a CSL style is
        loaded once for all of them. ``places``: what else an entry's text
        depends on, one a record (its number in a numbered style, its
        year-suffix; "": nothing), filed with its digest."""
        if code_fingerprint() is None:
            return render_many(records)
        return self._entries_from(variant, self._read(variant), records, render_many, places)

    def _entries_from(self, variant: str, known: dict[str, list], records: list[Record],
                      render_many: Callable[[list[Record]], list[str]], places: list[str] | None = None) -> list[str]:
        """The entries of ``records``: those ``known`` (the cache file's) from it, the others rendered."""
        digests = self._digests(records, places)
        out: list[str | None] = []
        missing: list[int] = []
        for number, digest in enumerate(digests):
            hit = known.get(digest) if digest else None
            if _usable(hit):
                out.append(hit[0])
            else:
                out.append(None)
                missing.append(number)
        if missing:
            for number, text in zip(missing, render_many([records[n] for n in missing]), strict=True):
                out[number] = text
            if any(digests[n] is not None for n in missing):
                self._write(variant, known, digests, out)
        return out

    def _digests(self, records: list[Record], places: list[str] | None = None) -> list[str | None]:
        """Each record's digest (``@place`` after it with a place); None for a
        record the cache cannot hold."""
        return [self._digest_or_none(rec, places[number] if places else "") for number, rec in enumerate(records)]

    def _digest_or_none(self, rec: Record, place: str = "") -> str | None:
        """A record's digest (``@place`` after it with a place), or None when the cache cannot hold it."""
        try:
            if (self.checked is not None and self.checked(rec)) or record_problem(rec) is None:
                return _digest(rec) + (f"@{place}" if place else "")
        except (TypeError, ValueError):  # a value JSON cannot hold as such (Python callers): not cached
            pass
        return None

    def texts(self, variant: str, records: list[Record]) -> Remembered | None:
        """What the cache holds for each record in ``variant`` (a text or None),
        to be added to and kept with :meth:`keep`; None when no cache is used."""
        if code_fingerprint() is None:
            return None
        digests = self._digests(records)
        known = self._read(variant)
        return Remembered(variant, digests, known,
                          [known[digest][0] if digest and _usable(known.get(digest)) else None for digest in digests])

    def keep(self, remembered: Remembered, texts: list[str | None]) -> None:
        """Write ``texts`` (one a record of :meth:`texts`; None: nothing to keep) to the cache."""
        digests = [digest if text is not None else None for digest, text in zip(remembered.digests, texts, strict=True)]
        self._write(remembered.variant, remembered.known, digests, [text or "" for text in texts])

    def _write(self, variant: str, known: dict[str, list], digests: list[str | None], texts: list[str]) -> None:
        today = int(time.time() // 86400)
        used = {digest: [text, today] for digest, text in zip(digests, texts, strict=True) if digest}
        kept = {digest: entry for digest, entry in known.items()
                if type(entry) is list and len(entry) == 2 and type(entry[1]) is int and 0 <= today - entry[1] < KEEP_DAYS}
        kept.update(used)
        data = orjson.dumps({"fingerprint": code_fingerprint(), "entries": kept})
        with contextlib.suppress(OSError):
            atomic_write_bytes(self._path(variant), data, durable=False, make_folder=True, follow_links=False)
