"""What smoke found: one run per module, in the words the command prints."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# A Go program's own last words on stderr: a panic or a runtime fatal error.
_LAST_WORDS = re.compile(r"^(panic: .*|fatal error: .*)$", re.M)


class Outcome(enum.Enum):
    """How a module's run ended, for the command's exit code."""

    OK = "ok"
    FAILED = "failed"  # it crashed: a panic, a non-zero exit, a trap, an uncaught error
    NEEDS_BROWSER = "needs a browser"  # it uses the DOM and only Node.js was there to run it
    NEEDS_HOST = "needs its host"  # a wasip1 module imports host functions smoke cannot provide


@dataclass(frozen=True)
class SmokeRun:
    """One module's run: what ran it, how it ended, and what it printed."""

    target: str
    runtime: str  # as shown: "chromium 156 at /usr/bin/chromium", "node v20.20.2", "wazero v1.12.0"
    outcome: Outcome
    verdict: str  # "ok", "exit 2, panic: boom", "needs a browser: ..."
    stdout: str = ""
    stderr: str = ""
    console: tuple[str, ...] = ()  # the page's console errors and warnings, shown on failure
    needs: tuple[str, ...] = ()  # NEEDS_HOST: the host's imports (`conduit.command_request`)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def line(self) -> str:
        """`smoke main: ok (node v20.20.2)`."""
        return f"smoke {self.target}: {self.verdict} ({self.runtime})"


@dataclass(frozen=True)
class SmokeReport:
    """Every module's run, and how to get a browser for the ones that need one."""

    runs: tuple[SmokeRun, ...]
    browser_hint: str = ""  # why no browser ran the js modules and how to get one

    def of(self, outcome: Outcome) -> list[str]:
        """The targets whose run ended with OUTCOME."""
        return [run.target for run in self.runs if run.outcome is outcome]


def last_words(stderr: str) -> str:
    """The first `panic: ...` or `fatal error: ...` line of STDERR, else ""."""
    found = _LAST_WORDS.search(stderr)
    return found.group(1) if found else ""


def exit_verdict(code: int, stderr: str) -> str:
    """`exit 2, panic: boom`: the exit code and, if it printed one, the panic."""
    why = last_words(stderr)
    return f"exit {code}, {why}" if why else f"exit {code}"


def first_line(text: str) -> str:
    """TEXT's first non-blank line, stripped."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
