"""Step 2: resolve the main package and compile it with GOOS=js GOARCH=wasm."""

from __future__ import annotations

import json
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


def compile_module(ctx: BuildContext) -> None:
    """Run `go build`; Go's diagnostics go straight to the user's stderr."""
    toolchain = ctx.require_toolchain()
    _, package = run_dir_for(ctx.config)
    output = ctx.staging / UNHASHED_MODULE
    cmd = build_command(ctx.config, toolchain, output, package)
    try:
        # Go's stdout is sent to stderr too, so that --json owns stdout.
        proc = subprocess.run(
            cmd,
            cwd=ctx.require_package().run_dir,
            env=go_environ(ctx.config.environ),
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
            check=False,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {toolchain.go}: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        raise CompileError(cmd, proc.returncode)
    if not output.is_file() or output.read_bytes()[:4] != b"\0asm":
        raise CompileError(cmd, 0)
    ctx.notes["compile"] = ctx.require_package().import_path
