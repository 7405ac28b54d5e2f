"""What `check` found: one Result per thing checked about one response, and the whole report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Outcome = Literal["ok", "warn", "fail"]
NONE = "(none)"
# Codings a dist may offer beyond the br and gzip every server config serves: a host without
# them (nginx has no zstd of its own) sends br, gzip or identity instead; slower, never wrong.
OPTIONAL_CODINGS = frozenset({"zstd"})
# What a host adds by its own settings, the same files whatever it is: a plain static host
# (python3 -m http.server, a bucket without rules) sends few of them while the dist is intact.
HOST_SETTINGS = frozenset(
    {"Content-Type", "Content-Encoding", "Cache-Control", "Vary", "X-Content-Type-Options"}
)

OWN_HEADER = "[headers] "  # a check of a header of the project's own: `[headers] X-Frame-Options`


@dataclass(frozen=True)
class Result:
    """One thing checked about one response: what was expected and what came back."""

    file: str
    check: str  # the header (or `status`, `body`, `scheme`, `manifest`) checked
    outcome: Outcome
    expected: str
    actual: str
    request: str = ""  # e.g. "Accept-Encoding: br"

    @property
    def host_setting(self) -> bool:
        """Whether this is about a header the host's settings send, not the dist's files."""
        return self.check in HOST_SETTINGS or self.check.startswith(OWN_HEADER)


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
    def host_failures(self) -> tuple[Result, ...]:
        """The failures that are the host's settings (headers), not missing or wrong files."""
        return tuple(r for r in self.failures if r.host_setting)

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
            "host_setting_failures": len(self.host_failures),
            "warnings": len(self.warnings),
            "results": [{**asdict(r), "host_setting": r.host_setting} for r in self.results],
        }
