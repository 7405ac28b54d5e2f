"""Step 2: resolve the main package and compile it with GOOS=js GOARCH=wasm."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from wasmship.config import BuildConfig
from wasmship.context import BuildContext, GoPackage, Toolchain
from wasmship.errors import CompileError, ToolchainError, UsageError

UNHASHED_MODULE = "main.wasm"


def go_environ(environ: Mapping[str, str], goos: str = "js") -> dict[str, str]:
    """The environment every go command of a build runs with."""
    env = dict(environ)
    env.update(GOOS=goos, GOARCH="wasm", CGO_ENABLED="0")
    return env


def run_dir_for(config: BuildConfig) -> tuple[Path, str]:
    """Where go runs and what package it builds; a folder with its own go.mod is built in place."""
    candidate = (config.workdir / config.package).resolve()
    if candidate.is_dir() and (candidate / "go.mod").is_file():
        return candidate, "."
    return config.workdir.resolve(), config.package


def resolve_package(config: BuildConfig, toolchain: Toolchain) -> GoPackage:
    """Ask `go list` what PACKAGE is, and refuse anything but a main package."""
    run_dir, package = run_dir_for(config)
    cmd = [toolchain.go, "list", "-e", "-json=ImportPath,Name,Dir,Error", "--", package]
    proc = subprocess.run(
        cmd,
        cwd=run_dir,
        env=go_environ(config.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = proc.stderr.strip() or f"go list exited {proc.returncode}"
        raise UsageError(f"cannot resolve package {config.package!r}:\n{detail}")
    try:
        listed = json.loads(proc.stdout)
    except ValueError as exc:
        raise UsageError(
            f"cannot resolve package {config.package!r}: `go list` printed several packages; "
            "name exactly one main package"
        ) from exc
    name = listed.get("Name", "")
    error = (listed.get("Error") or {}).get("Err", "")
    if not name:
        raise UsageError(f"cannot build package {config.package!r}: {error or 'no Go files found'}")
    if name != "main":
        raise UsageError(
            f"package {config.package!r} ({listed.get('ImportPath')}) is package {name!r}, "
            "not a main package: wasmship builds programs. Point it at a folder with "
            "`package main` and a func main."
        )
    return GoPackage(
        import_path=listed.get("ImportPath", package),
        directory=Path(listed["Dir"]),
        run_dir=run_dir,
    )


def build_command(
    config: BuildConfig, toolchain: Toolchain, output: Path, package: str
) -> list[str]:
    """The exact `go build` argument list (no shell)."""
    ldflags = " ".join(
        part for part in ("" if config.debug_symbols else "-s -w", config.ldflags) if part
    )
    cmd = [toolchain.go, "build", "-trimpath", "-o", str(output)]
    if config.tags:
        cmd += ["-tags", ",".join(config.tags)]
    if ldflags:
        cmd += ["-ldflags", ldflags]
    cmd += [*config.go_flags, "--", package]
    return cmd


def run_go_build(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run go build in its own process group, so an interrupt stops its compilers and linker too.

    Go's stdout and stderr both go to our stderr, so that --json owns stdout.
    """
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from exc
    try:
        return proc.wait()
    except BaseException:
        # Otherwise an orphaned linker could write into the staging folder after its removal.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def compile_module(ctx: BuildContext) -> None:
    """Run `go build`; Go's diagnostics go straight to the user's stderr."""
    toolchain = ctx.require_toolchain()
    _, package = run_dir_for(ctx.config)
    output = ctx.staging / UNHASHED_MODULE
    cmd = build_command(ctx.config, toolchain, output, package)
    returncode = run_go_build(cmd, ctx.require_package().run_dir, go_environ(ctx.config.environ))
    if returncode != 0:
        raise CompileError(cmd, returncode)
    if not output.is_file() or output.read_bytes()[:4] != b"\0asm":
        raise CompileError(cmd, 0)
    ctx.notes["compile"] = ctx.require_package().import_path
