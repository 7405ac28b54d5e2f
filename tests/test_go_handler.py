"""go/wasmshiphttp, the Go net/http handler for a dist: `go vet` and `go test` of its module, on
a real dist (two builds of the hello fixture, so it keeps a module and has a dcz delta), with the
machine's Go and, in the nox toolchain matrix, with the oldest Go wasmship supports (its go.mod
says go 1.21)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, Go, base_env, build_fixture, build_in

pytestmark = pytest.mark.toolchain

MODULE = REPO / "go" / "wasmshiphttp"


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory, go: Go) -> tuple[Path, Path]:
    """(the first build's dist, copied; the second build's dist, after a one-line change)."""
    root = tmp_path_factory.mktemp("gohandler")
    project = build_fixture(root, go, "hello")
    first = root / "first"
    shutil.copytree(project / "dist", first)
    main = project / "main.go"
    main.write_text(main.read_text().replace('"hello from Go WebAssembly"', '"hello, again"'))
    build_in(project, go)
    return first, project / "dist"


def run_go(go: Go, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [go.binary, *args],
        cwd=MODULE,
        env=base_env(GOFLAGS="", GOTOOLCHAIN="local", **env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_module_is_standard_library_only_and_go_1_21() -> None:
    lines = (MODULE / "go.mod").read_text().splitlines()
    assert lines[0] == "module github.com/wasmship/wasmship/go/wasmshiphttp"
    assert "go 1.21" in lines
    assert not any(line.startswith("require") for line in lines)
    assert not (MODULE / "go.sum").exists()


def test_go_vet_is_clean(go: Go) -> None:
    proc = run_go(go, "vet", "./...")
    assert proc.returncode == 0, proc.stderr


def test_go_test_passes_on_a_real_dist(go: Go, two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    proc = run_go(
        go,
        "test",
        "-count=1",
        "-v",
        "./...",
        WASMSHIP_TEST_DIST=str(second),
        WASMSHIP_TEST_DIST_FIRST=str(first),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The tests over the real dist ran: none skipped for want of it.
    assert "--- SKIP" not in proc.stdout, proc.stdout
    for name in ("TestServesTheDistAsServeDoes", "TestFollowsANewDist", "TestHostileManifests"):
        assert f"--- PASS: {name}" in proc.stdout
