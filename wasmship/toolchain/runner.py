"""Running go: the environment a build gives it, its output captured, a timeout, and a failure
turned into our error with Go's own message. Builds run in a process group that dies with
wasmship (processes.py); short questions (`go env`, `go list`) run directly."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from wasmship.errors import ToolchainError, WasmshipError

E = TypeVar("E", bound=WasmshipError)


def go_environ(
    environ: Mapping[str, str], goos: str = "js", extra: tuple[tuple[str, str], ...] = ()
) -> dict[str, str]:
    """The environment a go command of a build runs with."""
    env = dict(environ)
    env.update(extra)
    env.update(GOOS=goos, GOARCH="wasm", CGO_ENABLED="0")
    return env


@dataclass(frozen=True)
class GoOutput:
    """What one go command printed, and how it ended."""

    cmd: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether go exited 0."""
        return self.returncode == 0

    def message(self) -> str:
        """Go's own message: its stderr, else how it exited."""
        return self.stderr.strip() or f"go {self.cmd[1]} exited {self.returncode}"

    def error(self, kind: type[E], heading: str) -> E:
        """Our error of KIND: HEADING, then Go's own message."""
        return kind(f"{heading}:\n{self.message()}")


class GoTimedOut(ToolchainError):
    """A go command that ran past its timeout (and was killed)."""


def run_go(
    cmd: Sequence[str], cwd: Path, env: Mapping[str, str], *, timeout: float | None = None
) -> GoOutput:
    """Run a short go command (`go env`, `go list`, `go tool`) with its output captured."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise GoTimedOut(f"`{' '.join(cmd[:2])}` did not end within {timeout:g} s") from exc
    return GoOutput(tuple(cmd), proc.returncode, proc.stdout, proc.stderr)


def run_build(
    cmd: Sequence[str], cwd: Path, env: Mapping[str, str], *, timeout: float | None = None
) -> GoOutput:
    """Run a go build with its output captured, in a process group that dies with wasmship."""
    from wasmship.toolchain.processes import GoProcesses  # ctypes and threads: builds only

    try:
        code, stdout, stderr = GoProcesses().capture(list(cmd), cwd, dict(env), timeout)
    except subprocess.TimeoutExpired as exc:
        raise GoTimedOut(f"`{' '.join(cmd[:2])}` did not end within {timeout:g} s") from exc
    text = (stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))
    return GoOutput(tuple(cmd), code, *text)
