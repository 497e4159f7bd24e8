"""What became of one input of a command that writes: the Python API's answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)  # slots: an import of 100,000 entries holds 100,000 of them
class Outcome:
    """What became of one identifier (or one imported entry, or one refresh)."""

    input: str
    status: str  # "added" | "present" | "updated" | "skipped" (refresh: no source to ask) | "failed"
    key: str | None = None
    error: str | None = None
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings worth a line on stderr

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_dict(self) -> dict:
        out = {"input": self.input, "status": self.status, "key": self.key}
        if self.error:
            out["error"] = self.error
        if self.changed:
            out["changed"] = self.changed
        if self.notes:
            out["notes"] = self.notes
        return out
