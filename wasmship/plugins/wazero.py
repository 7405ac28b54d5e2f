"""The wazero runner: a small Go program (runner/, package data) that runs one wasip1 module
with a memory cap, a wall-clock deadline and only the capabilities granted to it.

It is built with the user's Go the first time it is needed, into wasmship's cache folder, keyed
by the runner's sources and the Go version; wazero comes from the Go module proxy (or the module
cache), pinned with its checksum in runner/go.mod and go.sum.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from packaging.version import Version

from wasmship.cachedir import RUNNERS, WAZERO_COMPILED, hold, touch
from wasmship.errors import ToolchainError
from wasmship.toolchain.locate import locate_go, read_toolchain
from wasmship.toolchain.runner import run_build

RUNNER_NAME = "wasmship-wazero" + (".exe" if os.name == "nt" else "")
MINIMUM_GO = Version("1.25")  # wazero v1.12's go.mod floor
DEFAULT_MEMORY = 512 << 20
# The runner's own margin past the deadline: compiling a module (once per content, then
# cached) and starting up. A runner that outlives it is killed.
COMPILE_ALLOWANCE = 300.0


def runner_sources() -> dict[str, bytes]:
    """The runner's files (go.mod, go.sum, its .go files), as wasmship ships them."""
    folder = files("wasmship.plugins").joinpath("runner")
    return {
        entry.name: entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name in ("go.mod", "go.sum") or entry.name.endswith(".go")
    }


def pinned_wazero(sources: Mapping[str, bytes]) -> str:
    """`github.com/tetratelabs/wazero v1.12.0`, as the runner's go.mod requires it."""
    for line in sources["go.mod"].decode().splitlines():
        words = line.replace("require", "").split()
        if words and words[0] == "github.com/tetratelabs/wazero":
            return " ".join(words[:2])
    return "github.com/tetratelabs/wazero"


def runner_key(sources: Mapping[str, bytes], goversion: str) -> str:
    """The runner's cache key: its sources and the Go that builds it."""
    digest = hashlib.sha256(goversion.encode())
    for name in sorted(sources):
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(sources[name]).digest())
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class Runner:
    """A built runner, and where it keeps wazero's compiled modules."""

    binary: Path
    compile_cache: Path
    runtime: str  # "wazero v1.12.0"


def wazero_runner(go: str | None, environ: Mapping[str, str], cache: Path) -> Runner:
    """The runner for this Go, built into the CACHE folder the first time (a ToolchainError
    says why it cannot be)."""
    env = _host_environ(environ)
    go_binary = locate_go(go, env)
    cache.mkdir(parents=True, exist_ok=True)
    toolchain = read_toolchain(go_binary, cache, env)
    sources = runner_sources()
    wazero = pinned_wazero(sources)
    if toolchain.version < MINIMUM_GO:
        raise ToolchainError(
            f"wasip1 modules run under {wazero}, whose runner needs Go {MINIMUM_GO} or newer to "
            f"build; {go_binary} is {toolchain.goversion}. Point --go or WASMSHIP_GO at a newer Go."
        )
    key = runner_key(sources, toolchain.goversion)
    folder = RUNNERS.path(cache) / key
    binary = folder / RUNNER_NAME
    runtime = wazero.rsplit("/", 1)[-1]  # "wazero v1.12.0"
    if not binary.is_file():
        _build(go_binary, sources, folder, env, wazero)
    touch(folder)
    # One compiled-modules folder per runner: it goes with the runner's wazero version.
    return Runner(binary, WAZERO_COMPILED.path(cache) / key, runtime)


def _host_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the runner is built in: for this machine, with this Go and its module
    settings (GOPROXY, GOMODCACHE, GOFLAGS' -mod aside), never a toolchain download."""
    env = {k: v for k, v in environ.items() if k not in ("GOOS", "GOARCH", "GOFLAGS")}
    env.update(GOTOOLCHAIN="local", CGO_ENABLED="0", GOWORK="off")
    return env


def _build(
    go: str, sources: Mapping[str, bytes], folder: Path, env: Mapping[str, str], wazero: str
) -> None:
    """Build the runner into FOLDER; two builds at once each rename a whole binary in place."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wasmship-runner-") as tmp:
        source = Path(tmp)
        for name, data in sources.items():
            (source / name).write_bytes(data)
        partial = folder / f".{RUNNER_NAME}.{os.getpid()}.tmp"
        cmd = [go, "build", "-trimpath", "-mod=readonly", "-o", str(partial), "."]
        proc = run_build(cmd, source, env)
        if not proc.ok:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise ToolchainError(
                f"cannot build the wazero runner with {go} (exit {proc.returncode}):\n"
                f"{proc.stderr.strip()}\nIt needs {wazero} once, from the Go module proxy "
                "(GOPROXY) or the module cache (GOMODCACHE); after that it is built offline."
            )
        os.replace(partial, folder / RUNNER_NAME)


@dataclass(frozen=True)
class RunnerReport:
    """What the runner said happened (see Report in runner/main.go)."""

    runtime: str
    ran: bool = False
    exit_code: int | None = None
    deadline: bool = False
    memory_cap: int = 0
    memory_asked: int = 0
    trap: str = ""
    error: str = ""
    results: tuple[str, ...] = ()
    called: str = ""
    started_as: str = ""
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class Sandbox:
    """What one run may use: the limits and the capabilities granted."""

    memory: int = DEFAULT_MEMORY
    timeout: float = 60.0
    grants: tuple[str, ...] = ()
    directory: Path | None = None  # mounted at / when "fs" is granted
    name: str = "module"  # argv[0]


def run_module(
    runner: Runner,
    module: Path,
    sandbox: Sandbox,
    call: str | None = None,
    call_args: tuple[str, ...] = (),
) -> RunnerReport:
    """Run MODULE under the runner in SANDBOX (and call CALL with CALL_ARGS, if given)."""
    # Held while it runs: no other command's cache bound or clean removes them under it.
    with (
        hold(runner.binary.parent),
        hold(runner.compile_cache),
        tempfile.TemporaryDirectory(prefix="wasmship-wazero-") as tmp,
    ):
        report = Path(tmp) / "report.json"
        cmd = [
            str(runner.binary),
            f"-report={report}",
            f"-memory={sandbox.memory}",
            f"-timeout={sandbox.timeout}s",
            f"-grant={','.join(sandbox.grants)}",
            f"-name={sandbox.name}",
            f"-cache={runner.compile_cache}",
        ]
        if sandbox.directory is not None:
            cmd.append(f"-dir={sandbox.directory}")
        if call:
            cmd.append(f"-call={call}")
        cmd += ["--", str(module), *call_args]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                timeout=sandbox.timeout + COMPILE_ALLOWANCE,
                env={"PATH": os.environ.get("PATH", "")},  # the runner needs nothing more
                check=False,
            )
        except subprocess.TimeoutExpired:
            return RunnerReport(runner.runtime, error="the runner itself did not stop")
        except OSError as exc:
            raise ToolchainError(f"cannot run {runner.binary}: {exc.strerror or exc}") from exc
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        try:
            found = json.loads(report.read_text("utf-8"))
        except (OSError, ValueError):
            why = stderr.strip() or f"exit {proc.returncode}"
            return RunnerReport(runner.runtime, error=f"the runner failed: {why}")
    return RunnerReport(
        runtime=str(found.get("runtime") or runner.runtime),
        ran=found.get("ran") is True,
        exit_code=found.get("exit_code"),
        deadline=found.get("deadline") is True,
        memory_cap=int(found.get("memory_cap") or 0),
        memory_asked=int(found.get("memory_asked") or 0),
        trap=str(found.get("trap") or ""),
        error=str(found.get("error") or ""),
        results=tuple(str(r) for r in found.get("results") or ()),
        called=str(found.get("called") or ""),
        started_as=str(found.get("started_as") or ""),
        stdout=stdout,
        stderr=stderr,
    )
