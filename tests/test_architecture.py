"""The layout keeps its promises: no import cycle, one owner of the dist format, benchmarks run."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO, base_env

PACKAGE = REPO / "wasmship"
DIST = PACKAGE / "distformat"
STEPS = PACKAGE / "builder" / "steps"
TOOLCHAIN = PACKAGE / "toolchain"
# Modules that run a program other than go themselves: Node.js (smoke) and the wazero runner
# that plugins/wazero.py built (through the toolchain package) and now runs.
OTHER_TOOLS = {PACKAGE / "smoke/node.py", PACKAGE / "plugins/wazero.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> list[str]:
    return sorted(module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def wasmship_imports(path: Path) -> set[str]:
    """Every wasmship module PATH imports, at any depth of its code (inside functions too)."""
    known = set(modules()) | {"wasmship"}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("wasmship"):
                # `from wasmship.cli import build` imports the module wasmship.cli.build.
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("wasmship"))
    return found


def source_of(name: str) -> Path:
    path = REPO.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    # A cycle hidden by import order fails here: each module is the first one imported.
    def load(name: str) -> tuple[str, int, list[str]]:
        proc = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            env=base_env(),
            capture_output=True,
            text=True,
        )
        return name, proc.returncode, proc.stderr.strip().splitlines()[-1:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [r for r in pool.map(load, modules()) if r[1] != 0]
    assert len(modules()) > 40
    assert failed == []


def test_no_import_cycle_even_inside_functions() -> None:
    graph = {name: wasmship_imports(source_of(name)) - {name} for name in modules()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for child in sorted(graph.get(name, ())):
            if state.get(child) == 1:
                cycles.append(" -> ".join([*path[path.index(child) :], child]))
            elif child not in state:
                visit(child, [*path, child])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_dist_package_depends_only_on_errors() -> None:
    outside = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in DIST.rglob("*.py")
        for name in wasmship_imports(path)
        if name not in ("wasmship", "wasmship.errors")
        and not name.startswith("wasmship.distformat")
    }
    assert outside == set()


def test_steps_do_not_import_each_other() -> None:
    # The pipeline orders the steps; what two steps share lives in a builder module.
    crossing = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in STEPS.glob("*.py")
        for name in wasmship_imports(path)
        if name.startswith("wasmship.builder.steps.") and name != module_name(path)
    }
    assert crossing == set()


def test_no_module_outside_dist_reads_or_writes_manifest_json_itself() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if DIST in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        if '"manifest.json"' in text or "dict[str, Any] manifest" in text:
            offenders.append(str(path.relative_to(REPO)))
        # The only JSON these modules parse is what `go env` and `go list` print (toolchain/),
        # the size data `wasmship size` keeps in its cache (size/store.py), and the wazero
        # runner's report (plugins/wazero.py).
        own = (
            TOOLCHAIN in path.parents
            or path == PACKAGE / "size/store.py"
            or path == PACKAGE / "plugins/wazero.py"
        )
        if "json.loads" in text and not own:
            offenders.append(f"{path.relative_to(REPO)} (json.loads)")
    assert offenders == []


def spawning_imports(path: Path) -> set[str]:
    """The modules PATH imports that start other programs."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in ("subprocess", "asyncio", "pty")}


def test_only_the_toolchain_package_runs_go() -> None:
    offenders = {
        f"{path.relative_to(REPO)} imports {', '.join(sorted(spawning))}"
        for path in PACKAGE.rglob("*.py")
        if TOOLCHAIN not in path.parents and path not in OTHER_TOOLS
        for spawning in [spawning_imports(path)]
        if spawning
    }
    assert offenders == set()
    # and nothing outside asks the os to start one
    assert not [p for p in PACKAGE.rglob("*.py") if "os.system(" in p.read_text(encoding="utf-8")]


def test_plugins_do_not_import_the_builder() -> None:
    found = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in (PACKAGE / "plugins").rglob("*.py")
        for name in wasmship_imports(path)
        if name == "wasmship.builder" or name.startswith("wasmship.builder.")
    }
    assert found == set()


def test_the_architecture_doc_names_every_package() -> None:
    # docs/architecture.md is the map: a package missing from its tree is a room nobody shows.
    tree = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8").split("```")[1]
    named: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = re.match(r"^( *)([a-z_]+)/(?: |$)", line)
        if not match:
            continue
        depth = len(match.group(1))
        parents = [(d, n) for d, n in parents if d < depth]
        path = "/".join([*(n for _, n in parents), match.group(2)])
        parents.append((depth, match.group(2)))
        named.add(path)
    packages = {
        str(init.parent.relative_to(REPO))
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }
    assert packages - named == set()


@pytest.mark.parametrize("script", ["run.py", "deltas.py", "startup.py"])
def test_benchmarks_run(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--help"],
        env=base_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")
