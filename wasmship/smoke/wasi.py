"""Run a wasip1 module under wazero (wasmship/plugins/wazero.py): a memory cap, a wall-clock
deadline, and only what its target's allow list grants; optionally call one of its exports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.cachedir import cache_root
from wasmship.plugins.allowlist import DEFAULT_GRANTS, WASI
from wasmship.plugins.wazero import (
    DEFAULT_MEMORY,
    Runner,
    RunnerReport,
    Sandbox,
    run_module,
    wazero_runner,
)
from wasmship.smoke.runs import exit_verdict
from wasmship.units import human_size
from wasmship.wasm.binary import NotWasm
from wasmship.wasm.interface import read_interface

__all__ = ["DEFAULT_MEMORY", "WasiRun", "host_imports", "run_wasi", "verdict"]


@dataclass(frozen=True)
class WasiRun:
    """How a wasip1 module ended, and what it printed."""

    exit_code: int  # -1 when it trapped, hit the deadline or the memory cap, or could not run
    stdout: str
    stderr: str
    trap: str = ""  # why it stopped, when it did not exit by itself
    runtime: str = "wazero"  # "wazero v1.12.0"
    results: tuple[str, ...] = ()  # what a called export returned
    crashed: bool = False  # the module itself failed (a non-zero exit, a trap, the memory cap)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.trap


def run_wasi(
    module: Path,
    *,
    timeout: float = 60.0,
    memory: int = DEFAULT_MEMORY,
    grants: tuple[str, ...] = DEFAULT_GRANTS,
    directory: Path | None = None,
    call: str | None = None,
    call_args: tuple[str, ...] = (),
    runner: Runner | None = None,
    go: str | None = None,
    environ: Mapping[str, str] | None = None,
    name: str | None = None,
    imports: tuple[str, ...] = (),
) -> WasiRun:
    """Run MODULE's _start (or a reactor's _initialize, then CALL) under wazero.

    With "fs" granted, DIRECTORY (else a new empty folder, removed after) is mounted at /.
    IMPORTS (`module.name`, from the manifest) only sharpen the message when linking fails.
    """
    if runner is None:
        env = os.environ if environ is None else environ
        runner = wazero_runner(go, env, cache_root(env))
    sandbox = Sandbox(memory, timeout, grants, directory, name or module.stem)
    if "fs" in grants and directory is None:
        with tempfile.TemporaryDirectory(prefix="wasmship-fs-") as empty:
            sandbox = Sandbox(memory, timeout, grants, Path(empty), sandbox.name)
            report = run_module(runner, module, sandbox, call, call_args)
    else:
        report = run_module(runner, module, sandbox, call, call_args)
    trap = verdict(report, sandbox, imports)
    ok = not trap and report.exit_code in (0, None)
    code = report.exit_code if report.exit_code is not None and not trap else (0 if ok else -1)
    crashed = bool(report.trap or report.memory_asked or report.exit_code)
    return WasiRun(
        code, report.stdout, report.stderr, trap, report.runtime, report.results, crashed
    )


def host_imports(module: Path) -> tuple[str, ...]:
    """The imports of MODULE that only its own host provides (all but WASI preview 1), as
    `module.name`: read from its bytes, not the manifest, so what is checked is what runs."""
    try:
        found = read_interface(module.read_bytes())
    except (OSError, NotWasm):
        return ()  # the runner says why it cannot run it
    return tuple(i.key for i in found.imports if i.module != WASI)


def verdict(report: RunnerReport, sandbox: Sandbox, imports: tuple[str, ...] = ()) -> str:
    """Why the run stopped short, in the user's words; "" when it ran to its end."""
    if report.deadline:
        return f"stopped at the deadline: still running after {sandbox.timeout:g} s (--timeout)"
    if report.memory_asked:
        detail = f"; {exit_verdict(report.exit_code, report.stderr)}" if report.exit_code else ""
        return (
            f"memory cap reached: it asked for {human_size(report.memory_asked)}, the cap is "
            f"{human_size(sandbox.memory)} (--memory){detail}"
        )
    if report.trap:
        return f"trap: {report.trap}"
    if report.error:
        foreign = [i for i in imports if not i.startswith(f"{WASI}.")]
        if foreign and not report.ran:
            return (
                f"cannot run: it imports {', '.join(foreign)}, which only its own host "
                "provides (smoke provides WASI preview 1)"
            )
        return f"cannot run: {report.error}" if not report.ran else report.error
    return ""
