"""``citetool doctor``: say what is wrong with a store, and repair what can be
repaired safely, keeping a backup of the file as it was.

Checks: the file is UTF-8 JSON; the format and version are citetool's; every
reference is an object with a usable, unique (ignoring case) citation key and
a CSL type; no temporary file is left behind by a crashed save; no conflict
left by a git merge (``citetool merge-driver``) waits for ``citetool resolve``.

Temporary files are stale at once when no other citetool holds the store's
lock (every save runs under it), else after a minute.

Repairs (with ``repair=True``): two references of one work under keys that
differ only in case become one (the other key kept as an alias); keyless or
duplicate-key references of different works get a fresh key; non-object
entries are moved out to the backup only; a type that is not CSL's is
translated when it has an equivalent (Crossref's ``journal-article``), else
becomes ``document``; stale temporary files are removed, and the file is
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

from citetool.keys import base_key, invalid_key_reason, unique_key
from citetool.merge import merge_references, same_work
from citetool.merge_conflicts import unresolved_problems
from citetool.record import CSL_TYPES, META, aliases, date_notes, value_text
from citetool.record_input import repaired_value
from citetool.record_shape import field_problem, meta_problem
from citetool.sources import csl_type
from citetool.store import FORMAT, VERSION, Store, dumps, replace_surrogates

STALE_AFTER = 60.0  # seconds: a temporary file older than this belongs to no running save


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    backup: Path | None = None
    remaining: list[str] = field(default_factory=list)  # after a repair: what is still wrong

    @property
    def healthy(self) -> bool:
        return not self.problems

    def lines(self, path: Path) -> list[str]:
        """The report as ``citetool doctor`` prints it."""
        out = [f"problem: {p}" for p in self.problems] + [f"repaired: {r}" for r in self.repaired]
        out += [f"backup: {self.backup}"] if self.backup else []
        out += [f"still: {p}" for p in self.remaining]
        return out + ([f"ok: {path}"] if self.fine else [])

    @property
    def fine(self) -> bool:
        """Healthy, or made healthy by the repair."""
        return self.healthy or (bool(self.repaired) and not self.remaining)


def doctor(store: Store, repair: bool = False) -> Report:
    """Examine the store; with ``repair``, repair it and examine it again."""
    report = examine(store, repair=repair)
    if not repair:
        report.repaired = []
    elif not report.healthy:
        report.remaining = examine(store).problems
    return report


def stale_temp_files(store: Store) -> list[Path]:
    """Temporary files no running save is writing. Every save runs under the
    store's lock: when no other citetool holds it, they are all stale at once;
    else only those older than STALE_AFTER."""
    temps = store.temp_files()
    if not temps or store.lock_is_free():
        return temps
    now = time.time()
    stale = []
    for tmp in temps:
        try:
            if now - tmp.stat().st_mtime > STALE_AFTER:
                stale.append(tmp)
        except FileNotFoundError:
            pass  # its save just finished
    return stale


def examine(store: Store, repair: bool = False) -> Report:
    report = Report()
    temps = stale_temp_files(store)
    for tmp in temps:
        report.problems.append(f"a crashed save left {tmp.name}")
    if not store.path.exists():  # an empty store: nothing else to check
        if repair:
            _remove(temps, report)
        return report
    try:
        raw = store.path.read_bytes()
    except OSError as exc:
        report.problems.append(f"{store.path} cannot be read: {exc.strerror or exc}")
        return report
    if not raw.strip():  # an empty file is an empty store
        if repair:
            _remove(temps, report)
        return report
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: not JSON, or an integer of over 4,300 digits
        report.problems.append(f"{store.path} is not UTF-8 JSON ({exc}); it cannot be repaired automatically")
        readable = [t for t in temps if _is_store(t)]
        if readable:
            report.problems.append(f"{readable[-1]} is a complete store: it may be the newest copy")
        return report
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        report.problems.append(f"{store.path} is not a citetool store (no \"format\": \"{FORMAT}\")")
        return report
    cleaned = replace_surrogates(data, text)
    if cleaned is not data and cleaned != data:
        report.problems.append("the store holds lone surrogates (half characters, such as \\ud800)")
        report.repaired.append("each lone surrogate written as U+FFFD, the replacement character")
        data = cleaned
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        report.problems.append(f"version {version!r} is not one this citetool understands ({VERSION}); upgrade citetool")
        return report
    refs = data.get("references")
    if not isinstance(refs, list):
        report.problems.append("'references' is not a list; it cannot be repaired automatically")
        return report

    records: dict[str, dict] = {}
    by_lower: dict[str, str] = {}  # key ignoring case -> key
    for n, ref in enumerate(refs, start=1):
        if not isinstance(ref, dict):
            report.problems.append(f"reference #{n} is not an object")
            report.repaired.append(f"reference #{n} left out (it stays in the backup)")
            continue
        key = ref.get("id")
        bad_key = invalid_key_reason(key)
        label = key if not bad_key else f"reference #{n}"  # a key holding a line break must not forge a line
        _check_type(ref, label, report)
        _check_fields(ref, label, report)
        twin = by_lower.get(key.lower()) if isinstance(key, str) else None
        if twin is not None and same_work(records[twin], ref):
            report.problems.append(f"{twin} and {key} are one work under two keys")
            merge_references(records[twin], ref)
            report.repaired.append(f"{key} merged into {twin} ({key} kept as an alias)")
            continue
        _check_aliases(ref, label, report)
        if bad_key or twin is not None:
            why = (("has no usable key" + (f" ({key!r} {bad_key})" if isinstance(key, str) and key else ""))
                   if bad_key else f"repeats the key {key!r}")
            new = unique_key(base_key(ref), set(by_lower))
            report.problems.append(f"reference #{n} {why}")
            report.repaired.append(f"reference #{n} is now {new!r}")
            ref["id"] = key = new
        by_lower[key.lower()] = key
        records[key] = ref
    _check_shadowing_aliases(records, report)
    canonical = dumps(records)
    if not report.problems and text != canonical:
        report.problems.append("the file is not in canonical form (order, indentation)")
        report.repaired.append("rewritten in canonical form")
    if repair and report.problems:
        report.backup = store.path.with_name(f"{store.path.name}.bak-{time.strftime('%Y%m%dT%H%M%S')}")
        shutil.copy2(store.path, report.backup)
        with store.locked():
            store.save(records)
        _remove(temps, report)
    report.problems += unresolved_problems(records.values())  # only `citetool resolve` settles these
    report.problems += [f"{note} (set the real date: citetool edit {key} --set {note.split()[1]}=YYYY-MM-DD)"
                        for key, rec in records.items() for note in date_notes(rec)]  # only the user knows it
    report.problems += shared_doi_problems(records)  # only the user knows which one has it wrong
    return report


def _check_shadowing_aliases(records: dict[str, dict], report: Report) -> None:
    """An alias that is another reference's key: the key wins, so the alias
    never gives its own reference; it is dropped."""
    owner = {key.lower(): key for key in records}
    for key, ref in records.items():
        shadowing = [alias for alias in aliases(ref) if owner.get(alias.lower(), key) != key]
        for alias in shadowing:
            report.problems.append(f"{key}: its alias {alias!r} is the key of {owner[alias.lower()]}, "
                                   f"so citing {alias} gives {owner[alias.lower()]}")
            report.repaired.append(f"{key}: the alias {alias!r} dropped")
        if shadowing:
            ref[META]["aliases"] = [alias for alias in ref[META]["aliases"] if alias not in shadowing]


def _check_aliases(ref: dict, label: str, report: Report) -> None:
    """Aliases are keys: one that breaks the key rule (a hand edit) is dropped."""
    bad = [alias for alias in aliases(ref) if invalid_key_reason(alias)]
    if bad:
        report.problems.append(f"{label}: the aliases {', '.join(map(repr, bad))} are no usable keys")
        ref[META]["aliases"] = [alias for alias in ref[META]["aliases"] if alias not in bad]
        report.repaired.append(f"{label}: those aliases dropped")


def shared_doi_problems(records: dict[str, dict]) -> list[str]:
    """Two references with one DOI: two works (import keeps them apart when their
    titles, years and authors disagree), one of which has the other's DOI."""
    by_doi: dict[str, list[str]] = {}
    for key, ref in records.items():
        doi = ref.get("DOI")
        if isinstance(doi, str) and doi:
            by_doi.setdefault(doi.lower(), []).append(key)
    return [f"{', '.join(keys)} share the DOI {records[keys[0]]['DOI']} but are different works: "
            f"`citetool edit KEY --unset DOI` on the one that has it wrong"
            for keys in by_doi.values() if len(keys) > 1]


def _check_type(ref: dict, label: str, report: Report) -> None:
    """A reference's type must be a CSL type: a known other name is translated
    (Crossref's journal-article is article-journal); only a type with no CSL
    equivalent becomes document (the old one is named in the report)."""
    value = ref.get("type")
    if isinstance(value, str) and value in CSL_TYPES:
        return
    if value is not None and not isinstance(value, str):  # a hand edit: ["book"], 1
        report.problems.append(f"{label}: the field 'type' {field_problem('type', value)}")
        read = repaired_value("type", value)
        if read in CSL_TYPES:
            ref["type"] = read
            _set_by_doctor(ref, "type")
            report.repaired.append(f"{label}: type set to {read!r}")
            return
    else:
        report.problems.append(f"{label}: unknown CSL type {value!r}")
    ref["type"] = csl_type(value) or "document"
    _set_by_doctor(ref, "type")
    report.repaired.append(f"{label}: type set to {ref['type']!r}")


def _check_fields(ref: dict, label: str, report: Report) -> None:
    """A field whose value has the wrong type (a hand edit: a list for a title)
    is read as the right type where it can be, else removed (the backup keeps it)."""
    if META in ref:
        _check_meta(ref, label, report)
    for name, value in list(ref.items()):
        problem = field_problem(name, value)
        if not problem:
            continue
        report.problems.append(f"{label}: the field {name!r} {problem}")
        fixed = repaired_value(name, value)
        if fixed is None:
            del ref[name]
            _set_by_doctor(ref, name, removed=True)
            report.repaired.append(f"{label}: the field {name!r} removed (it stays in the backup)")
        else:
            ref[name] = fixed
            _set_by_doctor(ref, name)
            report.repaired.append(f"{label}: the field {name!r} is now {value_text(fixed)!r}")


def _set_by_doctor(ref: dict, name: str, removed: bool = False) -> None:
    """Provenance of a repaired field: ``doctor`` set it (``show`` says so); a
    removed field has none. A source's later value wins over doctor's reading."""
    fields = ref.get(META, {}).get("fields") if isinstance(ref.get(META), dict) else None
    if not isinstance(fields, dict):
        return
    if removed:
        fields.pop(name, None)
    else:
        fields[name] = "doctor"


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


def _check_meta(ref: dict, label: str, report: Report) -> None:
    """citetool's own data of the wrong shape (a hand edit: ``"aliases": 1``):
    the part is read as the right shape where it can be (one alias as text
    becomes a list of one), else removed (the backup keeps it)."""
    while (problem := meta_problem(ref[META])) is not None:
        part, what = problem
        report.problems.append(f"{label}: the field {part!r} {what}")
        if part == META:
            ref[META] = {}
            report.repaired.append(f"{label}: the field {META!r} emptied (it stays in the backup)")
            continue
        name = part.split(".", 1)[1]
        fixed = _mended_meta_part(name, ref[META][name])
        if fixed is None:
            del ref[META][name]
            report.repaired.append(f"{label}: the field {part!r} removed (it stays in the backup)")
        elif isinstance(fixed, list):
            ref[META][name] = fixed
            report.repaired.append(f"{label}: the field {part!r} is now {fixed!r}")
        else:
            ref[META][name] = fixed
            report.repaired.append(f"{label}: the field {part!r} kept only its entries of the right shape "
                                   "(the others stay in the backup)")


def _mended_meta_part(name: str, value) -> list | dict | None:
    """A part of citetool's data read as the right shape (each entry then passes
    ``meta_problem``, so each repair settles its part), or None: remove it."""
    if name == "aliases" and isinstance(value, (str, list)):
        return [value] if isinstance(value, str) else [a for a in value if isinstance(a, str)]
    if isinstance(value, dict) and name in ("fields", "ids", "sources", "conflicts", "unresolved"):
        return {k: v for k, v in value.items() if meta_problem({name: {k: v}}) is None}
    return None
