"""What ``doctor`` reports: one finding per problem, with what ``--fix`` does about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROBLEM, GARBAGE, NOTE = "problem", "garbage", "note"


@dataclass
class Finding:
    kind: str
    path: Path
    message: str
    fix: str | None  # what --fix does; None: it needs a person
    severity: str = PROBLEM
    hint: str = ""
    fixed: bool = False
    action: Callable[[], object] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "path": str(self.path),
            "message": self.message,
            "fix": self.fix,
            "hint": self.hint or None,
            "fixed": self.fixed,
        }
