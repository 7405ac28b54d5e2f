"""What `check` found: one Result per thing checked about one response, and the whole report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Outcome = Literal["ok", "warn", "fail"]
NONE = "(none)"


@dataclass(frozen=True)
class Result:
    """One thing checked about one response: what was expected and what came back."""

    file: str
    check: str  # the header (or `status`, `body`, `scheme`, `manifest`) checked
    outcome: Outcome
    expected: str
    actual: str
    request: str = ""  # e.g. "Accept-Encoding: br"


@dataclass(frozen=True)
class CheckReport:
    """Everything `check` found at one URL."""

    url: str
    manifest_url: str
    results: tuple[Result, ...]

    @property
    def failures(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.outcome == "fail")

    @property
    def warnings(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.outcome == "warn")

    def to_json(self) -> dict[str, Any]:
        """The machine-readable result (`--json`)."""
        return {
            "url": self.url,
            "manifest": self.manifest_url,
            "ok": not self.failures,
            "failures": len(self.failures),
            "warnings": len(self.warnings),
            "results": [asdict(r) for r in self.results],
        }
