"""The build's settings, as one frozen value the pipeline reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.builder.budgets import Budget
from wasmship.cachedir import DEFAULT_MAX_SIZE, cache_root
from wasmship.distformat.headers import HeaderRule
from wasmship.distformat.lock import DEFAULT_LOCK_TIMEOUT
from wasmship.distformat.model import Hosting
from wasmship.encodings.encoders import GzipEncoder, Profile
from wasmship.errors import UsageError

CONFIG_NAME = "wasmship.toml"  # found upward from the working directory


@dataclass(frozen=True)
class TargetSpec:
    """One module to build, as configured ([[target]] in wasmship.toml)."""

    name: str
    package: str
    goos: str = "js"
    tags: tuple[str, ...] = ()
    ldflags: str = ""
    env: tuple[tuple[str, str], ...] = ()
    folder: str = ""  # where in the dist its module (and shim) live, e.g. "web"; "" = the root
    module: str = ""  # a Go module folder of its own (with go.mod) to build in; "" = the project
    allow: tuple[str, ...] | None = None  # wasip1: the capabilities it may import; None: no list
    compress: bool | None = None  # precompress its module; None: only a js one (a browser's)
    hash: bool | None = None  # its module's name hashed; None: as the build's `hash`

    @property
    def precompressed(self) -> bool:
        """Whether its module gets br/gz variants: asked for, else only when a browser fetches
        it (no one downloads a wasip1 plugin, and its encodings cost seconds a build)."""
        return self.goos == "js" if self.compress is None else self.compress

    def hashed(self, config: BuildConfig) -> bool:
        """Whether its module's name carries the content hash: its `hash`, else the build's."""
        return config.hash_names if self.hash is None else self.hash


@dataclass(frozen=True)
class AppConfig:
    """The installable app ([app] in wasmship.toml): what manifest.webmanifest says."""

    name: str
    short_name: str = ""
    theme_color: str = ""
    background_color: str = ""
    display: str = "standalone"
    icons: tuple[Path, ...] = ()  # PNG or SVG files: in the static folder, else the project's


@dataclass(frozen=True)
class BuildConfig:
    """Everything one `wasmship build` needs to know, already validated."""

    package: str = "."
    # A wasmship.toml was read and nothing named the package (no PACKAGE, no `package`, no
    # [[target]]): "." is then a guess, and a js target must prove it is a browser program.
    package_unnamed: bool = False
    out: Path = Path("dist")
    workdir: Path = field(default_factory=Path.cwd)
    go: str | None = None
    tags: tuple[str, ...] = ()
    ldflags: str = ""
    go_flags: tuple[str, ...] = ()
    debug_symbols: bool = False
    hash_names: bool = True
    html_template: Path | None = None
    static: Path | None = None  # the project's own web folder, copied in with rewritten names
    static_exclude: tuple[str, ...] = ()  # glob patterns (relative to `static`) also left out
    keep_names: tuple[str, ...] = ()  # globs of static files never given a hashed name
    static_include: tuple[str, ...] = ()  # glob patterns copied even when a rule leaves them out
    routes: tuple[str, ...] = ()  # dist paths or globs a service worker answers (not files)
    force: bool = False
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    server_configs: tuple[str, ...] = ()  # nginx, caddy, netlify, apache (validated by the CLI)
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    profile: Profile = Profile.RELEASE
    gzip: GzipEncoder = GzipEncoder.ZLIB
    zstd: bool = False
    cache: bool = True
    cache_dir: Path | None = None  # None: WASMSHIP_CACHE_DIR, else the user cache folder
    cache_max_size: int = DEFAULT_MAX_SIZE
    # The shared cache's URL (--cache-url), credentials and all: never shown as it is.
    cache_url: str = field(default="", repr=False)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    targets: tuple[TargetSpec, ...] = ()  # empty: one target "main" built from `package`
    only: tuple[str, ...] = ()  # --target: build just these
    budgets: tuple[Budget, ...] = ()
    keep: int = 2  # earlier builds whose hashed files are kept in the dist (--keep)
    hosting: Hosting = Hosting.NEGOTIATE  # static: the loader decodes a .gz itself
    offline: bool = False  # a service worker caches the page's generation (--offline)
    spa: bool = False  # unknown paths without an extension get the page (--spa)
    csp_off: bool = False  # no Content-Security-Policy (--csp-off): the program evaluates code
    headers: tuple[HeaderRule, ...] = ()  # the project's own response headers ([headers])
    csp: tuple[tuple[str, tuple[str, ...]], ...] = ()  # [csp]: sources the policy adds
    app: AppConfig | None = None  # a web app manifest makes the page installable ([app])

    def configured_specs(self) -> tuple[TargetSpec, ...]:
        """Every target of the configuration, in the order the dist lists them."""
        return self.targets or (TargetSpec(name="main", package=self.package),)

    def target_specs(self) -> tuple[TargetSpec, ...]:
        """The targets this build makes, in order; --target narrows them."""
        specs = self.configured_specs()
        if not self.only:
            return specs
        known = [spec.name for spec in specs]
        unknown = [name for name in self.only if name not in known]
        if unknown:
            raise UsageError(
                f"--target {', '.join(unknown)}: no such target (targets: {', '.join(known)})"
            )
        return tuple(spec for spec in specs if spec.name in self.only)

    @property
    def cache_root(self) -> Path:
        """wasmship's cache folder: --cache-dir, WASMSHIP_CACHE_DIR, else the user cache folder."""
        return cache_root(self.environ, self.cache_dir)

    @property
    def out_path(self) -> Path:
        """The dist folder as an absolute path (relative ones are from the working directory)."""
        return (self.workdir / self.out).resolve()
