"""The text of the wasmship.toml init writes: what it proposes set, the rest commented out."""

from __future__ import annotations

import json
import textwrap

from wasmship.scaffold.propose import MainPackage, StaticFolder
from wasmship.toolchain.golist import BROWSER_API

REACTOR = 'env = { GOFLAGS = "-buildmode=c-shared" }  # a reactor: the host calls its exports'


def comment(text: str) -> list[str]:
    """TEXT as comment lines that fit the file's width."""
    return [f"# {line}" for line in textwrap.wrap(text, width=92)]


def _target(package: MainPackage) -> list[str]:
    """PACKAGE's [[target]] table: after what it is built for, or commented out with why not."""
    goos = f'goos = "{package.goos}"'
    aside = '# or "wasip1" for a server-side plugin' if package.goos == "js" else "# a guest"
    block = [
        "[[target]]",
        f"name = {repr_toml(package.name)}",
        f"package = {repr_toml(package.path)}",
        f"{goos:<27}{aside}",
    ]
    if package.tags:
        block.append(f"tags = {json.dumps(list(package.tags))}")
    if package.folder:
        folder = f"folder = {repr_toml(package.folder)}"
        where = "the host reads" if package.fixed else "the pages load"
        block.append(f"{folder:<27}# where {where} it from")
    if package.fixed:
        block.append(f"{'hash = false':<27}# its plain name: {package.fixed} reads that path")
    if package.reactor:
        block.append(REACTOR)
    if package.reason is not None:
        return [*comment(f"{package.path}: {package.reason}"), *(f"# {line}" for line in block)]
    if package.why != f"uses {BROWSER_API}":
        return [*comment(package.why), *block]  # the evidence: a page, a build file, a directive
    return block


def repr_toml(text: str) -> str:
    """TEXT as a TOML basic string (JSON's escapes are TOML's): a folder or file name from the
    project never ends the string or the line."""
    return json.dumps(text, ensure_ascii=False)


def render_config(
    packages: list[MainPackage],
    static: list[StaticFolder] | None = None,
    routes: list[str] | None = None,
) -> str:
    """The commented file: targets set, other main packages commented out."""
    targets = [p for p in packages if p.is_target]
    lines = [
        "# wasmship.toml: settings for `wasmship build`. Every key is a build flag without",
        "# its dashes; flags and WASMSHIP_* variables override what is written here.",
        "# Reference: `wasmship build --help` (keys are its flags) and `wasmship init --help`.",
        "",
    ]
    if not targets:
        lines += [
            f"# No main package here uses {BROWSER_API} or is a wasip1 guest, so none was made",
            "# a target: uncomment the [[target]] you want to build below (its four lines).",
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
        key = f"static = {repr_toml(folder.path)}"
        if folder.reason is None:
            lines.append(f"{key:<27}# your web folder, copied into the dist")
        else:
            lines += [*comment(folder.reason), f"# {key}"]
    if routes:
        lines += [
            *comment("the pages fetch these and no file is there: the service worker answers"),
            f"routes = [{', '.join(repr_toml(r) for r in routes)}]",
        ]
    lines.append("")
    only = targets[0] if len(targets) == 1 and len(packages) == 1 else None
    # `package` alone builds a target named main: only where no page names the module otherwise.
    named = only is not None and only.name != "main" and only.why != f"uses {BROWSER_API}"
    if only is not None and only.goos == "js" and not only.folder and not named:
        lines += [f"package = {repr_toml(only.path)}", ""]
        budgeted = "main"
    else:
        for package in packages:
            lines += [*_target(package), ""]
        budgeted = (targets or packages)[0].name
    # A wasip1 module is not compressed unless asked: its budget is on its own size.
    first = (targets or packages)[0]
    encoding = "raw" if first.goos == "wasip1" else "br"
    lines += [
        "# [budget]                 # fail the build when a module grows past a size",
        f'# {budgeted}.{encoding} = "2 MiB"',
        "",
    ]
    return "\n".join(lines)
