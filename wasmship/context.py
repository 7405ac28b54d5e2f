"""The shared state the pipeline's steps read and fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from wasmship.config import BuildConfig

SHIM = "wasm_exec.js"
LOADER = "loader.js"
LOADER_STYLE = "loader.css"
PAGE = "index.html"


@dataclass(frozen=True)
class Toolchain:
    """The Go that builds the module, and the GOROOT its shim must come from."""

    go: str
    goroot: Path
    goversion: str  # as Go reports it, e.g. "go1.26.8" or "devel go1.27-abc"
    version: Version
    devel: bool = False


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
class Encoding:
    """A precompressed variant of a file."""

    path: str
    size: int
    sha256: str
    coding: str = ""  # the Content-Encoding when it is not the manifest key (dcz)
    dictionary: str = ""  # SHA-256 of the earlier file a dcz delta is made from


@dataclass
class Artifact:
    """A file of the dist, known by its logical name."""

    logical: str
    path: str  # relative to the dist root
    content_type: str
    immutable: bool
    size: int = 0
    sha256: str = ""
    integrity: str = ""
    encodings: dict[str, Encoding] = field(default_factory=dict)


@dataclass(frozen=True)
class Carried:
    """A hashed file of an earlier build, kept in the dist for open tabs and as a dictionary."""

    generation: int  # 1: the build this one replaces, 2: the one before, ...
    target: str
    artifact: Artifact


@dataclass(frozen=True)
class DeployHelper:
    """A server config written beside the files (nginx.conf, _headers, ...); not content."""

    name: str  # the --server-config name: nginx, caddy, netlify, apache
    path: str  # relative to the dist root
    size: int
    sha256: str


@dataclass
class BuildContext:
    """What the steps share: the config, the staging folder and everything found so far."""

    config: BuildConfig
    staging: Path
    toolchain: Toolchain | None = None
    targets: tuple[Target, ...] = ()
    static_files: list[str] = field(default_factory=list)  # logical names from --static
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    deploy_helpers: dict[str, DeployHelper] = field(default_factory=dict)
    previous: list[Carried] = field(default_factory=list)  # kept from earlier builds
    notes: dict[str, str] = field(default_factory=dict)  # step name -> one-line summary
    warnings: list[str] = field(default_factory=list)  # shown by the reporter after each step
    manifest: dict[str, object] = field(default_factory=dict)

    def require_toolchain(self) -> Toolchain:
        """The toolchain found by the first step."""
        assert self.toolchain is not None, "toolchain step has not run"
        return self.toolchain

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
        return [name for name in names if name in self.artifacts]
