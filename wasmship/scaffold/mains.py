"""The module's main packages, each as what it builds for: a page (js), a wasip1 guest, or neither.

A package is listed twice, as `go build` would see it for GOOS=js and for GOOS=wasip1: files with
a `wasip1` build tag are invisible to a js listing, and a guest may have no others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmship.errors import UsageError
from wasmship.toolchain.golist import BROWSER_FIELDS, browser_reason, go_list
from wasmship.toolchain.runner import go_environ

# `//go:wasmexport name` and `//go:wasmimport module name` at the start of a line.
_DIRECTIVE = re.compile(rb"^//go:wasm(export|import)\s", re.MULTILINE)
# A reactor's `func main() {}`: never run, the host calls the exports.
_EMPTY_MAIN = re.compile(rb"^func main\(\)\s*\{\s*\}", re.MULTILINE)
_MAIN = re.compile(rb"^func main\(\)", re.MULTILINE)
MAX_SOURCE_BYTES = 4 << 20  # a Go file larger than this is not read for directives
MAX_PACKAGES_READ = 2000  # imported packages read for //go:wasmexport, in all


@dataclass(frozen=True)
class Main:
    """A `package main` of the module, by its folder relative to the module root."""

    rel: str  # "cmd/app", "." for the root
    browser_reason: str | None  # None: it uses syscall/js; else why it does not
    exports: bool = False  # has //go:wasmexport functions
    imports: bool = False  # has //go:wasmimport functions
    wasip1_only: bool = False  # its files build for GOOS=wasip1 and not for js
    exports_via: str | None = None  # a package it imports that has //go:wasmexport functions
    has_main: bool = True  # its wasip1 files declare func main (Go needs one, TinyGo does not)

    @property
    def path(self) -> str:
        """As a package pattern: `./cmd/app`, `.`."""
        return "." if self.rel == "." else f"./{self.rel}"

    @property
    def uses_browser(self) -> bool:
        """Whether it uses syscall/js (itself or through a package of the module)."""
        return self.browser_reason is None

    @property
    def guest(self) -> str | None:
        """Why it is a wasip1 guest (a directive or its build tags), or None."""
        if self.exports:
            return "it exports functions with //go:wasmexport"
        if self.imports:
            return "it imports host functions with //go:wasmimport"
        if self.wasip1_only:
            return "its files build for GOOS=wasip1 only"
        if self.exports_via:
            return f"it imports {self.exports_via}, which exports functions with //go:wasmexport"
        return None


def _listed(go: str, root: Path, environ: Mapping[str, str], goos: str) -> list[dict[str, Any]]:
    """`go list -deps ./...` as GOOS builds it: for js, whether a main reaches syscall/js
    (browser_reason); for wasip1, whether it reaches a package with //go:wasmexport."""
    fields = BROWSER_FIELDS + ",GoFiles"
    env = go_environ(environ, goos)
    proc, packages = go_list(go, ["./..."], root, env, fields=fields, deps=True)
    if not proc.ok:
        if goos != "js":
            return []  # the js listing is the one whose failure is reported
        raise proc.error(UsageError, f"cannot list the packages of {root}")
    return packages


def _directives(package: Mapping[str, Any]) -> set[bytes]:
    """The wasm directives (`export`, `import`) in PACKAGE's Go files, `main` when it declares
    `func main()`, and `empty-main` when that is a `func main() {}`."""
    found: set[bytes] = set()
    for name in package.get("GoFiles") or []:
        path = Path(package["Dir"]) / name
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SOURCE_BYTES)
        except OSError:
            continue
        found.update(m[1] for m in _DIRECTIVE.finditer(data))
        if _MAIN.search(data):
            found.add(b"main")
        if _EMPTY_MAIN.search(data):
            found.add(b"empty-main")
    return found


def _mains(listed: list[dict[str, Any]], root: Path) -> dict[str, dict[str, Any]]:
    mains = {}
    for package in listed:
        if package.get("Name") == "main" and not package.get("DepOnly"):
            mains[Path(package["Dir"]).relative_to(root).as_posix()] = package
    return mains


def _exporting_import(
    main: Mapping[str, Any], by_path: Mapping[str, Mapping[str, Any]], read: dict[str, bool]
) -> str | None:
    """A non-standard package MAIN imports (directly or not) that has //go:wasmexport functions
    (go-plugin's guests export through its library), or None. READ caches the answers; at
    most MAX_PACKAGES_READ packages are read in all."""
    seen, stack = {main["ImportPath"]}, [main]
    while stack:
        package = stack.pop()
        for path in package.get("Imports") or []:
            imported = by_path.get(path)
            if path in seen or imported is None or imported.get("Standard"):
                continue
            seen.add(path)
            if path not in read and len(read) < MAX_PACKAGES_READ:
                read[path] = b"export" in _directives(imported)
            if read.get(path):
                return str(path)
            stack.append(imported)
    return None


def find_mains(go: str, root: Path, environ: Mapping[str, str]) -> list[Main]:
    """Every `package main` under ROOT, as js and wasip1 see it, sorted by folder."""
    js_listed = _listed(go, root, environ, "js")
    wasi_listed = _listed(go, root, environ, "wasip1")
    js_by_path = {p["ImportPath"]: p for p in js_listed}
    wasi_by_path = {p["ImportPath"]: p for p in wasi_listed}
    js_mains, wasi_mains = _mains(js_listed, root), _mains(wasi_listed, root)
    read: dict[str, bool] = {}
    found = []
    for rel in sorted(js_mains.keys() | wasi_mains.keys()):
        js, wasi = js_mains.get(rel), wasi_mains.get(rel)
        reason = browser_reason(js, js_by_path) if js is not None else "it does not build for js"
        directives = _directives(wasi) if wasi is not None else set()
        via = None
        if wasi is not None and reason is not None and directives == {b"main", b"empty-main"}:
            # An empty main that imports exports is a reactor; a host importing the same
            # generated package (go-plugin's) has a main that does the work.
            via = _exporting_import(wasi, wasi_by_path, read)
        found.append(
            Main(
                rel=rel,
                browser_reason=reason,
                exports=b"export" in directives,
                imports=b"import" in directives,
                wasip1_only=js is None,
                exports_via=via,
                has_main=wasi is None or b"main" in directives,
            )
        )
    return found
