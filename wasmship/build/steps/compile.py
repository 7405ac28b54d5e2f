"""Step: resolve each target's main package and compile it with GOARCH=wasm."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wasmship.build.config import BuildConfig, TargetSpec
from wasmship.build.context import BuildContext, GoPackage, Target
from wasmship.build.toolchain import Toolchain, go_environ
from wasmship.errors import CompileError, ToolchainError, UsageError


def run_dir_for(workdir: Path, package: str) -> tuple[Path, str]:
    """Where go runs and what package it builds; a folder with its own go.mod is built in place."""
    candidate = (workdir / package).resolve()
    if candidate.is_dir() and (candidate / "go.mod").is_file():
        return candidate, "."
    return workdir.resolve(), package


def resolve_package(config: BuildConfig, spec: TargetSpec, toolchain: Toolchain) -> GoPackage:
    """Ask `go list` what the target's package is, and refuse anything but a main package."""
    run_dir, package = run_dir_for(config.workdir, spec.package)
    cmd = [toolchain.go, "list", "-e", "-json=ImportPath,Name,Dir,Error", "--", package]
    proc = subprocess.run(
        cmd,
        cwd=run_dir,
        env=go_environ(config.environ, spec.goos, spec.env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = proc.stderr.strip() or f"go list exited {proc.returncode}"
        raise UsageError(f"cannot resolve package {spec.package!r}:\n{detail}")
    try:
        listed = json.loads(proc.stdout)
    except ValueError as exc:
        raise UsageError(
            f"cannot resolve package {spec.package!r}: `go list` printed several packages; "
            "name exactly one main package"
        ) from exc
    name = listed.get("Name", "")
    error = (listed.get("Error") or {}).get("Err", "")
    if not name:
        raise UsageError(f"cannot build package {spec.package!r}: {error or 'no Go files found'}")
    if name != "main":
        raise UsageError(
            f"package {spec.package!r} ({listed.get('ImportPath')}) is package {name!r}, "
            "not a main package: wasmship builds programs. Point it at a folder with "
            "`package main` and a func main."
        )
    return GoPackage(
        import_path=listed.get("ImportPath", package),
        directory=Path(listed["Dir"]),
        run_dir=run_dir,
        pattern=package,
    )


def resolve_targets(config: BuildConfig, toolchain: Toolchain) -> tuple[Target, ...]:
    """Every target of the build with its resolved package."""
    return tuple(
        Target(
            name=spec.name,
            goos=spec.goos,
            package=resolve_package(config, spec, toolchain),
            tags=spec.tags,
            ldflags=spec.ldflags,
            env=spec.env,
        )
        for spec in config.target_specs()
    )


def build_command(
    config: BuildConfig, toolchain: Toolchain, target: Target, output: Path
) -> list[str]:
    """The exact `go build` argument list (no shell)."""
    release = "" if config.debug_symbols else "-s -w"
    ldflags = " ".join(part for part in (release, config.ldflags, target.ldflags) if part)
    tags = (*config.tags, *target.tags)
    cmd = [toolchain.go, "build", "-trimpath", "-o", str(output)]
    if tags:
        cmd += ["-tags", ",".join(tags)]
    if ldflags:
        cmd += ["-ldflags", ldflags]
    cmd += [*config.go_flags, "--", target.package.pattern]
    return cmd


class GoProcesses:
    """The go builds under way; stopping them kills each whole process group.

    go runs in its own session so that its compilers and linker can be killed with it: an
    orphaned linker would otherwise write into the staging folder after its removal.
    """

    def __init__(self) -> None:
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def run(self, cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
        """Run one go build to the end; Go's stdout and stderr go to our stderr (--json owns
        stdout)."""
        with self._lock:
            proc = _start(cmd, cwd, env)
            self._running.add(proc)
        try:
            return proc.wait()
        finally:
            with self._lock:
                self._running.discard(proc)

    def kill_all(self) -> None:
        """Kill every build under way, with its children, and reap it."""
        with self._lock:
            running = list(self._running)
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in running:
            proc.wait()


def _start(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from exc


def compile_target(ctx: BuildContext, target: Target, processes: GoProcesses) -> None:
    """Compile one target into staging as <name>.wasm."""
    toolchain = ctx.toolchain
    output = ctx.staging / target.module
    cmd = build_command(ctx.config, toolchain, target, output)
    env = go_environ(ctx.config.environ, target.goos, target.env)
    returncode = processes.run(cmd, target.package.run_dir, env)
    if returncode != 0:
        raise CompileError(cmd, returncode, target.name)
    if not output.is_file() or output.read_bytes()[:4] != b"\0asm":
        raise CompileError(cmd, 0, target.name)


def compile_module(ctx: BuildContext) -> None:
    """Run `go build` for every target, in parallel up to --jobs; diagnostics go to stderr."""
    processes = GoProcesses()
    workers = max(1, min(ctx.config.jobs, len(ctx.targets)))
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(compile_target, ctx, t, processes) for t in ctx.targets]
        for future in futures:
            future.result()
    except BaseException:
        # A failed target or an interrupt: stop the other builds now rather than wait for them.
        processes.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    names = [t.package.import_path for t in ctx.targets]
    ctx.notes["compile"] = names[0] if len(names) == 1 else f"{len(names)} targets"
