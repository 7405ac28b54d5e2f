"""`wasmship clean` and `wasmship smoke` on real dists."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Run, snapshot
from tests.test_errors import FAKE_OLD_GO, assert_clean_failure


def test_smoke_runs_the_module_under_node(built_hello: Path, wasmship: Run) -> None:
    proc = wasmship("smoke", str(built_hello), cwd=built_hello.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello from Go WebAssembly\n"
    assert "smoke main: ok" in proc.stderr


def test_smoke_fails_when_the_module_panics(project: Callable[[str], Path], wasmship: Run) -> None:
    app = project("panic")
    built = wasmship("build", "-q", cwd=app)
    assert built.returncode == 0, built.stderr
    proc = wasmship("smoke", cwd=app)
    assert_clean_failure(proc, 1, "panic: boom", "smoke main: exit 2", "smoke failed for main")
    assert proc.stdout == "about to panic\n"


def test_smoke_refuses_a_different_go(built_hello: Path, wasmship: Run, tmp_path: Path) -> None:
    fake = tmp_path / "go"
    fake.write_text(FAKE_OLD_GO.replace("go1.20.14", "go1.99.0"))
    fake.chmod(0o755)
    proc = wasmship("smoke", str(built_hello), "--go", str(fake), cwd=tmp_path)
    assert_clean_failure(proc, 2, "was built with go1.", "go1.99.0", "wasm_exec_node.js")


def test_smoke_without_a_dist(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("smoke", "nowhere", cwd=tmp_path)
    assert_clean_failure(proc, 2, "has no manifest.json")


def test_clean_removes_the_dist_and_stale_staging(built_hello: Path, wasmship: Run) -> None:
    root = built_hello.parent.parent / "clean-me"
    shutil.copytree(built_hello, root / "dist")
    (root / ".dist.wasmship-staging-99999").mkdir()
    (root / ".dist.wasmship-staging-99999" / "main.wasm").write_bytes(b"half")
    (root / "keep.txt").write_text("mine")
    proc = wasmship("clean", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["keep.txt"]
    assert "removed" in proc.stdout
    again = wasmship("clean", cwd=root)
    assert again.returncode == 0 and "nothing to clean" in again.stdout


def test_clean_refuses_a_folder_wasmship_did_not_write(wasmship: Run, tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "precious.txt").write_text("x")
    before = snapshot(tmp_path)
    proc = wasmship("clean", cwd=tmp_path)
    assert_clean_failure(proc, 2, "refusing to remove", "no wasmship manifest.json")
    assert snapshot(tmp_path) == before
