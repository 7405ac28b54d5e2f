"""The module's sources built once more, the way the release was but with names kept, and what
the linker and the package archives tell about that build.

Release modules are stripped (`-ldflags=-s -w`): they have no name section. Linking the same
sources with the same flags minus `-s` is cheap (Go's build cache holds every compiled package)
and gives the same code and data, plus the linker's dependency graph (`-dumpdep`); the package
archives (`go list -export -deps`) hold the size of every data symbol (`go tool nm -size`).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.builder.context import Target
from wasmship.builder.toolchain import go_environ
from wasmship.distformat.model import TargetEntry
from wasmship.errors import ToolchainError, WasmshipError
from wasmship.size.symbols import Graph, is_dumpdep_line, parse_dumpdep, parse_nm

_SHOWN_LINES = 40  # of Go's messages when the build with names fails


class SourceError(WasmshipError):
    """The sources could not be built again with names (Go's messages are in the text)."""


@dataclass(frozen=True)
class Source:
    """Where and how a module's sources are built: as `wasmship build` built them."""

    run_dir: Path  # where go runs
    package: str  # what go build is given there
    goos: str = "js"
    tags: tuple[str, ...] = ()
    ldflags: str = ""  # the user's, without wasmship's -s -w
    go_flags: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NamedBuild:
    """The module built with names, the linker's graph, and the archives' data symbols."""

    module: bytes
    graph: Graph
    symbols: dict[str, tuple[str, int]]  # symbol -> (nm kind, size)
    import_paths: tuple[str, ...]


def _flags(source: Source) -> list[str]:
    flags = ["-trimpath"]
    if source.tags:
        flags += ["-tags", ",".join(source.tags)]
    return flags


def _run(
    go: str, args: list[str], source: Source, environ: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    cmd = [go, *args]
    try:
        return subprocess.run(
            cmd,
            cwd=source.run_dir,
            env=go_environ(environ, source.goos, source.env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {go}: {exc.strerror or exc}") from exc


def _failed(what: str, proc: subprocess.CompletedProcess[str]) -> SourceError:
    lines = [line for line in proc.stderr.splitlines() if not is_dumpdep_line(line)]
    shown = "\n".join(lines[-_SHOWN_LINES:]) or f"exit {proc.returncode}"
    return SourceError(f"{what} failed (exit {proc.returncode}):\n{shown}")


def build_with_names(go: str, source: Source, environ: Mapping[str, str]) -> NamedBuild:
    """Link SOURCE again without -s and with -dumpdep; read the archives' symbol tables."""
    # A user's own -s would strip the names again; everything else stays as it was built.
    ldflags = " ".join(f for f in (*source.ldflags.split(), "-w", "-dumpdep") if f != "-s")
    with tempfile.TemporaryDirectory(prefix="wasmship-size-") as folder:
        output = Path(folder) / "named.wasm"
        args = ["build", *_flags(source), "-ldflags", ldflags, "-o", str(output)]
        proc = _run(go, [*args, *source.go_flags, "--", source.package], source, environ)
        if proc.returncode != 0 or not output.is_file():
            raise _failed(f"go build of {source.package} with names (for size attribution)", proc)
        module = output.read_bytes()
    graph = parse_dumpdep(proc.stderr)
    template = "{{.ImportPath}}\t{{.Export}}"
    listing = _run(
        go,
        ["list", *_flags(source), "-export", "-deps", "-f", template, "--", source.package],
        source,
        environ,
    )
    if listing.returncode != 0:
        raise _failed(f"go list -export -deps {source.package}", listing)
    rows = [line.partition("\t") for line in listing.stdout.splitlines()]
    archives = [path.strip() for _, _, path in rows if path.strip()]
    symbols: dict[str, tuple[str, int]] = {}
    if archives:
        nm = _run(go, ["tool", "nm", "-size", *archives], source, environ)
        if nm.returncode != 0:
            raise _failed("go tool nm -size on the package archives", nm)
        symbols = parse_nm(nm.stdout)
    return NamedBuild(module, graph, symbols, tuple(path for path, _, _ in rows if path))


def source_of_build(config: BuildConfig, target: Target) -> Source:
    """How `wasmship build` built TARGET with CONFIG."""
    return Source(
        run_dir=target.package.run_dir,
        package=target.package.pattern,
        goos=target.goos,
        tags=(*config.tags, *target.tags),
        ldflags=" ".join(p for p in (config.ldflags, target.ldflags) if p),
        go_flags=config.go_flags,
        env=target.env,
    )


def source_of_entry(
    entry: TargetEntry, run_dir: Path, package: str, env: tuple[tuple[str, str], ...] = ()
) -> Source:
    """How the dist's manifest says ENTRY was built, with PACKAGE run from RUN_DIR."""
    return Source(
        run_dir=run_dir,
        package=package,
        goos=entry.goos,
        tags=entry.flags.tags,
        ldflags=entry.flags.ldflags,
        go_flags=entry.flags.go_flags,
        env=env,
    )
