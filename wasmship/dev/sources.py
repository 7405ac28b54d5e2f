"""What `wasmship dev` watches: the Go packages a build compiles from the project's own modules,
their module files and embedded files, the static folder, the HTML template and wasmship.toml.

Go says which packages a target depends on (`go list -deps`, with the target's GOOS and tags);
only those in the main module, a workspace module or a module replaced by a local folder are
the project's: the standard library and the module cache do not change under an editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wasmship.builder.config import CONFIG_NAME, BuildConfig
from wasmship.builder.context import Target
from wasmship.builder.webfolder import select_files
from wasmship.errors import ToolchainError, UsageError
from wasmship.toolchain.golist import Package, go_list
from wasmship.toolchain.locate import Toolchain, read_go_env
from wasmship.toolchain.runner import go_environ

MODULE_FILES = ("go.mod", "go.sum")
LIST_FIELDS = "Dir,Standard,Module,EmbedFiles"


@dataclass(frozen=True)
class WatchSet:
    """The folders to watch (each on its own, not recursively) and which changes in them count."""

    packages: frozenset[Path]  # folders whose .go files are compiled
    files: frozenset[Path]  # single files: go.mod, go.sum, embedded files, template, toml
    static: Path | None = None  # the --static folder
    static_files: frozenset[Path] = frozenset()  # what of it goes into the dist

    @property
    def folders(self) -> frozenset[Path]:
        """Every folder to watch."""
        static = {self.static} if self.static is not None else set()
        return frozenset(
            {*self.packages, *(f.parent for f in self.files), *static}
            | {f.parent for f in self.static_files}
        )

    def counts(self, path: Path, now: WatchSet | None = None) -> bool:
        """Whether a change of PATH (absolute, resolved) needs a build; NOW is the static
        folder as it is after the change (a new file counts when the build would copy it)."""
        if path in self.files:
            return True
        if path.parent in self.packages and _is_go_source(path.name):
            return True
        if self.static is None or not path.is_relative_to(self.static):
            return False
        selected = self.static_files | (now.static_files if now is not None else frozenset())
        return path in selected or any(f.is_relative_to(path) for f in selected)


def _is_go_source(name: str) -> bool:
    """A .go file go build reads (not a test, not an editor's lock or backup file)."""
    return name.endswith(".go") and not name.endswith("_test.go") and name[0] not in ".#"


def go_list_deps(config: BuildConfig, toolchain: Toolchain, target: Target) -> list[Package]:
    """The packages TARGET is built from, as `go list -deps -json` describes them."""
    proc, packages = go_list(
        toolchain.go,
        [target.package.pattern],
        target.package.run_dir,
        go_environ(config.environ, target.goos, target.env),
        fields=LIST_FIELDS,
        deps=True,
        tags=(*config.tags, *target.tags),
    )
    if not proc.ok:
        raise proc.error(UsageError, f"cannot list the packages of {target.package.pattern!r}")
    return packages


def is_projects(package: Package) -> bool:
    """A package of the main (or a workspace) module or of a module replaced by a folder."""
    module = package.get("Module") or {}
    if package.get("Standard") or not module:
        return False
    replace = module.get("Replace") or {}
    return bool(module.get("Main")) or (bool(replace) and not replace.get("Version"))


def package_sources(listed: Iterable[Package]) -> WatchSet:
    """The folders of the project's own packages in LISTED (go list -deps), their embedded
    files and their modules' go.mod and go.sum: what a change to them rebuilds."""
    packages: set[Path] = set()
    files: set[Path] = set()
    for package in listed:
        if not is_projects(package) or not package.get("Dir"):
            continue
        folder = Path(package["Dir"]).resolve()
        packages.add(folder)
        files.update(folder / name for name in package.get("EmbedFiles") or ())
        module = Path(package["Module"].get("Dir") or folder).resolve()
        files.update(module / name for name in MODULE_FILES)
    return WatchSet(frozenset(packages), frozenset(files))


def watch_set(config: BuildConfig, toolchain: Toolchain, targets: Iterable[Target]) -> WatchSet:
    """What to watch for CONFIG's targets (resolved by the build's preflight)."""
    packages: set[Path] = set()
    files: set[Path] = set()
    for target in targets:
        found = package_sources(go_list_deps(config, toolchain, target))
        packages |= found.packages
        files |= found.files
        files.update(workspace_files(config, toolchain, target))
    config_file = config.workdir / CONFIG_NAME
    files.update(p.resolve() for p in (config.html_template, config_file) if p is not None)
    static, static_files = None, frozenset[Path]()
    if config.static is not None and config.static.is_dir():
        static = config.static.resolve()
        static_files = static_selection(config)
    return WatchSet(frozenset(packages), frozenset(files), static, static_files)


def workspace_files(config: BuildConfig, toolchain: Toolchain, target: Target) -> set[Path]:
    """go.work and go.work.sum, when TARGET builds in a Go workspace."""
    env = go_environ(config.environ, target.goos, target.env)
    try:
        work = read_go_env(toolchain.go, target.package.run_dir, env, "GOWORK")["GOWORK"]
    except ToolchainError:
        return set()
    if not work or work == "off":
        return set()
    path = Path(work).resolve()
    return {path, path.with_name(path.name + ".sum")}


def static_selection(config: BuildConfig) -> frozenset[Path]:
    """The static folder's files a build copies, resolved."""
    if config.static is None or not config.static.is_dir():
        return frozenset()
    selection = select_files(
        config.static,
        config.out_path,
        include=config.static_include,
        exclude=config.static_exclude,
    )
    return frozenset(path.resolve() for _, path in selection.files)
