"""`wasmship init`: write a commented wasmship.toml for the current Go module."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.build.config import CONFIG_NAME
from wasmship.build.toolchain import go_environ
from wasmship.errors import UsageError, WasmshipError

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
class MainPackage:
    """A main package found in the module, relative to the module root."""

    name: str
    path: str  # "./cmd/app"


def find_main_packages(go: str, root: Path, environ: Mapping[str, str]) -> list[MainPackage]:
    """Every `package main` under ROOT that builds for js/wasm."""
    proc = subprocess.run(
        [go, "list", "-e", "-json=Name,Dir,ImportPath", "./..."],
        cwd=root,
        env=go_environ(environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UsageError(f"cannot list the packages of {root}:\n{proc.stderr.strip()}")
    decoder = json.JSONDecoder()
    text, index, found = proc.stdout, 0, []
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        package, index = decoder.raw_decode(text, index)
        if package.get("Name") == "main":
            rel = Path(package["Dir"]).relative_to(root).as_posix()
            found.append(rel)
    names: set[str] = set()
    packages = []
    for rel in sorted(found):
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(rel).name if rel != "." else root.name)
        name, n = base or "main", 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.add(name)
        packages.append(MainPackage(name=name, path="." if rel == "." else f"./{rel}"))
    return packages


def render_config(packages: list[MainPackage]) -> str:
    """The commented file: one package at the top level, several as [[target]] tables."""
    lines = [
        "# wasmship.toml: settings for `wasmship build`. Every key is a build flag without",
        "# its dashes; flags and WASMSHIP_* variables override what is written here.",
        "# Reference: `wasmship build --help` (keys are its flags) and `wasmship init --help`.",
        "",
        '# out = "dist"             # the dist folder, relative to this file',
        "# tags = []                # build tags",
        '# ldflags = ""             # appended to -ldflags "-s -w"',
        "# hash = true              # content-hashed names",
        '# server-config = ["nginx", "caddy", "netlify", "apache"]',
        "",
    ]
    if len(packages) == 1:
        lines += [f'package = "{packages[0].path}"', ""]
    else:
        for package in packages:
            lines += [
                "[[target]]",
                f'name = "{package.name}"',
                f'package = "{package.path}"',
                'goos = "js"                # or "wasip1" for a server-side plugin',
                "",
            ]
    lines += [
        "# [budget]                 # fail the build when a module grows past a size",
        f'# {packages[0].name if len(packages) > 1 else "main"}.br = "2 MiB"',
        "",
    ]
    return "\n".join(lines)


def init(root: Path, go: str, environ: Mapping[str, str]) -> tuple[Path, list[MainPackage]]:
    """Write ROOT/wasmship.toml; never overwrite one."""
    target = root / CONFIG_NAME
    if target.exists():
        raise WasmshipError(f"{target} already exists; wasmship init never overwrites it")
    packages = find_main_packages(go, root, environ)
    if not packages:
        raise UsageError(f"no main package under {root} builds for GOOS=js: nothing to configure")
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(render_config(packages))
    return target, packages


def module_root(go: str, cwd: Path, environ: Mapping[str, str]) -> Path:
    """The root of the Go module CWD is in, as `go env GOMOD` says."""
    proc = subprocess.run(
        [go, "env", "GOMOD"], cwd=cwd, env=dict(environ), capture_output=True, text=True
    )
    gomod = proc.stdout.strip()
    if proc.returncode != 0 or not gomod or gomod == "/dev/null":
        raise UsageError(f"{cwd} is not inside a Go module (no go.mod): run `go mod init` first")
    return Path(gomod).parent
