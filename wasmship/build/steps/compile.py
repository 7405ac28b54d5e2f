"""Step: resolve each target's main package and compile it with GOARCH=wasm."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wasmship.build.config import CONFIG_NAME, BuildConfig, TargetSpec
from wasmship.build.context import BuildContext, GoPackage, Target
from wasmship.build.toolchain import Toolchain, go_environ
from wasmship.errors import CompileError, ToolchainError, UsageError


def run_dir_for(workdir: Path, package: str) -> tuple[Path, str]:
    """Where go runs and what package it builds; a folder with its own go.mod is built in place."""
    candidate = (workdir / package).resolve()
    if candidate.is_dir() and (candidate / "go.mod").is_file():
        return candidate, "."
    return workdir.resolve(), package


def _module_dir(config: BuildConfig, spec: TargetSpec) -> Path | None:
    """The folder of the target's `module` (from wasmship.toml's folder), checked; None: none."""
    if not spec.module:
        return None
    folder = (config.workdir / spec.module).resolve()
    missing = folder if not folder.is_dir() else folder / "go.mod"
    if not missing.is_file():
        raise UsageError(
            f'target {spec.name!r}: module = "{spec.module}" is not a Go module: {missing} does '
            "not exist (module names a folder with its own go.mod, relative to wasmship.toml)"
        )
    return folder


def target_run_dir(config: BuildConfig, spec: TargetSpec) -> tuple[Path, str]:
    """Where the target's go commands run and the package they are given there."""
    folder = _module_dir(config, spec)
    if folder is None:
        return run_dir_for(config.workdir, spec.package)
    return folder, spec.package  # `module` is explicit: no folder with a go.mod is built in place


def _module_root(folder: Path) -> Path | None:
    """The folder of the nearest go.mod at or above FOLDER."""
    return next((d for d in (folder, *folder.parents) if (d / "go.mod").is_file()), None)


def _is_path(package: str) -> bool:
    """Whether go reads PACKAGE as a folder rather than an import path (and not a pattern)."""
    relative = package in (".", "..") or package.startswith(("./", "../"))
    return (relative or Path(package).is_absolute()) and "..." not in package


def _refuse_other_module(
    config: BuildConfig, spec: TargetSpec, run_dir: Path, package: str
) -> None:
    """Say so when go failed on a package folder that lies in a Go module of its own."""
    folder = (run_dir / package).resolve()
    if not _is_path(package) or not folder.is_dir():
        return
    owner = _module_root(folder)
    if owner is None or owner == _module_root(run_dir):
        return
    module = os.path.relpath(owner, config.workdir.resolve())
    inner = "./" + folder.relative_to(owner).as_posix() if folder != owner else "."
    build = "wasmship build" if inner == "." else f"wasmship build {inner}"
    # From inside the module, a wasmship.toml above it (not its own) would be found and used.
    outer = any((d / CONFIG_NAME).is_file() for d in owner.parents)
    cd = "" if outer and not (owner / CONFIG_NAME).is_file() else f"`cd {module} && {build}`, or "
    raise UsageError(
        f"package {spec.package!r} is in {module}, a Go module of its own "
        f"({os.path.join(module, 'go.mod')}): build it in that module with {cd}a [[target]] "
        f'with module = "{module}" and package = "{inner}"'
    )


def resolve_package(config: BuildConfig, spec: TargetSpec, toolchain: Toolchain) -> GoPackage:
    """Ask `go list` what the target's package is, and refuse anything but a main package."""
    run_dir, package = target_run_dir(config, spec)
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
        _refuse_other_module(config, spec, run_dir, package)
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
        _refuse_other_module(config, spec, run_dir, package)
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


# The watcher leads the process group a go build runs in, with go's compilers and linker. Its
# stdin is a pipe whose other end only wasmship holds: however wasmship ends (even SIGKILL, or
# a CI runner killing wasmship's own group), the kernel closes it and the watcher kills the
# whole group, itself last. A go left running would write its module into a staging folder
# that the next build has removed, and its compiler would run on for seconds.
WATCHER = "import os\nwhile os.read(0, 4096):\n    pass\nos.killpg(0, 9)\n"
_PR_SET_PDEATHSIG = 1
# go's work folders (GOTMPDIR) go inside staging: what a killed go leaves (go cleans up only
# when it ends by itself) goes with the staging folder, which the next build removes.
GO_TMP = ".go-tmp"


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
        with self._lock:
            if self._stopped:
                return -signal.SIGKILL  # the build is failing: start nothing more
            watcher = _start_watcher(cwd, env)
            try:
                proc = _start_go(cmd, cwd, env, group=watcher.pid)
            except BaseException:
                _end(watcher)
                raise
            self._running[proc] = watcher
        try:
            return proc.wait()
        finally:
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
    cmd: list[str], cwd: Path, env: dict[str, str], group: int
) -> subprocess.Popen[bytes]:
    """Start go in the process group GROUP (its watcher's)."""
    try:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,  # never the terminal: its group is not the foreground one
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
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


def compile_target(ctx: BuildContext, target: Target, processes: GoProcesses) -> None:
    """Compile one target into staging as <name>.wasm."""
    toolchain = ctx.toolchain
    output = ctx.staging / target.module
    cmd = build_command(ctx.config, toolchain, target, output)
    env = go_environ(ctx.config.environ, target.goos, target.env)
    env["GOTMPDIR"] = str(ctx.staging / GO_TMP)
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
    (ctx.staging / GO_TMP).mkdir()
    try:
        futures = [pool.submit(compile_target, ctx, t, processes) for t in ctx.targets]
        for future in futures:
            future.result()
    except BaseException:
        # A failed target or an interrupt: stop the other builds now rather than wait for them.
        processes.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        shutil.rmtree(ctx.staging / GO_TMP, ignore_errors=True)
    pool.shutdown(wait=True)
    names = [t.package.import_path for t in ctx.targets]
    ctx.notes["compile"] = names[0] if len(names) == 1 else f"{len(names)} targets"
