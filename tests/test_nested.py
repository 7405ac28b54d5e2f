"""A monorepo whose examples/demo is a Go module of its own, built from the parent for real."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Go, Run, manifest_of, snapshot
from tests.test_build import run_in_node
from tests.test_errors import assert_clean_failure

pytestmark = pytest.mark.toolchain

DEMO = "hello from the demo module\n"
SHOUT = "HELLO FROM THE DEMO MODULE\n"


@pytest.fixture
def nested(project: Callable[[str], Path]) -> Path:
    return project("nested")


def node_output(go: Go, dist: Path, tmp_path: Path) -> str:
    proc: subprocess.CompletedProcess[str] = run_in_node(go, dist, tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_package_below_a_nested_module_is_refused_with_advice_that_works(
    go: Go, nested: Path, wasmship: Run, tmp_path: Path
) -> None:
    # The module's own folder is built in place, as before.
    proc = wasmship("build", "-q", "./examples/demo", cwd=nested)
    assert proc.returncode == 0, proc.stderr
    assert node_output(go, nested / "dist", tmp_path / "1") == DEMO

    before = snapshot(nested)
    proc = wasmship("build", "-q", "./examples/demo/cmd/shout", cwd=nested)
    assert_clean_failure(proc, 2)
    assert proc.stderr == (
        "wasmship: error: package './examples/demo/cmd/shout' is in examples/demo, a Go module "
        "of its own (examples/demo/go.mod): build it in that module with "
        "`cd examples/demo && wasmship build ./cmd/shout`, or a [[target]] with "
        'module = "examples/demo" and package = "./cmd/shout"\n'
    )
    assert snapshot(nested) == before

    proc = wasmship("build", "-q", "./cmd/shout", cwd=nested / "examples" / "demo")
    assert proc.returncode == 0, proc.stderr
    assert node_output(go, nested / "examples" / "demo" / "dist", tmp_path / "2") == SHOUT


def test_a_target_below_a_nested_module_is_refused_without_cd_advice(
    nested: Path, wasmship: Run
) -> None:
    # With a wasmship.toml above the module, `cd` there would still read it: only [[target]].
    (nested / "wasmship.toml").write_text(
        '[[target]]\nname = "main"\npackage = "./examples/demo/cmd/shout"\n'
    )
    before = snapshot(nested)
    proc = wasmship("build", "-q", cwd=nested)
    assert_clean_failure(
        proc,
        2,
        "is in examples/demo, a Go module of its own (examples/demo/go.mod): build it in that "
        'module with a [[target]] with module = "examples/demo" and package = "./cmd/shout"\n',
    )
    assert "cd " not in proc.stderr
    assert snapshot(nested) == before


@pytest.mark.parametrize(("package", "output"), [(None, DEMO), ("./cmd/shout", SHOUT)])
def test_a_target_with_a_module_builds_and_runs_in_that_module(
    go: Go, nested: Path, wasmship: Run, tmp_path: Path, package: str | None, output: str
) -> None:
    config = '[[target]]\nname = "main"\nmodule = "examples/demo"\n'
    if package is not None:
        config += f'package = "{package}"\n'
    (nested / "wasmship.toml").write_text(config)
    proc = wasmship("build", "-q", cwd=nested)
    assert proc.returncode == 0, proc.stderr
    assert node_output(go, nested / "dist", tmp_path / "1") == output
    import_path = "example.com/demo" + ("/cmd/shout" if package else "")
    assert manifest_of(nested / "dist")["targets"][0]["package"] == import_path

    # module is relative to wasmship.toml's folder, wherever the build starts.
    proc = wasmship("build", "-q", cwd=nested / "examples")
    assert proc.returncode == 0, proc.stderr
    assert not (nested / "examples" / "dist").exists()
    assert node_output(go, nested / "dist", tmp_path / "2") == output


@pytest.mark.parametrize(
    ("module", "missing"),
    [
        ("examples/demo/greeting", "examples/demo/greeting/go.mod"),
        ("examples/none", "examples/none"),
    ],
)
def test_a_module_that_is_not_a_go_module_is_refused(
    nested: Path, wasmship: Run, module: str, missing: str
) -> None:
    (nested / "wasmship.toml").write_text(f'[[target]]\nname = "demo"\nmodule = "{module}"\n')
    before = snapshot(nested)
    proc = wasmship("build", "-q", cwd=nested)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"wasmship: error: target 'demo': module = \"{module}\" is not a Go module: "
        f"{nested.resolve() / missing} does not exist (module names a folder with its own "
        "go.mod, relative to wasmship.toml)\n"
    )
    assert snapshot(nested) == before


def test_a_dist_holding_the_targets_module_is_refused(nested: Path, wasmship: Run) -> None:
    (nested / "wasmship.toml").write_text(
        'out = "examples"\n\n[[target]]\nname = "main"\nmodule = "examples/demo"\n'
    )
    before = snapshot(nested)
    proc = wasmship("build", "-q", cwd=nested)
    assert_clean_failure(
        proc,
        2,
        f"refusing to use {(nested / 'examples').resolve()} as the dist folder: it holds the "
        f"sources ({(nested / 'examples' / 'demo').resolve()})",
    )
    assert snapshot(nested) == before
