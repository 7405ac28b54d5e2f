"""`wasmship init`: write a commented wasmship.toml for the current Go module."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmship.builder.config import CONFIG_NAME
from wasmship.distformat.names import PAGE, SHIM
from wasmship.errors import ToolchainError, UsageError, WasmshipError
from wasmship.toolchain.golist import BROWSER_API, browser_reason, go_list
from wasmship.toolchain.locate import read_go_env
from wasmship.toolchain.runner import go_environ

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

WEB_FOLDERS = ("web", "static", "public")  # in the order they are proposed


@dataclass(frozen=True)
class MainPackage:
    """A main package found in the module, relative to the module root."""

    name: str
    path: str  # "./cmd/app"
    reason: str | None = None  # why it is only a commented-out candidate; None for a target

    @property
    def is_target(self) -> bool:
        """Whether init proposes it as a browser target (it uses syscall/js)."""
        return self.reason is None


@dataclass(frozen=True)
class StaticFolder:
    """A web folder init found: proposed as `static`, or commented out with a reason."""

    path: str  # "web"; "." for the module root
    reason: str | None = None


@dataclass(frozen=True)
class Proposal:
    """What init wrote: the file, every main package and the web folders it found."""

    path: Path
    packages: tuple[MainPackage, ...]
    static: tuple[StaticFolder, ...]

    @property
    def targets(self) -> list[MainPackage]:
        """The packages written as [[target]] tables (or as `package`)."""
        return [p for p in self.packages if p.is_target]

    @property
    def candidates(self) -> list[MainPackage]:
        """The packages written commented out, each with its reason."""
        return [p for p in self.packages if not p.is_target]


def list_packages(go: str, root: Path, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The module's packages and all their dependencies as built for js/wasm: one `go list`."""
    fields = "ImportPath,Name,Dir,Imports,Standard,DepOnly,Error,DepsErrors"
    proc, packages = go_list(go, ["./..."], root, go_environ(environ), fields=fields, deps=True)
    if not proc.ok:
        raise proc.error(UsageError, f"cannot list the packages of {root}")
    return packages


def find_main_packages(go: str, root: Path, environ: Mapping[str, str]) -> list[MainPackage]:
    """Every `package main` under ROOT, each a browser target if it uses syscall/js."""
    listed = list_packages(go, root, environ)
    by_path = {p["ImportPath"]: p for p in listed}
    mains = {}
    for package in listed:
        if package.get("Name") == "main" and not package.get("DepOnly"):
            rel = Path(package["Dir"]).relative_to(root).as_posix()
            mains[rel] = browser_reason(package, by_path)
    names: set[str] = set()
    packages = []
    for rel in sorted(mains):
        label = Path(rel).name if rel != "." else root.name
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", label).lstrip(".")
        name, n = base or "main", 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.add(name)
        path = "." if rel == "." else f"./{rel}"
        packages.append(MainPackage(name=name, path=path, reason=mains[rel]))
    return packages


def find_static_folders(root: Path) -> list[StaticFolder]:
    """The web folders under ROOT; the one with an index.html is proposed if it is the only one."""
    found = [name for name in WEB_FOLDERS if (root / name).is_dir()]
    paged = [name for name in found if (root / name / PAGE).is_file()]
    if (root / PAGE).is_file():
        paged.append(".")
    folders = []
    for name in found:
        folder = root / name
        built = sorted(p.name for p in folder.iterdir() if p.name == SHIM or p.suffix == ".wasm")
        if name not in paged:
            reason = f"{name}/ has no {PAGE}: its files would be served beside wasmship's page"
        elif len(paged) > 1:
            where = " and ".join("the root" if p == "." else f"{p}/" for p in paged)
            reason = f"{where} each have an {PAGE}: keep the one that is your page"
        elif any(folder.glob("*.go")):
            reason = f"{name}/ holds Go sources, which would be published with it"
        elif built:
            reason = f"{name}/ holds {', '.join(built)}, which wasmship builds: delete them first"
        else:
            reason = None
        folders.append(StaticFolder(path=name, reason=reason))
    if "." in paged:
        # The build leaves the Go sources, go.mod, the build's files and the dist out of ".".
        reason = None
        if len(paged) > 1:
            where = " and ".join("the root" if p == "." else f"{p}/" for p in paged)
            reason = f"{where} each have an {PAGE}: keep the one that is your page"
        folders.append(StaticFolder(path=".", reason=reason))
    return folders


def comment(text: str) -> list[str]:
    """TEXT as comment lines that fit the file's width."""
    return [f"# {line}" for line in textwrap.wrap(text, width=92)]


def render_config(packages: list[MainPackage], static: list[StaticFolder] | None = None) -> str:
    """The commented file: browser targets set, other main packages commented out."""
    targets = [p for p in packages if p.is_target]
    lines = [
        "# wasmship.toml: settings for `wasmship build`. Every key is a build flag without",
        "# its dashes; flags and WASMSHIP_* variables override what is written here.",
        "# Reference: `wasmship build --help` (keys are its flags) and `wasmship init --help`.",
        "",
    ]
    if not targets:
        lines += [
            f"# No main package here uses {BROWSER_API}, so none was made a browser target:",
            "# uncomment the [[target]] you want to build below (its four lines).",
            "",
        ]
    lines += [
        '# out = "dist"             # the dist folder, relative to this file',
        "# tags = []                # build tags",
        '# ldflags = ""             # appended to -ldflags "-s -w"',
        "# hash = true              # content-hashed names",
        '# server-config = ["nginx", "caddy", "netlify", "apache"]',
    ]
    for folder in static or []:
        # Top-level keys: they must come before the first [[target]] table.
        key = f'static = "{folder.path}"'
        if folder.reason is None:
            lines.append(f"{key:<27}# your web folder, copied into the dist")
        else:
            lines += [*comment(folder.reason), f"# {key}"]
    lines.append("")
    top_level = len(targets) == 1 and len(packages) == 1
    if top_level:
        lines += [f'package = "{targets[0].path}"', ""]
    else:
        for package in packages:
            block = [
                "[[target]]",
                f'name = "{package.name}"',
                f'package = "{package.path}"',
                'goos = "js"                # or "wasip1" for a server-side plugin',
            ]
            if package.reason is not None:
                block = [f"{package.path}: {package.reason}", *block]
                block = [f"# {line}" for line in block]
            lines += [*block, ""]
    budgeted = "main" if top_level else (targets or packages)[0].name
    lines += [
        "# [budget]                 # fail the build when a module grows past a size",
        f'# {budgeted}.br = "2 MiB"',
        "",
    ]
    return "\n".join(lines)


def init(root: Path, go: str, environ: Mapping[str, str]) -> Proposal:
    """Write ROOT/wasmship.toml; never overwrite one."""
    target = root / CONFIG_NAME
    if target.exists():
        raise WasmshipError(f"{target} already exists; wasmship init never overwrites it")
    packages = find_main_packages(go, root, environ)
    if not packages:
        raise UsageError(f"no main package under {root} builds for GOOS=js: nothing to configure")
    static = find_static_folders(root)
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(render_config(packages, static))
    return Proposal(path=target, packages=tuple(packages), static=tuple(static))


def module_root(go: str, cwd: Path, environ: Mapping[str, str]) -> Path:
    """The root of the Go module CWD is in, as `go env GOMOD` says."""
    try:
        gomod = read_go_env(go, cwd, environ, "GOMOD")["GOMOD"]
    except ToolchainError:
        gomod = ""
    if not gomod or gomod == "/dev/null":
        raise UsageError(f"{cwd} is not inside a Go module (no go.mod): run `go mod init` first")
    return Path(gomod).parent
