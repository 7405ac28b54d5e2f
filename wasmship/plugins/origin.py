"""Which Go package pulled an import into a module: asked of Go's own linker.

The linker marks every symbol the program can reach, starting from its entry point; with
`-ldflags=-dumpdep` it prints `parent -> symbol` for each symbol the first time it marks it, so
the lines form a tree. Built once more with inlining off (`-gcflags=all=-l`, or a call would
be folded into its caller), the path from an import's Go function (the one `//go:wasmimport`
declares) up to the first package outside the standard library names the code that needs it.
The path is exact, but it is the first one the linker found: other code may need it too.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from wasmship.distformat.plugin import Import
from wasmship.toolchain.buildline import BuildLine
from wasmship.toolchain.dumpdep import Graph, parse_dumpdep, path_to
from wasmship.toolchain.golist import go_list
from wasmship.toolchain.runner import run_build
from wasmship.toolchain.symbols import function_package

_WASMIMPORT = re.compile(r"^//go:wasmimport\s+(\S+)\s+(\S+)\s*$")
_FUNC = re.compile(r"^func\s+(\w+)\s*[\[(]")


def declared_imports(packages: Iterable[Mapping[str, object]]) -> dict[str, set[str]]:
    """`module.name` -> the linker symbols of the Go functions `//go:wasmimport` binds to it."""
    found: dict[str, set[str]] = {}
    for package in packages:
        prefix = "main" if package.get("Name") == "main" else str(package.get("ImportPath", ""))
        folder = Path(str(package.get("Dir", "")))
        for name in package.get("GoFiles") or []:  # type: ignore[attr-defined]
            try:
                lines = (folder / str(name)).read_text("utf-8", "replace").splitlines()
            except OSError:
                continue
            pending: str | None = None
            for line in lines:
                directive = _WASMIMPORT.match(line)
                if directive:
                    pending = f"{directive.group(1)}.{directive.group(2)}"
                    continue
                func = _FUNC.match(line) if pending else None
                if func and pending:
                    found.setdefault(pending, set()).add(f"{prefix}.{func.group(1)}")
                    pending = None
                elif pending and line.strip() and not line.startswith("//"):
                    pending = None
    return found


def is_standard(package: str) -> bool:
    """Whether PACKAGE is in Go's standard library (its first element has no dot)."""
    return package != "main" and "." not in package.split("/", 1)[0]


def describe(item: Import, symbols: Iterable[str], graph: Graph, main: str) -> str:
    """`pulled in by example.com/x (x.Read → os.ReadFile → … → syscall.path_open)`, or ""."""
    for symbol in sorted(s for s in symbols if s in graph.reached):
        path = path_to(symbol, graph)
        ours = [n for n, s in enumerate(path) if not is_standard(function_package(s))]
        if not ours:
            return f"pulled in by the Go runtime ({_chain(path[-3:])})"
        first = ours[-1]  # the deepest of the program's own functions: the one that needs it
        package = function_package(path[first])
        package = main if package == "main" else package
        return f"pulled in by {package} ({_chain(path[first:])})"
    return ""


def _chain(path: list[str]) -> str:
    shown = path if len(path) <= 4 else [*path[:2], "…", path[-1]]
    return " → ".join(shown)


def find_origins(
    build: BuildLine, run_dir: Path, env: Mapping[str, str], items: Iterable[Import], main: str
) -> dict[Import, str]:
    """How each of ITEMS got into the module that BUILD makes, or {} when Go cannot say (the
    message then goes without it)."""
    items = list(items)
    fields = "ImportPath,Name,Dir,GoFiles"
    listed, packages = go_list(
        build.go, [build.package], run_dir, env, fields=fields, deps=True, tags=build.tags
    )
    if not listed.ok:
        return {}
    declared = declared_imports(packages)
    with tempfile.TemporaryDirectory(prefix="wasmship-origin-") as tmp:
        dump = run_build(build.with_origins(Path(tmp) / "origin.wasm"), run_dir, env)
    if not dump.ok:
        return {}
    graph = parse_dumpdep(dump.stdout + dump.stderr)
    return {item: describe(item, declared.get(item.key, ()), graph, main) for item in items}
