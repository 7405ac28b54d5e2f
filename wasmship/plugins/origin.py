"""Which Go package pulled an import into a module: asked of Go's own linker.

The linker marks every symbol the program can reach, starting from its entry point; with
`-ldflags=-dumpdep` it prints `parent -> symbol` for each symbol the first time it marks it, so
the lines form a tree. Built once more with inlining off (`-gcflags=all=-l`, or a call would
be folded into its caller), the path from an import's Go function (the one `//go:wasmimport`
declares) up to the first package outside the standard library names the code that needs it.
The path is exact, but it is the first one the linker found: other code may need it too.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from wasmship.distformat.plugin import Import

_WASMIMPORT = re.compile(r"^//go:wasmimport\s+(\S+)\s+(\S+)\s*$")
_FUNC = re.compile(r"^func\s+(\w+)\s*[\[(]")
_ARROW = " -> "


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


def reach_tree(dump: str) -> dict[str, str]:
    """symbol -> the symbol that made the linker reach it, from -dumpdep's lines."""
    parents: dict[str, str] = {}
    for line in dump.splitlines():
        parent, arrow, symbol = line.partition(_ARROW)
        if arrow and symbol not in parents:
            parents[symbol] = parent
    return parents


def package_of(symbol: str) -> str:
    """`example.com/x.(*T).Read` -> `example.com/x`; `type:*os.File` -> `os`; the linker's own
    symbols (`go:string...`, `_rt0_wasm_wasip1`) -> `runtime`."""
    if symbol.startswith("type:"):
        symbol = symbol.removeprefix("type:").lstrip("*")
    elif symbol.startswith(("go:", "_")):
        return "runtime"
    end = min((i for i in (symbol.find("("), symbol.find("[")) if i >= 0), default=len(symbol))
    slash = symbol.rfind("/", 0, end)
    dot = symbol.find(".", slash + 1)
    return symbol[:dot] if dot > 0 else symbol


def is_standard(package: str) -> bool:
    """Whether PACKAGE is in Go's standard library (its first element has no dot)."""
    return package != "main" and "." not in package.split("/", 1)[0]


def path_to(symbol: str, parents: Mapping[str, str]) -> list[str]:
    """The symbols from the entry point down to SYMBOL, as the linker reached them."""
    path = [symbol]
    while path[-1] in parents and parents[path[-1]] != "_" and len(path) < 10_000:
        path.append(parents[path[-1]])
    return path[::-1]


def describe(item: Import, symbols: Iterable[str], parents: Mapping[str, str], main: str) -> str:
    """`pulled in by example.com/x (x.Read → os.ReadFile → … → syscall.path_open)`, or ""."""
    for symbol in sorted(s for s in symbols if s in parents):
        path = path_to(symbol, parents)
        ours = [n for n, s in enumerate(path) if not is_standard(package_of(s))]
        if not ours:
            return f"pulled in by the Go runtime ({_chain(path[-3:])})"
        first = ours[-1]  # the deepest of the program's own functions: the one that needs it
        package = package_of(path[first])
        package = main if package == "main" else package
        return f"pulled in by {package} ({_chain(path[first:])})"
    return ""


def _chain(path: list[str]) -> str:
    shown = path if len(path) <= 4 else [*path[:2], "…", path[-1]]
    return " → ".join(shown)


def find_origins(
    build: list[str], run_dir: Path, env: Mapping[str, str], items: Iterable[Import], main: str
) -> dict[Import, str]:
    """How each of ITEMS got into the module that BUILD (its go build command) makes, or {}
    when Go cannot say (the message then goes without it)."""
    items = list(items)
    go, pattern = build[0], build[-1]
    tags = build[build.index("-tags") + 1] if "-tags" in build else ""
    listed = subprocess.run(
        [go, "list", "-deps", "-json=ImportPath,Name,Dir,GoFiles", "-tags", tags, "--", pattern],
        cwd=run_dir,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        return {}
    declared = declared_imports(_json_stream(listed.stdout))
    with tempfile.TemporaryDirectory(prefix="wasmship-origin-") as tmp:
        dump = subprocess.run(
            _dumpdep_command(build, Path(tmp) / "origin.wasm"),
            cwd=run_dir,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
    if dump.returncode != 0:
        return {}
    parents = reach_tree(dump.stdout + dump.stderr)
    return {item: describe(item, declared.get(item.key, ()), parents, main) for item in items}


def _dumpdep_command(build: list[str], output: Path) -> list[str]:
    """BUILD, writing OUTPUT, with inlining off and the linker's reach tree printed."""
    cmd = list(build)
    cmd[cmd.index("-o") + 1] = str(output)
    ldflags = ""
    if "-ldflags" in cmd:
        at = cmd.index("-ldflags")
        ldflags = cmd[at + 1]
        del cmd[at : at + 2]
    cut = cmd.index("--")
    cmd[cut:cut] = ["-gcflags=all=-l", "-ldflags", f"{ldflags} -dumpdep".strip()]
    return cmd


def _json_stream(text: str) -> list[dict[str, object]]:
    """`go list -json` prints one object after another, not a list."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found
