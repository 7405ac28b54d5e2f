"""wasmship.toml, several targets, budgets, GitHub Actions output and `wasmship init`, for real."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, base_env, build_fixture, manifest_of, snapshot
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
        "icon.svg",
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


def test_the_wasip1_target_runs_under_wazero(multi: Path) -> None:
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
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    written = (root / "wasmship.toml").read_text()
    # None of these programs uses syscall/js: each is a candidate to uncomment, not a target.
    assert written.count("# [[target]]") == 3 and "internal/lib" not in written
    assert '# package = "./cmd/plugin"' in written
    assert "wasmship build --quiet" in proc.stdout and "wasmship verify dist" in proc.stdout
    again = wasmship("init", cwd=root)
    assert_clean_failure(again, 1, "already exists", "never overwrites")
    assert (root / "wasmship.toml").read_text() == written
    enabled = written.replace('# [[target]]\n# name = "worker"', '[[target]]\nname = "worker"')
    enabled = enabled.replace(
        '# package = "./cmd/worker"\n# goos', 'package = "./cmd/worker"\ngoos'
    )
    (root / "wasmship.toml").write_text(enabled)
    built = wasmship("build", "-q", "--target", "worker", cwd=root)
    assert built.returncode == 0, built.stderr


def test_init_outside_a_module(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("init", cwd=tmp_path)
    assert_clean_failure(proc, 2, "not inside a Go module")
    assert not (tmp_path / "wasmship.toml").exists()


def files_and_bytes(dist: Path, target: dict[str, Any]) -> dict[str, bytes]:
    """Every file and variant a manifest target lists, with the bytes the dist holds for it."""
    paths = set()
    for entry in target["files"].values():
        paths.add(entry["path"])
        paths.update(v["path"] for v in entry["encodings"].values())
    return {path: (dist / path).read_bytes() for path in sorted(paths)}


def without_deltas(targets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """TARGETS with the dcz variants left out of every file entry."""
    stripped = copy.deepcopy(targets)
    for target in stripped.values():
        for entry in target["files"].values():
            entry["encodings"] = {
                key: v for key, v in entry["encodings"].items() if not key.startswith("dcz-")
            }
    return stripped


def test_target_rebuilds_one_and_carries_the_others(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    root = project("multi")
    (root / "wasmship.toml").write_text(MULTI_CONFIG)
    dist = root / "dist"
    worker = root / "cmd" / "worker" / "main.go"
    worker_source = worker.read_text()
    for message in ("worker v1 running", "worker running"):  # an earlier worker is kept
        worker.write_text(worker_source.replace("worker running", message))
        full = wasmship("build", "-q", cwd=root)
        assert full.returncode == 0, full.stderr
    first = without_deltas(targets_of(dist))
    others = {name: files_and_bytes(dist, first[name]) for name in ("worker", "plugin")}
    page = (dist / "index.html").read_bytes()
    app = root / "cmd" / "app" / "main.go"
    app_source = app.read_text()
    modules = [first["app"]["files"]["app.wasm"]["path"]]
    worker_deltas = []
    for n in range(1, 4):
        app.write_text(app_source.replace("app running", f"app v{n} running"))
        proc = wasmship("build", "-q", "--target", "app", cwd=root)
        assert proc.returncode == 0, proc.stderr
        targets = targets_of(dist)
        assert list(targets) == ["app", "worker", "plugin"]
        for name in ("worker", "plugin"):
            assert without_deltas(targets)[name] == first[name]
            assert files_and_bytes(dist, without_deltas(targets)[name]) == others[name]
        module = targets["app"]["files"]["app.wasm"]["path"]
        assert module not in modules and (dist / module).is_file()
        modules.append(module)
        assert f'data-wasm="{module}"' in (dist / "index.html").read_text()
        encodings = targets["worker"]["files"]["worker.wasm"]["encodings"]
        worker_deltas.append(sum(key.startswith("dcz-") for key in encodings))
        verify = wasmship("verify", "--strict", "-q", str(dist), cwd=root)
        assert verify.returncode == 0, verify.stderr
    # --keep 2 counts builds for every target: worker v1 is kept (its delta with it) until it
    # is three builds old; app keeps the two modules before the current one.
    assert worker_deltas == [1, 0, 0]
    kept = manifest_of(dist)["previous"]
    assert {k["path"] for k in kept if k["logical"] == "app.wasm"} == set(modules[1:3])
    assert {k["target"] for k in kept} == {"app"}

    # The page belongs to app even when only worker is built: unchanged, it is the same bytes.
    app.write_text(app_source)  # changed, but not built: the dist keeps app v3
    before = without_deltas(targets_of(dist))  # app's delta from its oldest version goes
    current = {name: files_and_bytes(dist, before[name]) for name in before}
    proc = wasmship("build", "-q", "--target", "worker", cwd=root)
    assert proc.returncode == 0, proc.stderr
    after = without_deltas(targets_of(dist))
    assert after == before
    assert {name: files_and_bytes(dist, after[name]) for name in after} == current
    assert page != (dist / "index.html").read_bytes()  # it starts app v3, not the first app


def test_target_refuses_to_carry_a_target_whose_settings_changed(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    root = project("multi")
    (root / "wasmship.toml").write_text(MULTI_CONFIG)
    dist = root / "dist"
    assert wasmship("build", "-q", cwd=root).returncode == 0
    before = snapshot(dist)
    moved = MULTI_CONFIG.replace('"./cmd/worker"\n', '"./cmd/worker"\nfolder = "w"\n')
    (root / "wasmship.toml").write_text(moved)
    proc = wasmship("build", "--target", "app", cwd=root)
    assert_clean_failure(
        proc,
        2,
        "cannot carry target 'worker' over: its settings changed since the dist was built "
        "(folder '' -> 'w'); build it too (--target worker) or build every target",
    )
    assert snapshot(dist) == before
    proc = wasmship("build", "--target", "app", "--tags", "extra", cwd=root)  # flags for all
    assert_clean_failure(proc, 2, "cannot carry target 'worker' over", "tags () -> ('extra',)")
    proc = wasmship("build", "-q", "--target", "app", "--target", "worker", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert targets_of(dist)["worker"]["files"]["worker.wasm"]["path"].startswith("w/")


def test_target_refuses_to_carry_a_damaged_target(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    root = project("multi")
    (root / "wasmship.toml").write_text(MULTI_CONFIG)
    dist = root / "dist"
    assert wasmship("build", "-q", cwd=root).returncode == 0
    worker = targets_of(dist)["worker"]["files"]["worker.wasm"]
    (dist / worker["encodings"]["br"]["path"]).write_bytes(b"not brotli")
    before = snapshot(dist)
    proc = wasmship("build", "--target", "app", cwd=root)
    assert_clean_failure(
        proc,
        2,
        f"cannot carry target 'worker' over: {worker['encodings']['br']['path']} does not match",
        "build it too (--target worker) or build every target",
    )
    assert snapshot(dist) == before

    manifest = manifest_of(dist)
    manifest["go"]["version"] = "go1.21.0"
    (dist / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(dist)
    proc = wasmship("build", "--target", "app", cwd=root)
    assert_clean_failure(proc, 2, "was built with go1.21.0", "build every target")
    assert snapshot(dist) == before

    (dist / "manifest.json").write_text(json.dumps({**manifest, "targets": 5}))
    before = snapshot(dist)
    proc = wasmship("build", "--target", "app", cwd=root)
    assert_clean_failure(
        proc, 2, "manifest.json cannot be read", "(worker, plugin) cannot be carried over"
    )
    assert snapshot(dist) == before


def test_budgets_of_carried_targets_are_checked(multi: Path, wasmship: Run, tmp_path: Path) -> None:
    out = str(tmp_path / "dist")
    tight = ("--budget", "worker:raw=1KB")
    first = wasmship("build", "-q", "--target", "app", *tight, "--out", out, cwd=multi)
    assert first.returncode == 0, first.stderr  # the dist has no worker yet: nothing to check
    assert wasmship("build", "-q", "--out", out, cwd=multi).returncode == 0
    # worker is carried over, not built: the dist it is in is still over its budget.
    proc = wasmship("build", "-q", "--target", "app", *tight, "--out", out, cwd=multi)
    assert_clean_failure(proc, 1, "worker.raw is", "over its budget of 1000 B")
    assert list(targets_of(tmp_path / "dist")) == ["app", "worker", "plugin"]


SERVER = """package main

import "net/http"

func main() { http.ListenAndServe(":8080", http.FileServer(http.Dir("."))) }
"""


def test_a_config_that_names_no_package_does_not_build_a_server_as_the_page(
    wasmship: Run, tmp_path: Path
) -> None:
    # Issue 24 #16: wasmship.toml with neither `package` nor [[target]] would build ".", here
    # the project's server; refused before anything is written, with what to write instead.
    (tmp_path / "go.mod").write_text("module example.com/site\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(SERVER)
    (tmp_path / "wasmship.toml").write_text("keep = 1\n")
    refused = wasmship("build", "-q", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "wasmship.toml names no package" in refused.stderr
    assert "(example.com/site), which does not use syscall/js" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "dist").exists()
    # Named, it is the user's choice; given on the command line, too.
    assert wasmship("build", "-q", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "wasmship.toml").write_text('keep = 1\npackage = "."\n')
    assert wasmship("build", "-q", cwd=tmp_path).returncode == 0
    # Without a wasmship.toml, `wasmship build` builds "." as go build does (Go's hello world
    # prints with fmt and no syscall/js).
    (tmp_path / "wasmship.toml").unlink()
    assert wasmship("build", "-q", cwd=tmp_path).returncode == 0
