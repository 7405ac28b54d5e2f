"""go builds in process groups of their own, so that they die with wasmship however it ends."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from wasmship.errors import ToolchainError

# The watcher leads the process group a go build runs in, with go's compilers and linker. Its
# stdin is a pipe whose other end only wasmship holds: however wasmship ends (even SIGKILL, or
# a CI runner killing wasmship's own group), the kernel closes it and the watcher kills the
# whole group, itself last. A go left running would write its module where the next build
# writes it, and its compiler would run on for seconds.
WATCHER = "import os\nwhile os.read(0, 4096):\n    pass\nos.killpg(0, 9)\n"
_PR_SET_PDEATHSIG = 1


class GoProcesses:
    """The go builds under way, each in a process group its watcher leads (see WATCHER).

    Stopping them on a failure or an interrupt kills each whole group.
    """

    def __init__(self) -> None:
        self._running: dict[subprocess.Popen[bytes], subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def run(self, cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Run one go build to the end; Go's stdout and stderr go to our stderr (--json owns
        stdout)."""
        started = self._start(cmd, cwd, env, capture=False)
        if started is None:
            return -signal.SIGKILL  # the build is failing: start nothing more
        proc, watcher = started
        try:
            return proc.wait()
        finally:
            self._forget(proc, watcher)

    def capture(
        self, cmd: list[str], cwd: Path, env: dict[str, str], timeout: float | None = None
    ) -> tuple[int, bytes, bytes]:
        """Run one go command to the end with its output captured: (exit status, stdout,
        stderr); past TIMEOUT seconds its whole group is killed and TimeoutExpired raised."""
        started = self._start(cmd, cwd, env, capture=True)
        if started is None:
            return -signal.SIGKILL, b"", b""
        proc, watcher = started
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
            return proc.returncode, stdout, stderr
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(watcher.pid, signal.SIGKILL)
            proc.communicate()
            raise
        finally:
            self._forget(proc, watcher)

    def _start(
        self, cmd: list[str], cwd: Path, env: dict[str, str], capture: bool
    ) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]] | None:
        """Start go under a new watcher; None once the builds are being stopped."""
        with self._lock:
            if self._stopped:
                return None
            watcher = _start_watcher(cwd, env)
            try:
                proc = _start_go(cmd, cwd, env, group=watcher.pid, capture=capture)
            except BaseException:
                _end(watcher)
                raise
            self._running[proc] = watcher
        return proc, watcher

    def _forget(self, proc: subprocess.Popen[bytes], watcher: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.pop(proc, None)
        _end(watcher)  # it kills what is left of the group: itself

    def kill_all(self) -> None:
        """Kill every build under way, with its children, and reap it."""
        with self._lock:
            self._stopped = True
            running = list(self._running.items())
        for _, watcher in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(watcher.pid, signal.SIGKILL)
        for proc, watcher in running:
            proc.wait()
            watcher.wait()


def _start_watcher(cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a watcher, leading a new process group; its stdin is wasmship's end of the pipe."""
    cmd = [sys.executable, "-I", "-S", "-c", WATCHER]
    try:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from exc


def _start_go(
    cmd: list[str], cwd: Path, env: dict[str, str], group: int, capture: bool
) -> subprocess.Popen[bytes]:
    """Start go in the process group GROUP (its watcher's)."""
    out: int = subprocess.PIPE if capture else sys.stderr.fileno()
    try:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,  # never the terminal: its group is not the foreground one
            stdout=out,
            stderr=out,
            process_group=group,
            preexec_fn=_prepare_go(),
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from exc


def _end(watcher: subprocess.Popen[bytes]) -> None:
    """Close the watcher's pipe, so that it kills its group, and reap it."""
    if watcher.stdin is not None:
        with contextlib.suppress(OSError):
            watcher.stdin.close()
    watcher.wait()


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl (Linux), looked up once in wasmship rather than in a forked child."""
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError):
        return None
    return prctl


def _prepare_go() -> Callable[[], None]:
    """The preexec_fn of go: write to a terminal from a background group, die with wasmship.

    go's group is not the terminal's foreground group: with `stty tostop` its first line on
    the terminal would stop it (SIGTTOU), and the build with it; an ignored SIGTTOU is
    inherited and Go leaves it so. On Linux the kernel also kills go when wasmship dies
    (strictly, when the thread that started it ends: that thread waits for go); the watcher
    covers go's compilers and linker, which this signal does not reach.
    """
    prctl = _prctl()
    parent, kill = os.getpid(), ctypes.c_ulong(signal.SIGKILL)

    def prepare() -> None:
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        if prctl is None:
            return
        prctl(_PR_SET_PDEATHSIG, kill)
        if os.getppid() != parent:  # wasmship died before the signal was armed
            os.kill(os.getpid(), signal.SIGKILL)

    return prepare
