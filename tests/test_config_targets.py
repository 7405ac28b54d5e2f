"""wasmship.toml, several targets, budgets, GitHub Actions output and `wasmship init`, for real."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, base_env, build_fixture, manifest_of
from tests.test_build import run_in_node
from tests.test_errors import assert_clean_failure
from wasmship.smoke.wasi import run_wasi

MULTI_CONFIG = """\
[[target]]
name = "app"
package = "./cmd/app"

[[target]]
name = "worker"
package = "./cmd/worker"

[[target]]
name = "plugin"
package = "./cmd/plugin"
goos = "wasip1"
"""


def node_output(go: Go, dist: Path, tmp_path: Path) -> str:
    proc = run_in_node(go, dist, tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_config_file_is_found_upward_and_flags_env_file_defaults_stack(
    go: Go, hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    (hello / "wasmship.toml").write_text('out = "public"\nldflags = "-X main.message=from-file"\n')
    sub = hello / "sub"
    sub.mkdir()
    proc = wasmship("build", "-q", cwd=sub)
    assert proc.returncode == 0, proc.stderr
    assert not (sub / "public").exists()
    assert node_output(go, hello / "public", tmp_path / "1") == "from-file\n"

    env = base_env(WASMSHIP_GO=go.binary, WASMSHIP_LDFLAGS="-X main.message=from-env")
    proc = wasmship("build", "-q", cwd=sub, env=env)
    assert proc.returncode == 0, proc.stderr
    assert node_output(go, hello / "public", tmp_path / "2") == "from-env\n"

    proc = wasmship("build", "-q", "--ldflags", "-X main.message=from-flag", cwd=sub, env=env)
    assert proc.returncode == 0, proc.stderr
    assert node_output(go, hello / "public", tmp_path / "3") == "from-flag\n"

    # A relative --out on the command line is from the working directory, as with any tool.
    proc = wasmship("build", "-q", "--out", "here", cwd=sub)
    assert proc.returncode == 0, proc.stderr
    assert (sub / "here" / "manifest.json").is_file()


def test_a_bad_key_names_file_line_and_near_miss(hello: Path, wasmship: Run) -> None:
    (hello / "wasmship.toml").write_text('out = "dist"\n\nlock-timout = 3\n')
    proc = wasmship("build", cwd=hello)
    assert_clean_failure(
        proc, 2, "wasmship.toml:3: unknown key 'lock-timout' (did you mean 'lock-timeout'?)"
    )
    assert not (hello / "dist").exists()


def test_explicit_config_option(hello: Path, wasmship: Run, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('jobs = "many"\n')
    proc = wasmship("build", "--config", str(other), cwd=hello)
    assert_clean_failure(proc, 2, f"{other}:1: jobs must be a number")


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The multi fixture built once with two browser targets and a wasip1 plugin."""
    return build_fixture(
        tmp_path_factory.mktemp("multi"), go, "multi", "--jobs", "2", config=MULTI_CONFIG
    )


def targets_of(dist: Path) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in manifest_of(dist)["targets"]}  # type: ignore[attr-defined]


def test_targets_share_one_shim_and_one_dist(multi: Path) -> None:
    targets = targets_of(multi / "dist")
    assert list(targets) == ["app", "worker", "plugin"]
    app, worker, plugin = targets["app"], targets["worker"], targets["plugin"]
    assert set(app["files"]) == {
        "app.wasm",
        "wasm_exec.js",
        "loader.js",
        "loader.css",
        "index.html",
    }
    assert set(worker["files"]) == {"worker.wasm", "wasm_exec.js"}
    assert app["files"]["wasm_exec.js"] == worker["files"]["wasm_exec.js"]
    assert (plugin["goos"], set(plugin["files"])) == ("wasip1", {"plugin.wasm"})
    assert plugin["package"] == "example.com/multi/cmd/plugin"
    shims = [p for p in (multi / "dist").iterdir() if p.name.startswith("wasm_exec.")]
    assert len([p for p in shims if p.suffix == ".js"]) == 1
    page = (multi / "dist" / "index.html").read_text()
    assert app["files"]["app.wasm"]["path"] in page


def test_the_wasip1_target_runs_under_wasmtime(multi: Path) -> None:
    plugin = targets_of(multi / "dist")["plugin"]["files"]["plugin.wasm"]
    result = run_wasi(multi / "dist" / plugin["path"], timeout=60, memory=256 << 20)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "plugin says hi\n",
        "plugin stderr\n",
    )


def test_smoke_runs_every_target(multi: Path, wasmship: Run) -> None:
    proc = wasmship("smoke", cwd=multi)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "app running\nplugin says hi\nworker running\n" or sorted(
        proc.stdout.splitlines()
    ) == ["app running", "plugin says hi", "worker running"]
    for name in ("app", "worker", "plugin"):
        assert f"smoke {name}: ok" in proc.stderr


def test_a_runaway_wasip1_module_is_stopped(project: Callable[[str], Path], go: Go) -> None:
    spin = project("spin")
    module = spin / "spin.wasm"
    subprocess.run(
        [go.binary, "build", "-o", str(module), "."],
        cwd=spin,
        env=base_env(GOOS="wasip1", GOARCH="wasm"),
        check=True,
    )
    result = run_wasi(module, timeout=2)
    assert result.exit_code == -1 and result.trap


def test_target_option_builds_a_subset(multi: Path, wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("build", "-q", "--target", "plugin", "--out", str(tmp_path / "p"), cwd=multi)
    assert proc.returncode == 0, proc.stderr
    assert list(targets_of(tmp_path / "p")) == ["plugin"]
    assert sorted(
        p.name for p in (tmp_path / "p").iterdir() if not p.name.endswith((".br", ".gz"))
    ) == ["manifest.json", targets_of(tmp_path / "p")["plugin"]["files"]["plugin.wasm"]["path"]]
    bad = wasmship("build", "--target", "nope", cwd=multi)
    assert_clean_failure(bad, 2, "--target nope: no such target", "app, worker, plugin")


def test_duplicate_target_names(multi: Path, wasmship: Run, tmp_path: Path) -> None:
    config = tmp_path / "dup.toml"
    config.write_text('[[target]]\nname = "a"\n\n[[target]]\nname = "a"\n')
    proc = wasmship("build", "--config", str(config), cwd=multi)
    assert_clean_failure(proc, 2, f"{config}:4:", "used twice")


def test_budgets_fail_the_build_but_write_the_dist(hello: Path, wasmship: Run) -> None:
    proc = wasmship(
        "build", "--json", "--budget", "main:br=10KB", "--budget", "main:raw=50MiB", cwd=hello
    )
    assert_clean_failure(proc, 1, "main.br is", "over its budget of 9.8 KiB by", "dist was written")
    document = json.loads(proc.stdout)
    budgets = {(b["encoding"], b["exceeded"]) for b in document["budgets"]}
    assert budgets == {("br", True), ("raw", False)}
    assert (hello / "dist" / "manifest.json").is_file()

    (hello / "wasmship.toml").write_text('[budget]\nmain.br = "10 MiB"\n')
    ok = wasmship("build", "-q", cwd=hello)
    assert ok.returncode == 0, ok.stderr

    bad = wasmship("build", "--budget", "app:br=1MiB", cwd=hello)
    assert_clean_failure(bad, 2, "budget app.br: there is no target 'app'")


def test_github_actions_summary_and_annotations(
    go: Go, hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    env = base_env(WASMSHIP_GO=go.binary, GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTIONS="true")
    proc = wasmship("build", "-q", "--budget", "main:gz=1KB", cwd=hello, env=env)
    assert_clean_failure(proc, 1, "::error title=wasmship::size budget exceeded")
    text = summary.read_text()
    module = manifest_of(hello / "dist")["targets"][0]["files"]["main.wasm"]["path"]  # type: ignore[index]
    assert "| file | size | br | gzip |" in text and f"`{module}`" in text
    assert "| main.gzip | 1000 B |" in text and "over" in text


def test_init_writes_a_config_once(project: Callable[[str], Path], wasmship: Run) -> None:
    root = project("multi")
    proc = wasmship("init", cwd=root / "cmd")
    assert proc.returncode == 0, proc.stderr
    written = (root / "wasmship.toml").read_text()
    assert written.count("[[target]]") == 3 and "internal/lib" not in written
    assert 'package = "./cmd/plugin"' in written
    assert "wasmship build --quiet" in proc.stdout and "wasmship verify dist" in proc.stdout
    again = wasmship("init", cwd=root)
    assert_clean_failure(again, 1, "already exists", "never overwrites")
    assert (root / "wasmship.toml").read_text() == written
    built = wasmship("build", "-q", "--target", "worker", cwd=root)
    assert built.returncode == 0, built.stderr


def test_init_outside_a_module(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("init", cwd=tmp_path)
    assert_clean_failure(proc, 2, "not inside a Go module")
    assert not (tmp_path / "wasmship.toml").exists()
