"""The shared state the pipeline's steps read and fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from wasmship.config import BuildConfig


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


@dataclass
class Encoding:
    """A precompressed variant of a file."""

    path: str
    size: int
    sha256: str


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
    target: str = "main"
    toolchain: Toolchain | None = None
    package: GoPackage | None = None
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    deploy_helpers: dict[str, DeployHelper] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # step name -> one-line summary
    manifest: dict[str, object] = field(default_factory=dict)

    def require_toolchain(self) -> Toolchain:
        """The toolchain found by the first step."""
        assert self.toolchain is not None, "toolchain step has not run"
        return self.toolchain

    def require_package(self) -> GoPackage:
        """The package resolved by the compile step."""
        assert self.package is not None, "package has not been resolved"
        return self.package
