"""What verify found: each problem named by its path in the dist (and its line, when in a file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]
# What a problem is about: the files against the manifest, a reference of a page, script or web
# manifest, or a reference that names no file of the dist (what verify's last line counts).
Kind = Literal["manifest", "reference", "unresolved"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the dist, named by its path relative to the dist."""

    severity: Severity
    path: str
    message: str
    lineno: int | None = None  # 1-based, for what a file's text says (a reference)
    kind: Kind = "manifest"

    def line(self) -> str:
        """`error: main.3f9c2a1b.wasm: sha256 differs from the manifest`."""
        where = self.path if self.lineno is None else f"{self.path}:{self.lineno}"
        return f"{self.severity}: {where}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """What verify found: the files it checked and every problem."""

    dist: Path
    strict: bool
    checked: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        """The problems that fail the verification."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that are reported but do not fail it."""
        return [p for p in self.problems if p.severity == "warning"]

    def count(self, kind: Kind) -> int:
        """How many errors are of KIND."""
        return sum(1 for p in self.errors if p.kind == kind)

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {
            "dist": str(self.dist),
            "ok": self.ok,
            "strict": self.strict,
            "files_checked": len(self.checked),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [
                {"severity": p.severity, "path": p.path, "line": p.lineno, "message": p.message}
                for p in self.problems
            ],
        }
