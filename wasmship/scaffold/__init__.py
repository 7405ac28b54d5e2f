"""`wasmship init`: write a commented wasmship.toml for the current folder (the project is its
subtree, as for `go build` there: its pages, its main packages; the module root only names the
import paths), from what its pages load (pages.py), what its build files build (hints.py) and
its main packages (mains.py); propose.py weighs them, render.py writes the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.builder.config import CONFIG_NAME
from wasmship.distformat.names import PAGE
from wasmship.errors import ToolchainError, UsageError, WasmshipError
from wasmship.scaffold.hints import module_path_of, read_by_hosts, read_hints
from wasmship.scaffold.mains import find_mains
from wasmship.scaffold.pages import find_sites
from wasmship.scaffold.propose import (
    PAGELESS_FOLDERS,
    MainPackage,
    StaticFolder,
    choose_static,
    propose,
)
from wasmship.scaffold.render import render_config
from wasmship.scaffold.routes import service_worker_routes
from wasmship.scaffold.tree import walk
from wasmship.toolchain.locate import read_go_env

__all__ = ["CI_STEP", "MAKEFILE_TARGET", "MainPackage", "Proposal", "StaticFolder", "init"]

MAKEFILE_TARGET = """\
# Makefile
.PHONY: wasm
wasm:
\twasmship build --quiet
"""

CI_STEP = """\
# .github/workflows/ci.yml (a step)
- name: Build WebAssembly
  run: |
    pip install wasmship
    wasmship build
    wasmship verify dist
"""


@dataclass(frozen=True)
class Proposal:
    """What init wrote: the file, every main package and the web folders it found."""

    path: Path
    packages: tuple[MainPackage, ...]
    static: tuple[StaticFolder, ...]
    routes: tuple[str, ...] = ()  # what the site's service worker answers

    @property
    def targets(self) -> list[MainPackage]:
        """The packages written as [[target]] tables (or as `package`)."""
        return [p for p in self.packages if p.is_target]

    @property
    def candidates(self) -> list[MainPackage]:
        """The packages written commented out, each with its reason."""
        return [p for p in self.packages if not p.is_target]


def init(
    root: Path, go: str, environ: Mapping[str, str], module_dir: Path | None = None
) -> Proposal:
    """Write ROOT/wasmship.toml for the project in ROOT, a folder of the Go module whose root is
    MODULE_DIR (ROOT itself when None); never overwrite one."""
    target = root / CONFIG_NAME
    if target.exists():
        raise WasmshipError(f"{target} already exists; wasmship init never overwrites it")
    found = find_mains(go, root, environ)
    if not found:
        raise UsageError(
            f"no main package under {root} builds for GOOS=js or wasip1: nothing to configure"
        )
    tree = walk(root)
    module = project_import_path(root, module_dir or root)
    hints = read_hints(tree, module)
    sites = find_sites(tree)
    pageless = [
        n for n in PAGELESS_FOLDERS if (root / n).is_dir() and not (root / n / PAGE).is_file()
    ]
    static = choose_static(sites, pageless)
    proposed = next((f for f in static if f.reason is None), None)
    site = next((s for s in sites if proposed is not None and s.folder == proposed.path), None)
    hosts = read_by_hosts(tree, {h.output for h in hints if h.output is not None})
    packages = propose(found, hints, site, module, root.name, hosts)
    routes = service_worker_routes(tree, proposed.path) if proposed is not None else []
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(render_config(packages, static, routes))
    return Proposal(target, tuple(packages), tuple(static), tuple(routes))


def project_import_path(root: Path, module: Path) -> str:
    """The import path of ROOT, a folder of the module at MODULE ('' when go.mod names none)."""
    path = module_path_of(module)
    rel = root.resolve().relative_to(module.resolve()).as_posix()
    return path if not path or rel == "." else f"{path}/{rel}"


def module_root(go: str, cwd: Path, environ: Mapping[str, str]) -> Path:
    """The root of the Go module CWD is in, as `go env GOMOD` says."""
    try:
        gomod = read_go_env(go, cwd, environ, "GOMOD")["GOMOD"]
    except ToolchainError:
        gomod = ""
    if not gomod or gomod == "/dev/null":
        raise UsageError(f"{cwd} is not inside a Go module (no go.mod): run `go mod init` first")
    return Path(gomod).parent
