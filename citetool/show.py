"""``citetool show``: one reference as lines of text, each field with the
source that gave it, the values other sources gave, and citetool's own facts
(aliases, identifiers, sources, check findings, relations). The CLI prints
these lines; Python code can call :func:`show_lines` the same way."""

from __future__ import annotations

from citetool.formats.bibtex_kept import kept_entry, unmapped_fields
from citetool.merge import says_less
from citetool.merge_conflicts import UNRESOLVED
from citetool.record import META, Record, aliases, relations, value_text


def show_lines(rec: Record) -> list[str]:
    from citetool.findings import describe, stored_findings  # start-up: loaded only when needed

    meta = rec.get(META, {})
    provenance = meta.get("fields", {})
    conflicts = meta.get("conflicts", {})
    unresolved = meta.get(UNRESOLVED, {})  # left by a git merge (citetool/gitmerge.py)
    lines = [f"key: {rec['id']}"]
    for field in sorted({k for k in rec if k not in ("id", META)} | set(unresolved)):
        lines.append(f"{field}: {value_text(rec.get(field))}  [{provenance.get(field, '?')}]")
        for other, other_value in sorted(conflicts.get(field, {}).items()):
            if not says_less(other_value, rec.get(field), field):
                lines.append(f"  {other} says: {value_text(other_value)}")
        if field in unresolved:
            for side in ("ours", "theirs"):
                lines.append(f"  merge conflict, {side}: {value_text(unresolved[field].get(side))}")
            lines.append(f"  settle it: citetool resolve {rec['id']} {field} --take ours|theirs|VALUE")
    lines += [f"alias: {alias}" for alias in aliases(rec)]
    kept = kept_entry(rec)
    if kept is not None:  # the imported entry's fields no CSL variable holds, as written
        lines += [f"{name} = {value}  [as written in {kept.get('file')}]"
                  for name, value in sorted(unmapped_fields(rec).items())]
        lines += [f"{name} = {value}  [given again in {kept.get('file')}; BibTeX uses the first]"
                  for name, values in sorted((kept.get("repeated") or {}).items()) for value in values]
    lines += [f"id {name}: {value}" for name, value in sorted(meta.get("ids", {}).items())]
    lines += [f"source {source}: {info.get('id')} (fetched {info.get('fetched')})"
              for source, info in sorted(meta.get("sources", {}).items())]
    lines += [f"check: {describe(finding)}" for finding in stored_findings(rec)]
    lines += [f"relation {relation.get('type')}: {relation.get('DOI')}" for relation in relations(rec)]
    return lines
