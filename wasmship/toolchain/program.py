"""The app's own program (`wasmship dev --backend`, often `go run ./cmd/api`), run as go builds
are: in a process group of its own, led by a watcher that kills the group when wasmship ends
however it ends; stopped by ending the whole group (go run, the program it built, their
children) and waiting for it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from wasmship.errors import UsageError
from wasmship.toolchain.processes import _end, _prepare_go, _start_watcher

STOP_GRACE = 5.0  # seconds a program has to end on SIGTERM before its group is killed
GONE_WAIT = 2.0  # seconds to wait for the rest of its group to be gone after SIGKILL
MAX_LINE = 64 * 1024  # a longer output line is passed on in pieces


class Program:
    """One run of a command in its own process group; its stdout and stderr as lines."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self._watcher = _start_watcher(cwd, env)
        try:
            self._proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=self._watcher.pid,
                preexec_fn=_prepare_go(),
            )
        except OSError as exc:
            _end(self._watcher)
            raise UsageError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from exc

    @property
    def pid(self) -> int:
        """The command's process id."""
        return self._proc.pid

    def lines(self) -> Iterator[str]:
        """Its output, line by line (without the line end), until it closes."""
        out = self._proc.stdout
        assert out is not None
        with out:  # EOF once the whole group is gone
            while line := out.readline(MAX_LINE):
                yield line.decode("utf-8", "replace").rstrip("\r\n")

    def wait(self, timeout: float) -> int | None:
        """Its exit status, or None when it still runs after TIMEOUT seconds."""
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int:
        """End the whole group: SIGTERM, then SIGKILL after STOP_GRACE; return the exit status."""
        group = self._watcher.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            status = self._proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            status = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # what ignored SIGTERM, or outlived the command
        if status is None:
            status = self._proc.wait()
        _end(self._watcher)
        deadline = time.monotonic() + GONE_WAIT
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        return status
