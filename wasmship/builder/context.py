"""The shared state the pipeline's steps read and fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.builder.jobs import EncodingJobs
from wasmship.builder.progress import ProgressSink, ignore_progress
from wasmship.distformat.headers import HeaderRule
from wasmship.distformat.model import (
    DeployHelper,
    FileEntry,
    KeptFile,
    Manifest,
    Offline,
    TargetEntry,
)
from wasmship.distformat.names import ICON, LOADER, LOADER_STYLE, PAGE, SHIM, WORKER
from wasmship.toolchain.buildline import BuildLine
from wasmship.toolchain.locate import Toolchain


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
        return module_name(self.name)


@dataclass(frozen=True)
class Compiled:
    """A module as go build wrote it: where, its bytes, read once, with their SHA-256, and the
    build line that wrote it."""

    path: Path  # the persistent per-target output, or in staging with --no-cache
    data: bytes
    sha256: str
    line: BuildLine | None = None  # how go built it; capabilities asks go with the same line


def module_name(target: str) -> str:
    """The logical name of TARGET's module: `app` -> `app.wasm`."""
    return f"{target}.wasm"


def folder_of(config: BuildConfig, target: str) -> str:
    """The folder of the dist TARGET's module goes in ("" for the root): its [[target]] folder."""
    return next((s.folder for s in config.configured_specs() if s.name == target), "")


def module_hashed(config: BuildConfig, target: str) -> bool:
    """Whether TARGET's module gets a content-hashed name: its [[target]] `hash`, else --no-hash."""
    spec = next((s for s in config.configured_specs() if s.name == target), None)
    return config.hash_names if spec is None else spec.hashed(config)


def shim_folder(config: BuildConfig) -> str:
    """Where the dist's one shim goes: the folder of the first js target (the one the page
    starts), so a site whose js targets share a folder finds it beside their modules."""
    return next((s.folder for s in config.configured_specs() if s.goos == "js"), "")


def import_path(target: Target | TargetEntry) -> str:
    """The Go import path a target was built from, whether built now or carried."""
    return target.package.import_path if isinstance(target, Target) else target.package


@dataclass
class BuildContext:
    """What the steps share: the config, the staging folder and everything found so far.

    `files` holds the dist's files by logical name as frozen manifest entries; a step that adds
    a variant replaces the entry. `kept` holds the earlier builds' files kept in the dist (--keep).
    `targets` are the targets built now, `compiled` their modules by target name; `carried` the
    old dist's targets that --target left out, whose files (`carried_files`) were copied over
    with their variants as they were. `staging` is created after compile, and only when the
    dist is not up to date (with --no-cache, before compile, which writes into it).
    """

    config: BuildConfig
    staging: Path
    toolchain: Toolchain
    targets: tuple[Target, ...] = ()
    persistent_output: bool = False  # compile writes to the cache (compile.output_folder)
    compiled: dict[str, Compiled] = field(default_factory=dict)
    inputs: str | None = None  # the inputs digest (build/inputs.py), recorded in the manifest
    carried: list[TargetEntry] = field(default_factory=list)
    carried_files: set[str] = field(default_factory=set)  # logical names; compress skips them
    static_files: list[str] = field(default_factory=list)  # logical names from --static
    app_files: list[str] = field(default_factory=list)  # the web app manifest and its icons
    files: dict[str, FileEntry] = field(default_factory=dict)
    kept: list[KeptFile] = field(default_factory=list)
    header_rules: list[HeaderRule] = field(default_factory=list)  # the build's own (the CSP)
    deploy_helpers: dict[str, DeployHelper] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # step name -> one-line summary
    warnings: list[str] = field(default_factory=list)  # shown by the reporter after each step
    manifest: Manifest | None = None  # written by the last step
    progress: ProgressSink = ignore_progress  # told how each encoding job moves on
    encoding: EncodingJobs | None = None  # the pipeline's encoding pool, while the steps run
    offline: Offline | None = None  # the service worker the offline step wrote, if any

    @property
    def pool(self) -> EncodingJobs:
        """The build's one encoding pool, which the pipeline opens around the staged steps."""
        assert self.encoding is not None, "the pipeline has not opened the encoding pool"
        return self.encoding

    @property
    def dist_targets(self) -> list[Target | TargetEntry]:
        """Every target of the new dist, built or carried, in the configuration's order."""
        found: dict[str, Target | TargetEntry] = {t.name: t for t in self.carried}
        found.update((t.name, t) for t in self.targets)
        return [found[s.name] for s in self.config.configured_specs() if s.name in found]

    @property
    def page_target(self) -> Target | TargetEntry | None:
        """The browser target that index.html starts: the dist's first js one, built or not."""
        return next((t for t in self.dist_targets if t.goos == "js"), None)

    @property
    def builds_browser_target(self) -> bool:
        """Whether this build compiles a js target (and so ships this Go's shim)."""
        return any(t.goos == "js" for t in self.targets)

    def files_of(self, target: Target | TargetEntry) -> list[str]:
        """The logical names that belong to TARGET in the manifest."""
        names = [module_name(target.name)]
        if target.goos == "js":
            names.append(SHIM)
        if target.name == (self.page_target or self.dist_targets[0]).name:
            names += [LOADER, LOADER_STYLE, ICON, PAGE, WORKER, *self.static_files, *self.app_files]
        return [name for name in names if name in self.files]
