"""The shared state the pipeline's steps read and fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wasmship.build.config import BuildConfig
from wasmship.build.toolchain import Toolchain
from wasmship.dist.manifest import DeployHelper, FileEntry, KeptFile, Manifest
from wasmship.dist.names import LOADER, LOADER_STYLE, PAGE, SHIM


@dataclass(frozen=True)
class GoPackage:
    """The main package being built, as `go list` resolved it."""

    import_path: str
    directory: Path
    run_dir: Path  # where go commands run: the working directory or the package's own module
    pattern: str = "."  # what go build is given, relative to run_dir


@dataclass(frozen=True)
class Target:
    """One module to build: a [[target]] of wasmship.toml, or the single default "main"."""

    name: str
    goos: str  # "js" for the browser, "wasip1" for a server-side plugin
    package: GoPackage
    tags: tuple[str, ...] = ()
    ldflags: str = ""
    env: tuple[tuple[str, str], ...] = ()

    @property
    def module(self) -> str:
        """The module's logical name in the manifest."""
        return f"{self.name}.wasm"


@dataclass
class BuildContext:
    """What the steps share: the config, the staging folder and everything found so far.

    `files` holds the dist's files by logical name as frozen manifest entries; a step that adds
    a variant replaces the entry. `kept` holds the earlier builds' files kept in the dist (--keep).
    """

    config: BuildConfig
    staging: Path
    toolchain: Toolchain
    targets: tuple[Target, ...] = ()
    static_files: list[str] = field(default_factory=list)  # logical names from --static
    files: dict[str, FileEntry] = field(default_factory=dict)
    kept: list[KeptFile] = field(default_factory=list)
    deploy_helpers: dict[str, DeployHelper] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # step name -> one-line summary
    warnings: list[str] = field(default_factory=list)  # shown by the reporter after each step
    manifest: Manifest | None = None  # written by the last step

    @property
    def page_target(self) -> Target | None:
        """The browser target that index.html starts: the first js one."""
        return next((t for t in self.targets if t.goos == "js"), None)

    def files_of(self, target: Target) -> list[str]:
        """The logical names that belong to TARGET in the manifest."""
        names = [target.module]
        if target.goos == "js":
            names.append(SHIM)
        if target is (self.page_target or self.targets[0]):
            names += [LOADER, LOADER_STYLE, PAGE, *self.static_files]
        return [name for name in names if name in self.files]
