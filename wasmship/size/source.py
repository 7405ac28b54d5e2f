"""The module's sources built once more, the way the release was but with names kept, and what
the linker and the package archives tell about that build.

Release modules are stripped (`-ldflags=-s -w`): they have no name section. Linking the same
sources with the same flags minus `-s` is cheap (Go's build cache holds every compiled package)
and gives the same code and data, plus the linker's dependency graph (`-dumpdep`); the package
archives (`go list -export -deps`) hold the size of every data symbol (`go tool nm -size`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.builder.context import Target
from wasmship.distformat.model import TargetEntry
from wasmship.errors import WasmshipError
from wasmship.size.symbols import parse_nm
from wasmship.toolchain.buildline import BuildLine, check_recorded_flags
from wasmship.toolchain.dumpdep import Graph, is_dumpdep_line, parse_dumpdep
from wasmship.toolchain.golist import go_list
from wasmship.toolchain.runner import GoOutput, go_environ, run_build, run_go

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


def _failed(what: str, proc: GoOutput) -> SourceError:
    lines = [line for line in proc.stderr.splitlines() if not is_dumpdep_line(line)]
    shown = "\n".join(lines[-_SHOWN_LINES:]) or f"exit {proc.returncode}"
    return SourceError(f"{what} failed (exit {proc.returncode}):\n{shown}")


def build_with_names(go: str, source: Source, environ: Mapping[str, str]) -> NamedBuild:
    """Link SOURCE again without -s and with -dumpdep; read the archives' symbol tables."""
    env = go_environ(environ, source.goos, source.env)
    line = BuildLine(go, source.package, source.tags, source.ldflags, source.go_flags)
    with tempfile.TemporaryDirectory(prefix="wasmship-size-") as folder:
        output = Path(folder) / "named.wasm"
        proc = run_build(line.with_names(output), source.run_dir, env)
        if proc.returncode != 0 or not output.is_file():
            raise _failed(f"go build of {source.package} with names (for size attribution)", proc)
        module = output.read_bytes()
    graph = parse_dumpdep(proc.stderr)
    listing, packages = go_list(
        go,
        [source.package],
        source.run_dir,
        env,
        fields="ImportPath,Export",
        deps=True,
        tags=source.tags,
        flags=["-trimpath", "-export"],
    )
    if not listing.ok:
        raise _failed(f"go list -export -deps {source.package}", listing)
    archives = [str(p["Export"]) for p in packages if p.get("Export")]
    symbols: dict[str, tuple[str, int]] = {}
    if archives:
        nm = run_go([go, "tool", "nm", "-size", *archives], source.run_dir, env)
        if nm.returncode != 0:
            raise _failed("go tool nm -size on the package archives", nm)
        symbols = parse_nm(nm.stdout)
    paths = tuple(str(p["ImportPath"]) for p in packages if p.get("ImportPath"))
    return NamedBuild(module, graph, symbols, paths)


def import_path_of(
    go: str, package: str, run_dir: Path, environ: Mapping[str, str], goos: str = "js"
) -> str | None:
    """The import path go resolves PACKAGE to in RUN_DIR for GOOS (as a manifest records a
    target's `package`); None when go cannot name one package for it."""
    listing, packages = go_list(
        go, [package], run_dir, go_environ(environ, goos, ()), fields="ImportPath,Error", find=True
    )
    if not listing.ok or len(packages) != 1 or packages[0].get("Error"):
        return None
    path = packages[0].get("ImportPath")
    return path if isinstance(path, str) and path else None


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
    """How the dist's manifest says ENTRY was built, with PACKAGE run from RUN_DIR (only with
    go flags that cannot run a program: the manifest is data)."""
    check_recorded_flags(entry.flags.go_flags, f"the manifest's target {entry.name!r}")
    return Source(
        run_dir=run_dir,
        package=package,
        goos=entry.goos,
        tags=entry.flags.tags,
        ldflags=entry.flags.ldflags,
        go_flags=entry.flags.go_flags,
        env=env,
    )
