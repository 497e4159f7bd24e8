"""The Python API: a :class:`Library` is a store plus the operations on it.

Everything the command line does goes through here, so the same behaviour is
available to Python code (``from citetool import Library``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from citetool.config import Settings, resolve_store_path
from citetool.errors import CitetoolError, IdentifierError, KeyNotInStore
from citetool.identifiers import Identifier, parse_identifier
from citetool.keys import base_key, unique_key
from citetool.merge import build_index, find_match, merge_into, new_reference, now_iso
from citetool.record import Record
from citetool.store import Store


@dataclass
class Outcome:
    """What became of one identifier given to :meth:`Library.add`."""

    input: str
    status: str  # "added" | "present" | "updated" | "failed"
    key: str | None = None
    error: str | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_dict(self) -> dict:
        out = {"input": self.input, "status": self.status, "key": self.key}
        if self.error:
            out["error"] = self.error
        if self.changed:
            out["changed"] = self.changed
        return out


def _sort_key(key: str) -> tuple[str, str]:
    return (key.lower(), key)


class Library:
    def __init__(self, path: str | Path | None = None, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self.store = Store(resolve_store_path(path), self.settings.lock_timeout)
        self._records: dict[str, Record] | None = None

    @classmethod
    def open(cls, path: str | Path | None = None, settings: Settings | None = None) -> "Library":
        return cls(path, settings)

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def records(self) -> dict[str, Record]:
        """All references by key (loaded once, on first use)."""
        if self._records is None:
            self._records = self.store.load()
        return self._records

    # --- reading -----------------------------------------------------------

    def resolve_key(self, key: str) -> str:
        """The stored key equal to ``key``, ignoring case; KeyNotInStore if none."""
        if key in self.records:
            return key
        lowered = key.lower()
        for existing in self.records:
            if existing.lower() == lowered:
                return existing
        raise KeyNotInStore(f"no reference with key {key!r} in {self.path}")

    def get(self, key: str) -> Record:
        return self.records[self.resolve_key(key)]

    def select(self, keys: Iterable[str] | None = None) -> list[Record]:
        """The references named (all if none), sorted by key."""
        keys = list(keys or [])
        if keys:
            chosen = {self.resolve_key(k) for k in keys}
        else:
            chosen = set(self.records)
        return [self.records[k] for k in sorted(chosen, key=_sort_key)]

    def export(self, fmt: str, keys: Iterable[str] | None = None) -> str:
        from citetool.formats import render

        return render(fmt, self.select(keys))

    # --- writing -----------------------------------------------------------

    def remove(self, keys: Iterable[str]) -> list[str]:
        """Remove the references named; all must exist (else nothing is removed)."""
        keys = list(keys)
        with self.store.locked():
            self._records = self.store.load()
            resolved = [self.resolve_key(k) for k in keys]
            for key in resolved:
                self._records.pop(key, None)
            self.store.save(self._records)
        return resolved

    def add(
        self,
        inputs: Iterable[str],
        refresh: bool = False,
    ) -> list[Outcome]:
        """Resolve identifiers and store their references.

        An identifier already stored costs no request unless ``refresh``. A
        failed identifier never stops the others; all successes are saved in
        one locked, atomic write.
        """
        from citetool.sources.crossref import SOURCE, CrossrefClient, work_to_record

        inputs = list(inputs)
        outcomes: list[Outcome | None] = [None] * len(inputs)
        parsed: list[tuple[int, Identifier]] = []
        for i, raw in enumerate(inputs):
            try:
                parsed.append((i, parse_identifier(raw)))
            except IdentifierError as exc:
                outcomes[i] = Outcome(raw, "failed", error=str(exc))

        index = build_index(self.records)
        first_of: dict[str, int] = {}
        duplicates: list[tuple[int, int]] = []
        to_fetch: list[tuple[int, Identifier]] = []
        for i, ident in parsed:
            if ident.key in first_of:
                duplicates.append((i, first_of[ident.key]))
                continue
            first_of[ident.key] = i
            match = index.get(ident.key)
            if match and not refresh:
                outcomes[i] = Outcome(inputs[i], "present", key=match)
            else:
                to_fetch.append((i, ident))

        fetched: list[tuple[int, Identifier, Record]] = []
        client = CrossrefClient(self.settings) if to_fetch else None
        for i, ident in to_fetch:
            try:
                record = work_to_record(client.fetch(ident.value))
            except CitetoolError as exc:
                outcomes[i] = Outcome(inputs[i], "failed", error=str(exc))
                continue
            fetched.append((i, ident, record))

        if fetched:
            self._save_fetched(fetched, inputs, outcomes, SOURCE)
        for i, first in duplicates:
            original = outcomes[first]
            outcomes[i] = Outcome(inputs[i], original.status if not original.ok else "present",
                                  key=original.key, error=original.error)
        return [o for o in outcomes if o is not None]

    def _save_fetched(self, fetched, inputs, outcomes, source: str) -> None:
        when = now_iso()
        with self.store.locked():
            # Re-read under the lock: another process may have written meanwhile.
            records = self.store.load()
            index = build_index(records)
            taken = {k.lower() for k in records}
            for i, ident, record in fetched:
                match = find_match(index, record) or index.get(ident.key)
                if match:
                    changed = merge_into(records[match], record, source, ident.value, when)
                    status = "updated" if changed else "present"
                    outcomes[i] = Outcome(inputs[i], status, key=match, changed=changed)
                    continue
                key = unique_key(base_key(record), taken)
                stored = new_reference(record, source, ident.value, when)
                stored["id"] = key
                records[key] = stored
                taken.add(key.lower())
                index.update({ident.key: key})
                index.update(build_index({key: stored}))
                outcomes[i] = Outcome(inputs[i], "added", key=key)
            self.store.save(records)
            self._records = records
