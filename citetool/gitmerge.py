"""Sharing a store through git: a three-way merge of three stores (the merge
driver), git set-up, and settling the conflicts a merge leaves.

The merge works reference by reference, then field by field:

* A reference of the common ancestor (base) is followed into each side by its
  key (unless a source's DOI there differs: the key went to another work),
  else (a rekey) by its identity: DOI, RePEc handle, ISBN, URL or title +
  year + first author (:func:`citetool.merge.identity_keys`).
* Additions from both sides are kept; the same work added on both sides (same
  identity, or same key and title) becomes one reference under our key, their
  key kept as an alias (``citetool.aliases``), which ``Library.resolve_key``
  accepts.
* A removal is kept unless the other side edited the reference: then it is
  kept, and a note says so.
* A rekey on one side follows the reference; two different rekeys keep ours
  and make theirs an alias.
* A field changed on one side only takes that side's value. Changed on both:
  the user's edit (provenance ``user``, or no provenance at all: a hand-made or
  older store) beats a source's update; two sources: the more authoritative
  (then the later fetch) wins and the other value stays visible under
  ``citetool.conflicts``; two different user edits are a conflict.
* A conflict leaves our value in place and both values under
  ``citetool.unresolved`` (``{field: {"ours": v, "theirs": v}}``, ``null`` for
  a removed field) until ``citetool resolve`` settles it
  (:mod:`citetool.merge_conflicts`); ``doctor`` reports it.

The result is a normal store: valid JSON, no conflict markers.
"""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from citetool.errors import StoreError, UsageError
from citetool.files import atomic_write_text
from citetool.keys import unique_key
from citetool.merge import (
    EMPTY,
    USER,
    bibliographic_fields,
    build_index,
    dois_differ,
    find_match,
    fold_ascii,
    rank,
)
from citetool.merge_conflicts import UNRESOLVED
from citetool.record import META, Record, aliases
from citetool.store import Store, dumps

ALIASES = "aliases"  # citetool.aliases: the reference's other keys
DRIVER = "citetool"  # git's name for the driver: merge.citetool.*, `merge=citetool`
_ABSENT = object()


@dataclass
class MergeOutcome:
    records: dict[str, Record]
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (key, field) left unresolved
    key_conflicts: list[str] = field(default_factory=list)  # an alias that was another reference's key
    notes: list[str] = field(default_factory=list)  # what the user should know


# --- reading the three versions ------------------------------------------------

def read_store_file(path: Path, label: str) -> dict[str, Record]:
    """One version of the store as git hands it over (any line endings; an
    empty file when there is no common ancestor; an older store version)."""
    from citetool.record_shape import check_fields  # start-up: loaded only when needed

    try:
        if Path(path).stat().st_size == 0:
            return {}
        records = Store(path).load()
        check_fields(records.values())  # a hand edit of the wrong shape: exit 4, not a crash mid-merge
        return records
    except OSError as exc:
        raise StoreError(f"cannot read {label} ({path}): {exc.strerror or exc}") from None
    except StoreError as exc:
        raise StoreError(f"cannot merge {label}: {exc}") from None


# --- matching ------------------------------------------------------------------

def _another_work(before: Record, after: Record) -> bool:
    """The key was given to another work (removed, then a new one added under
    the same key): a source's DOI differs. A DOI the user corrected does not."""
    return dois_differ(before, after) and _owners(after).get("DOI") != USER


class _Unmatched:
    """One side's records not yet matched to a record of another version,
    found by identity (:func:`citetool.merge.find_match`) or by key."""

    def __init__(self, records: dict[str, Record]):
        self.records = dict(records)
        self.index = build_index(self.records)
        self.by_key = {k.lower(): k for k in self.records}

    def take(self, record: Record, key_needs_title: bool = False) -> str | None:
        """The key of the same work as ``record`` among these (then no longer
        unmatched), or None. A match by key alone needs the same title when
        ``key_needs_title`` (two works added independently may get one key)."""
        match = find_match(self.index, record, self.records)
        if match not in self.records:
            match = self.by_key.get(record["id"].lower())
            if match in self.records and key_needs_title and \
                    fold_ascii(record.get("title") or "") != fold_ascii(self.records[match].get("title") or ""):
                match = None
        if match not in self.records or dois_differ(record, self.records[match]):
            return None
        del self.records[match]
        return match


def _follow(base: dict[str, Record], side: dict[str, Record]) -> tuple[dict[str, str | None], list[str]]:
    """Where each base reference went on one side (its key there, None if it
    was removed), and the keys that side added."""
    where: dict[str, str | None] = {k: k for k in base if k in side and not _another_work(base[k], side[k])}
    new = _Unmatched({k: side[k] for k in side if k not in where})
    for key in base:
        if key not in where:
            where[key] = new.take(base[key])
    return where, sorted(new.records)


def _edited(before: Record, after: Record) -> bool:
    """Did a side change the reference (fields, their owners, or its key)?"""
    return (before["id"] != after["id"] or bibliographic_fields(before) != bibliographic_fields(after)
            or _owners(before) != _owners(after))


def _owners(record: Record) -> dict[str, str]:
    return record.get(META, {}).get("fields", {})


# --- merging one reference -----------------------------------------------------

def _three_way(base: dict, ours: dict, theirs: dict, both_changed) -> dict:
    """Entry by entry: the side that changed an entry wins; when both changed
    it differently, ``both_changed(name, ours_value, theirs_value)`` decides
    (``_ABSENT`` stands for an entry removed)."""
    out = {}
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = (d.get(name, _ABSENT) for d in (base, ours, theirs))
        if o == t or t == b:
            value = o
        elif o == b:
            value = t
        else:
            value = both_changed(name, o, t)
        if value is not _ABSENT:
            out[name] = copy.deepcopy(value)
    return out


def _later_fetch(_name, ours, theirs):
    if ours is _ABSENT or theirs is _ABSENT:
        return ours if theirs is _ABSENT else theirs
    return ours if str(ours.get("fetched", "")) >= str(theirs.get("fetched", "")) else theirs


def _keep_ours(_name, ours, theirs):
    return ours


def _is_users(owner: str | None) -> bool:
    """A value the user gave, or one nobody vouches for (no provenance: a
    hand-made or older store), which a merge must not silently replace."""
    return owner is None or owner == USER


class _ReferenceMerge:
    """Merge one reference's three versions (base may be empty: added on both sides)."""

    def __init__(self, base: Record, ours: Record, theirs: Record):
        self.base, self.ours, self.theirs = base, ours, theirs
        self.conflicts: dict[str, dict] = {}  # field -> {"ours": v, "theirs": v}
        self.lost: dict[tuple[str, str], object] = {}  # (field, source) -> a source's value that lost

    def _fetched(self, record: Record, source: str | None) -> str:
        return str(record.get(META, {}).get("sources", {}).get(source or "", {}).get("fetched", ""))

    def _field(self, name: str) -> tuple[object, str | None]:
        """(value or _ABSENT, owner) of one field in the merged reference."""
        (bv, bo), (ov, oo), (tv, to) = ((r.get(name, _ABSENT), _owners(r).get(name))
                                         for r in (self.base, self.ours, self.theirs))
        ours_changed, theirs_changed = (ov, oo) != (bv, bo), (tv, to) != (bv, bo)
        if not theirs_changed:
            return ov, oo
        if not ours_changed:
            return tv, to
        if ov == tv:
            return ov, USER if USER in (oo, to) else max((oo, to), key=rank)
        if _is_users(oo) and _is_users(to):  # two different edits by users: a conflict
            self.conflicts[name] = {"ours": None if ov is _ABSENT else copy.deepcopy(ov),
                                    "theirs": None if tv is _ABSENT else copy.deepcopy(tv)}
            return ov, oo
        if _is_users(oo) or _is_users(to):  # the user's edit beats a source's update
            ours_wins = _is_users(oo)
        elif rank(oo) != rank(to):  # the more authoritative source
            ours_wins = rank(oo) > rank(to)
        else:  # the same source (or as good): its later answer
            ours_wins = self._fetched(self.ours, oo) >= self._fetched(self.theirs, to)
        (value, owner), (loser, lost_to) = ((ov, oo), (tv, to)) if ours_wins else ((tv, to), (ov, oo))
        if lost_to != owner and loser not in (_ABSENT, *EMPTY):
            self.lost[(name, lost_to)] = loser
        return value, owner

    def merged(self, key: str) -> Record:
        out: Record = {"id": key}
        owners: dict[str, str] = {}
        names = set()
        for rec in (self.base, self.ours, self.theirs):
            names |= set(bibliographic_fields(rec)) | set(_owners(rec))
        for name in sorted(names):
            value, owner = self._field(name)
            if value is not _ABSENT:
                out[name] = copy.deepcopy(value)
            if owner is not None:
                owners[name] = owner
        out[META] = self._meta(out, owners)
        return out

    def _meta(self, out: Record, owners: dict[str, str]) -> dict:
        b, o, t = (r.get(META, {}) for r in (self.base, self.ours, self.theirs))
        special = {"fields", "sources", "conflicts", UNRESOLVED, ALIASES, "added", "edited"}
        info = _three_way(*({k: v for k, v in m.items() if k not in special} for m in (b, o, t)), _keep_ours)
        if owners:
            info["fields"] = owners
        sources = _three_way(b.get("sources", {}), o.get("sources", {}), t.get("sources", {}), _later_fetch)
        if sources:
            info["sources"] = sources
        for stamp, pick in (("added", min), ("edited", max)):
            stamps = [m[stamp] for m in (b, o, t) if m.get(stamp)]
            if stamps:
                info[stamp] = b.get(stamp) if stamp == "added" and b.get(stamp) else pick(stamps)
        lost = _three_way(*(_flat(m.get("conflicts", {})) for m in (b, o, t)), _keep_ours)
        lost.update(self.lost)
        conflicts: dict[str, dict] = {}
        for (name, source), value in sorted(lost.items()):
            if out.get(name) != value and owners.get(name) != source:
                conflicts.setdefault(name, {})[source] = value
        if conflicts:
            info["conflicts"] = conflicts
        unresolved = _three_way(b.get(UNRESOLVED, {}), o.get(UNRESOLVED, {}), t.get(UNRESOLVED, {}), _keep_ours)
        unresolved.update(self.conflicts)
        if unresolved:
            info[UNRESOLVED] = unresolved
        return info


def _flat(conflicts: dict) -> dict[tuple[str, str], object]:
    return {(name, source): value for name, by_source in conflicts.items() for source, value in by_source.items()}


def _aliases(*records: Record) -> list[str]:
    seen: dict[str, str] = {}
    for rec in records:
        for alias in [rec["id"], *aliases(rec)]:
            seen.setdefault(alias.lower(), alias)
    return list(seen.values())


# --- merging stores -------------------------------------------------------------

def merge_stores(base: dict[str, Record], ours: dict[str, Record], theirs: dict[str, Record]) -> MergeOutcome:
    """The three-way merge of three stores' records (see the module's docstring)."""
    outcome = MergeOutcome({})
    placed: list[tuple[str, Record, list[Record]]] = []  # (wanted key, merged record, versions it merges)
    ours_went, ours_added = _follow(base, ours)
    theirs_went, theirs_added = _follow(base, theirs)
    for key, rec in base.items():
        o_key, t_key = ours_went[key], theirs_went[key]
        if o_key is None and t_key is None:
            continue
        if o_key is None or t_key is None:
            kept, side, other = (theirs[t_key], "theirs", "ours") if o_key is None else (ours[o_key], "ours", "theirs")
            if _edited(rec, kept):
                outcome.notes.append(f"kept {kept['id']}: removed in {other}, but edited in {side}")
                placed.append((kept["id"], copy.deepcopy(kept), [rec, kept]))
            continue
        versions = [rec, ours[o_key], theirs[t_key]]
        wanted = o_key if o_key != key or t_key == key else t_key
        if key not in (o_key, t_key) and o_key != t_key:
            outcome.notes.append(f"{key} was renamed {o_key} in ours and {t_key} in theirs: "
                                 f"kept {o_key}, {t_key} stays usable as an alias")
        placed.append((wanted, _ReferenceMerge(*versions), versions))

    theirs_new = _Unmatched({k: theirs[k] for k in theirs_added})
    for key in ours_added:
        twin = theirs_new.take(ours[key], key_needs_title=True)
        if twin is None:
            placed.append((key, copy.deepcopy(ours[key]), [ours[key]]))
            continue
        versions = [ours[key], theirs[twin]]
        if twin.lower() != key.lower():
            outcome.notes.append(f"{key} (ours) and {twin} (theirs) are the same work: kept {key}, "
                                 f"{twin} stays usable as an alias")
        placed.append((key, _ReferenceMerge({}, *versions), versions))
    for key, rec in sorted(theirs_new.records.items()):
        placed.append((key, copy.deepcopy(rec), [rec]))

    taken: set[str] = set()
    for wanted, merging, versions in placed:
        key = wanted if wanted.lower() not in taken else unique_key(wanted, taken)
        if key != wanted:
            outcome.notes.append(f"both sides use the key {wanted} for different works: "
                                 f"one of them ({_title(versions[-1])}) is now {key}; check the citations of {wanted}")
        taken.add(key.lower())
        rec = merging.merged(key) if isinstance(merging, _ReferenceMerge) else merging
        rec["id"] = key
        # (a key renamed for a collision is no alias: it is the other work's key, and the note says so)
        others = [a for a in _aliases(*versions, rec) if a.lower() not in (key.lower(), wanted.lower())]
        info = rec.setdefault(META, {})
        if others:
            info[ALIASES] = others
        else:
            info.pop(ALIASES, None)
        if isinstance(merging, _ReferenceMerge):
            outcome.conflicts += [(key, name) for name in sorted(merging.conflicts)]
        outcome.records[key] = rec
    _no_alias_shadows_a_key(outcome)
    return outcome


def _no_alias_shadows_a_key(outcome: MergeOutcome) -> None:
    """An alias that is another reference's key (ours has A as x and C as y,
    theirs A as y) would let ``\\cite{y}`` silently mean C for one side: it is
    dropped, and the merge is a conflict that says which citations to check."""
    owner = {key.lower(): key for key in outcome.records}
    for key, rec in outcome.records.items():
        names = rec.get(META, {}).get(ALIASES) or []
        shadowing = [alias for alias in names if owner.get(alias.lower(), key) != key]
        if not shadowing:
            continue
        kept = [alias for alias in names if alias not in shadowing]
        if kept:
            rec[META][ALIASES] = kept
        else:
            del rec[META][ALIASES]
        for alias in shadowing:
            outcome.key_conflicts.append(
                f"{alias} is the key of {owner[alias.lower()]} ({_title(outcome.records[owner[alias.lower()]])}) and "
                f"was also a key of {key} ({_title(rec)}): {alias} stays {owner[alias.lower()]}'s; "
                f"citations of {alias} meant for {key} must become {key}")


def _title(record: Record) -> str:
    title = " ".join(str(record.get("title") or "untitled").split())
    return title if len(title) <= 60 else title[:57] + "..."


def merge_files(base: Path, ours: Path, theirs: Path) -> MergeOutcome:
    """``citetool merge-driver``: merge three store files and write the result
    atomically over ``ours`` (in ours' line endings). A side that cannot be
    read raises StoreError and leaves ``ours`` untouched."""
    sides = [read_store_file(p, label) for p, label in ((base, "the common ancestor"), (ours, "ours"), (theirs, "theirs"))]
    outcome = merge_stores(*sides)
    text = dumps(outcome.records)
    if b"\r\n" in Path(ours).read_bytes()[:4096]:
        text = text.replace("\n", "\r\n")
    try:
        atomic_write_text(Path(ours), text)
    except OSError as exc:
        raise StoreError(f"cannot write the merged store {ours}: {exc.strerror or exc}") from None
    return outcome


# --- git set-up ---------------------------------------------------------------------

def driver_command() -> str:
    """The command git runs: this Python running citetool, so the driver works
    whatever PATH git is started with (an editor, a GUI, a cron job)."""
    return f"{shlex.quote(sys.executable)} -m citetool merge-driver %O %A %B %P"


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise UsageError("git is not installed (or not on PATH)") from None


def _attribute_pattern(relative: str) -> str:
    """A .gitattributes pattern matching exactly this path, anchored at the
    top: glob characters bracketed, and the whole quoted C-style when it holds
    white space (git splits attribute lines on it)."""
    pattern = "/" + "".join(f"[{ch}]" if ch in "*?[" else ch for ch in relative)
    if any(ch.isspace() or ch in '"\\' for ch in pattern):
        pattern = '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return pattern


def git_setup(store_path: Path, global_config: bool = False, cwd: Path | None = None) -> list[str]:
    """Register the merge driver in git's config (the repository's, or the
    user's with ``global_config``) and mark the store ``merge=citetool`` in the
    work tree's .gitattributes; keep the store's lock file out of the
    repository (.gitignore). Idempotent. Returns what was done, line by line."""
    cwd = Path(cwd or Path.cwd())
    store_path = Path(store_path).absolute()
    folder = next((p for p in (store_path.parent, *store_path.parent.parents) if p.is_dir()), cwd)
    found = _git("rev-parse", "--show-toplevel", cwd=folder)
    top = Path(found.stdout.strip()).resolve() if found.returncode == 0 and found.stdout.strip() else None
    if top is None and not global_config:
        here = _git("rev-parse", "--show-toplevel", cwd=cwd)
        if here.returncode == 0 and here.stdout.strip():
            raise UsageError(_store_elsewhere(store_path, Path(here.stdout.strip()).resolve()))
        raise UsageError(f"{folder} is not inside a git work tree: run git-setup in your repository "
                         "(or with --global to register the driver for all your repositories)")
    done = []
    scope = ["--global"] if global_config else []
    where = "your git config (--global)" if global_config else "this repository's git config"
    for name, value in (("name", "citetool store merge (references and fields, never conflict markers)"),
                        ("driver", driver_command())):
        current = _git("config", *scope, "--get", f"merge.{DRIVER}.{name}", cwd=top or cwd).stdout.rstrip("\n")
        if current == value:
            done.append(f"merge.{DRIVER}.{name} already set in {where}")
            continue
        result = _git("config", *scope, f"merge.{DRIVER}.{name}", value, cwd=top or cwd)
        if result.returncode != 0:
            raise UsageError(f"git config failed: {result.stderr.strip()}")
        done.append(f"set merge.{DRIVER}.{name} in {where}")
    if top is None:
        done.append(f"{store_path} is not in a git work tree: no .gitattributes changed")
        return done
    real = store_path.parent.resolve() / store_path.name
    try:
        relative = real.relative_to(top).as_posix()
    except ValueError:
        raise UsageError(_store_elsewhere(store_path, top)) from None
    line = f"{_attribute_pattern(relative)} merge={DRIVER}"
    attributes = top / ".gitattributes"
    if _add_line(attributes, line):
        done.append(f"added {line!r} to {attributes} (commit it, so your co-authors' merges use it too)")
    else:
        done.append(f"{attributes} already has {line!r}")
    ignored = _ignore_pattern(relative + ".lock")
    ignore_file = top / ".gitignore"
    if _add_line(ignore_file, ignored):
        done.append(f"added {ignored!r} to {ignore_file}: the store's lock file is never committed")
    if not store_path.exists():
        done.append(f"there is no store at {store_path} yet: `citetool add IDENTIFIER` makes it "
                    "(an empty file is an empty store too); commit it with .gitattributes")
    return done


def _store_elsewhere(store_path: Path, top: Path) -> str:
    return (f"the store {store_path} is outside the git work tree {top}: to keep the references with the paper, "
            f"put a store in the repository: write  store = \"refs.json\"  into {top / 'citetool.toml'} "
            "(every citetool command run in the repository then uses it), and run git-setup again")


def _add_line(path: Path, line: str) -> bool:
    """Append ``line`` to the text file ``path`` (made if missing) unless a line
    of it already says so (white space ignored); keeps its line endings. True when added."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if line in (existing.strip() for existing in text.splitlines()):
        return False
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += newline
    atomic_write_text(path, text + line + newline)
    return True


def _ignore_pattern(relative: str) -> str:
    """A .gitignore pattern matching exactly this path, anchored at the top:
    glob characters and backslashes escaped, a trailing space kept."""
    pattern = "/" + "".join(f"\\{ch}" if ch in "\\*?[" else ch for ch in relative)
    return pattern[:-1] + "\\ " if pattern.endswith(" ") else pattern
