"""Expected failures: each is shown as one message and an exit code, never a traceback."""

from __future__ import annotations

import enum
import errno


class ExitCode(enum.IntEnum):
    """Every exit code wasmship uses; docs/cli.md has the same table, and a test keeps them so."""

    OK = 0  # success
    FAILED = 1  # the work failed: a compile error, a verify mismatch, a budget, a check
    USAGE = 2  # bad usage or configuration: flags, wasmship.toml, a refused target folder
    TOOL = 3  # a tool wasmship needs is missing, too old or broken: Go, Node, Chromium, the shim
    DIST = 4  # the dist or manifest given cannot be read: no folder, no manifest, bad JSON
    INTERRUPTED = 130  # Ctrl-C or SIGTERM; a build's previous dist is untouched


class WasmshipError(Exception):
    """An expected failure: shown to the user as one message, never a traceback."""

    exit_code: int = ExitCode.FAILED


class UsageError(WasmshipError):
    """Bad flags, bad configuration or a refused target folder."""

    exit_code = ExitCode.USAGE


class ToolchainError(WasmshipError):
    """A tool wasmship runs is missing, too old or broken: Go, Node.js, Chromium, the shim."""

    exit_code = ExitCode.TOOL


class CompileError(WasmshipError):
    """`go build` failed; Go's own diagnostics have already reached the user."""

    def __init__(self, cmd: list[str], returncode: int, target: str = "main") -> None:
        self.cmd = cmd
        self.returncode = returncode
        self.target = target
        what = f"go build of target {target!r}" if target != "main" else "go build"
        if returncode == 0:
            super().__init__(f"{what} exited 0 but wrote no WebAssembly module")
        else:
            super().__init__(f"{what} failed (exit {returncode}); see Go's messages above")


class PublishError(WasmshipError):
    """The dist could not be locked or swapped in."""


class StepFailed(WasmshipError):
    """The system refused a step (a full disk, a read-only folder): names the step and where."""

    def __init__(self, step: str, error: OSError, dist: str) -> None:
        self.step = step
        # A full disk is where the dist is written, whatever file the call also named.
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        where = f", writing beside {dist}" if full or not error.filename else f": {error.filename}"
        super().__init__(
            f"{step}: {error.strerror or error}{where}; the previous dist is untouched"
        )


class BudgetExceeded(WasmshipError):
    """A module is larger than its size budget; the dist was still written."""


class DistError(WasmshipError):
    """The dist given cannot be read: no such folder, no manifest.json, or one not readable."""

    exit_code = ExitCode.DIST


class ManifestError(DistError):
    """A manifest.json that is not a wasmship manifest (a wrong type, a missing key)."""


class CheckError(WasmshipError):
    """`wasmship check` could not reach the site, or the site failed its checks."""


class VerifyFailed(WasmshipError):
    """`wasmship verify` found problems; each has been reported with its path."""

    def __init__(self, dist: str, errors: int, *, unresolved: int = 0, references: int = 0) -> None:
        self.errors = errors
        noun = "problem" if errors == 1 else "problems"
        manifest = errors - unresolved - references
        if not unresolved and not references:
            what = "the dist does not match its manifest"
        else:
            parts = []
            if unresolved:
                names = "reference names" if unresolved == 1 else "references name"
                parts.append(f"{unresolved} {names} no file of the dist")
            if references:
                parts.append(f"{references} other reference problem{'s' if references > 1 else ''}")
            if manifest:
                parts.append(
                    f"{manifest} file{'s' if manifest > 1 else ''} not as the manifest says"
                )
            what = ", ".join(parts)
        super().__init__(f"{dist}: verify found {errors} {noun}; {what}")


class CapabilityRefused(WasmshipError):
    """A wasip1 module imports what its target's allow list does not grant."""
