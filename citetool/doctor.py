"""``citetool doctor``: say what is wrong with a store, and repair what can be
repaired safely, keeping a backup of the file as it was.

Checks: the file is UTF-8 JSON; the format and version are citetool's; every
reference is an object with a usable, unique (ignoring case) citation key and
a CSL type; no temporary file is left behind by a crashed save; no conflict
left by a git merge (``citetool merge-driver``) waits for ``citetool resolve``.

Repairs (with ``repair=True``): keyless or duplicate-key references get a fresh
key, non-object entries are moved out to the backup only, unknown CSL types
become ``document``, stale temporary files are removed, and the file is
rewritten in the canonical format. A file that is not JSON at all cannot be
repaired here: doctor says so, and names any readable temporary file that a
crashed save left (it may hold a newer copy).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from citetool.gitmerge import unresolved_problems
from citetool.record import CSL_TYPES
from citetool.store import FORMAT, VERSION, Store, dumps

STALE_AFTER = 60.0  # seconds: a temporary file older than this belongs to no running save


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    backup: Path | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems


def stale_temp_files(store: Store) -> list[Path]:
    now = time.time()
    return sorted(p for p in store.path.parent.glob(f".{store.path.name}.*.tmp")
                  if now - p.stat().st_mtime > STALE_AFTER)


def examine(store: Store, repair: bool = False) -> Report:
    from citetool.keys import base_key, is_valid_key, unique_key

    report = Report()
    temps = stale_temp_files(store)
    for tmp in temps:
        report.problems.append(f"a crashed save left {tmp.name}")
    if not store.path.exists():  # an empty store: nothing else to check
        if repair:
            _remove(temps, report)
        return report
    raw = store.path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.problems.append(f"{store.path} is not UTF-8 JSON ({exc}); it cannot be repaired automatically")
        readable = [t for t in temps if _is_store(t)]
        if readable:
            report.problems.append(f"{readable[-1]} is a complete store: it may be the newest copy")
        return report
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        report.problems.append(f"{store.path} is not a citetool store (no \"format\": \"{FORMAT}\")")
        return report
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        report.problems.append(f"version {version!r} is not one this citetool understands ({VERSION}); upgrade citetool")
        return report
    refs = data.get("references")
    if not isinstance(refs, list):
        report.problems.append("'references' is not a list; it cannot be repaired automatically")
        return report

    records: dict[str, dict] = {}
    taken: set[str] = set()
    for n, ref in enumerate(refs, start=1):
        if not isinstance(ref, dict):
            report.problems.append(f"reference #{n} is not an object")
            report.repaired.append(f"reference #{n} left out (it stays in the backup)")
            continue
        key = ref.get("id")
        if not isinstance(key, str) or not is_valid_key(key) or key.lower() in taken:
            why = "has no usable key" if not isinstance(key, str) or not is_valid_key(key) else f"repeats the key {key!r}"
            new = unique_key(base_key(ref), taken)
            report.problems.append(f"reference #{n} {why}")
            report.repaired.append(f"reference #{n} is now {new!r}")
            ref["id"] = key = new
        if ref.get("type") not in CSL_TYPES:
            report.problems.append(f"{key}: unknown CSL type {ref.get('type')!r}")
            report.repaired.append(f"{key}: type set to 'document'")
            ref["type"] = "document"
        taken.add(key.lower())
        records[key] = ref
    canonical = dumps(records)
    if not report.problems and raw.decode("utf-8") != canonical:
        report.problems.append("the file is not in canonical form (order, indentation)")
        report.repaired.append("rewritten in canonical form")
    if repair and report.problems:
        report.backup = store.path.with_name(f"{store.path.name}.bak-{time.strftime('%Y%m%dT%H%M%S')}")
        shutil.copy2(store.path, report.backup)
        with store.locked():
            store.save(records)
        _remove(temps, report)
    report.problems += unresolved_problems(records)  # only `citetool resolve` settles these
    return report


def _is_store(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def _remove(temps: list[Path], report: Report) -> None:
    for tmp in temps:
        try:
            tmp.unlink()
            report.repaired.append(f"removed {tmp.name}")
        except OSError:
            pass
