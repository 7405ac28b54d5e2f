"""wasip1 plugins running, for real: `wasmship smoke` under wazero (deadline, memory cap, no
host files, calls of exports) and examples/plugin-host, a Go host that verifies before it runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, Go, Run, base_env, build_fixture, manifest_of
from tests.test_errors import assert_clean_failure
from wasmship.cachedir import cache_root
from wasmship.plugins.wazero import Runner, pinned_wazero, runner_sources, wazero_runner

WAZERO = pinned_wazero(runner_sources()).rsplit("/", 1)[-1]  # "wazero v1.12.0"
RAN_BY = re.escape(f"({WAZERO})")
SECRET = "host-secret-7d1c"

CONFIG = """\
[[target]]
name = "add"  # a reactor: its host calls add
package = "./cmd/add"
goos = "wasip1"
env = {{ GOFLAGS = "-buildmode=c-shared" }}
allow = []

[[target]]
name = "spin"
package = "./cmd/spin"
goos = "wasip1"

[[target]]
name = "hog"
package = "./cmd/hog"
goos = "wasip1"

[[target]]
name = "reader"  # no allow list: it builds, and smoke gives it no files
package = "./cmd/reader"
goos = "wasip1"
ldflags = "-X main.path={secret}"

[[target]]
name = "mounted"
package = "./cmd/reader"
goos = "wasip1"
ldflags = "-X main.path=/note.txt"
allow = ["fs", "stdout"]

[[target]]
name = "clock"
package = "./cmd/clock"
goos = "wasip1"
allow = ["stdout"]

[[target]]
name = "realclock"
package = "./cmd/clock"
goos = "wasip1"
allow = ["stdout", "clock"]
"""


@pytest.fixture(scope="session")
def runner(go: Go) -> Runner:
    """The wazero runner, built once for the session into its cache (WASMSHIP_CACHE_DIR)."""
    return wazero_runner(go.binary, os.environ, cache_root(os.environ))


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of the host that no plugin may read."""
    path = tmp_path_factory.mktemp("host") / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory, go: Go, secret: Path, runner: Runner) -> Path:
    """The plugins fixture built once into one dist with every target."""
    root = tmp_path_factory.mktemp("plugins-dist")
    # --profile fast: seven modules of 2 MB, and these tests are about running them.
    return build_fixture(
        root, go, "plugins", "--profile", "fast", config=CONFIG.format(secret=secret)
    )


def smoke(wasmship: Run, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return wasmship("smoke", *args, cwd=project)


def verdict(proc: subprocess.CompletedProcess[str], target: str) -> str:
    found = re.search(rf"^smoke {target}: (.*) {RAN_BY}$", proc.stderr, re.M)
    assert found, proc.stderr
    return found.group(1)


def test_a_plugin_that_loops_forever_is_stopped_at_the_deadline(
    plugins: Path, wasmship: Run
) -> None:
    proc = smoke(wasmship, plugins, "--target", "spin", "--timeout", "2")
    assert_clean_failure(proc, 1, "smoke failed for spin")
    assert verdict(proc, "spin") == "stopped at the deadline: still running after 2 s (--timeout)"


def test_a_plugin_that_grows_past_the_memory_cap_is_refused(plugins: Path, wasmship: Run) -> None:
    proc = smoke(wasmship, plugins, "--target", "hog", "--memory", "32 MiB")
    assert_clean_failure(proc, 1, "smoke failed for hog")
    assert re.fullmatch(
        r"memory cap reached: it asked for 3\d\.\d MiB, the cap is 32\.0 MiB \(--memory\); "
        r"exit 2, fatal error: out of memory",
        verdict(proc, "hog"),
    ), proc.stderr
    assert proc.stdout.startswith("holding 8 MiB\n")  # what it printed before still shows


def test_a_plugin_cannot_read_the_hosts_files(plugins: Path, wasmship: Run, secret: Path) -> None:
    proc = smoke(wasmship, plugins, "--target", "reader")
    assert_clean_failure(proc, 1, "smoke failed for reader")
    assert SECRET not in proc.stdout + proc.stderr
    assert proc.stdout == f"cannot read: open {secret}: Bad file number\n"
    assert verdict(proc, "reader") == "exit 1"


def test_fs_mounts_the_dir_given_else_an_empty_folder(
    plugins: Path, wasmship: Run, tmp_path: Path
) -> None:
    (tmp_path / "note.txt").write_text("from the mounted folder")
    proc = smoke(wasmship, plugins, "--target", "mounted", "--dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "read: from the mounted folder\n"
    assert verdict(proc, "mounted") == "ok"
    proc = smoke(wasmship, plugins, "--target", "mounted")
    assert proc.stdout == "cannot read: open /note.txt: No such file or directory\n"
    # stderr is not in its allow list: smoke says why the failure comes without messages.
    assert verdict(proc, "mounted") == (
        "exit 1 (stderr is not granted: the module's messages were discarded)"
    )
    refused = smoke(wasmship, plugins, "--target", "reader", "--dir", str(tmp_path))
    assert_clean_failure(refused, 2, "no wasip1 target here is allowed the file system")


def test_an_exported_add_called_with_2_3_returns_5(plugins: Path, wasmship: Run) -> None:
    proc = smoke(wasmship, plugins, "--target", "add", "--call", "add", "2", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "5\n"
    assert verdict(proc, "add") == "add(2, 3) = 5"
    proc = smoke(wasmship, plugins, "--call", "add", "-7", "3", "--target", "add")
    assert (proc.returncode, proc.stdout) == (0, "-4\n")

    wrong = smoke(wasmship, plugins, "--target", "add", "--call", "add", "2")
    assert_clean_failure(wrong, 1, "smoke failed for add")
    assert verdict(wrong, "add") == "add takes 2 arguments (i32, i32), given 1"
    missing = smoke(wasmship, plugins, "--target", "spin", "--call", "add", "2", "3")
    assert_clean_failure(
        missing, 2, "--call add: target 'spin' exports no function 'add' (it exports _start)"
    )
    several = smoke(wasmship, plugins, "--call", "add", "2", "3")
    assert_clean_failure(several, 2, "--call add: several wasip1 targets (add, spin, hog")


def test_the_clock_is_real_only_when_granted(plugins: Path, wasmship: Run) -> None:
    proc = smoke(wasmship, plugins, "--target", "clock", "--target", "realclock")
    assert proc.returncode == 0, proc.stderr
    fake, real = proc.stdout.splitlines()
    assert fake == "year 2022"  # wazero's fake clock starts on 2022-01-01
    assert int(real.split()[1]) >= 2025


def test_the_manifest_records_each_plugins_interface(plugins: Path) -> None:
    targets = {t["name"]: t for t in manifest_of(plugins / "dist")["targets"]}
    assert targets["add"]["interface"]["allow"] == []
    assert "allow" not in targets["reader"]["interface"]
    exported = [e["name"] for e in targets["add"]["interface"]["exports"]]
    assert exported == ["_initialize", "add", "memory"]


# The host example: built once with the machine's Go, pinned to the runner's wazero.
HOST = REPO / "examples" / "plugin-host"


def test_the_host_example_pins_the_runners_wazero() -> None:
    ours = runner_sources()
    assert (HOST / "go.sum").read_bytes() == ours["go.sum"]
    requires = [line for line in (HOST / "go.mod").read_text().splitlines() if "wazero" in line]
    assert requires == [f"require {pinned_wazero(ours)}"]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    binary = tmp_path_factory.mktemp("host") / "plugin-host"
    subprocess.run(
        [go.binary, "build", "-trimpath", "-o", str(binary), "."],
        cwd=HOST,
        env=base_env(GOFLAGS="", GOTOOLCHAIN="local"),
        check=True,
    )
    return binary


def test_the_documented_host_command_runs_as_written(plugins: Path, go: Go, tmp_path: Path) -> None:
    # The command of docs/plugins.md, run by a shell from a folder laid out like the checkout
    # (examples/plugin-host and a dist beside it), the way a reader pastes it.
    doc = (REPO / "docs" / "plugins.md").read_text()
    commands = [line[2:] for line in doc.splitlines() if line.startswith("$ go ")]
    assert len(commands) == 1 and "plugin-host" in commands[0], commands
    shutil.copytree(HOST, tmp_path / "examples" / "plugin-host")
    shutil.copytree(plugins / "dist", tmp_path / "dist")
    env = base_env(GOFLAGS="", GOTOOLCHAIN="local")
    env["PATH"] = f"{Path(go.binary).parent}{os.pathsep}{env['PATH']}"
    env.pop("PWD", None)
    proc = subprocess.run(
        ["bash", "-c", commands[0]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(f"instance {i}: add(2, 3) = 5\n" for i in (1, 2, 3))


def run_host(host: Path, dist: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(host), "-dist", str(dist), *args], capture_output=True, text=True, timeout=120
    )


def test_the_host_verifies_compiles_once_and_runs_many_instances(host: Path, plugins: Path) -> None:
    dist = plugins / "dist"
    proc = run_host(host, dist, "-target", "add", "-instances", "3", "-call", "add", "2", "3")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "".join(f"instance {i}: add(2, 3) = 5\n" for i in (1, 2, 3))

    spin = run_host(host, dist, "-target", "spin", "-timeout", "1s", "-instances", "1")
    assert (spin.returncode, spin.stderr) == (
        1,
        "plugin-host: spin instance 1: stopped at the deadline of 1s\n",
    )
    hog = run_host(host, dist, "-target", "hog", "-memory", "32", "-instances", "1")
    assert (hog.returncode, hog.stderr) == (1, "plugin-host: hog instance 1: exited with code 2\n")
    fs = run_host(host, dist, "-target", "mounted")
    assert fs.returncode == 1
    assert 'refusing mounted: its allow list asks for "fs", which this host does not grant' in (
        fs.stderr
    )


def test_the_host_and_verify_refuse_a_tampered_plugin(
    host: Path, plugins: Path, wasmship: Run, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(plugins / "dist", dist)
    module = manifest_of(dist)["targets"][0]["files"]["add.wasm"]
    data = bytearray((dist / module["path"]).read_bytes())
    data[-1] ^= 0xFF  # same size, one bit pattern changed: only the digest tells
    (dist / module["path"]).write_bytes(bytes(data))

    proc = run_host(host, dist, "-target", "add", "-call", "add", "2", "3")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(
        f"plugin-host: refusing {module['path']}: its bytes do not match the manifest (sha256 "
    ), proc.stderr
    assert f"the manifest says {module['sha256']}, {module['size']} bytes)" in proc.stderr
    verify = wasmship("verify", str(dist), cwd=tmp_path)
    assert_clean_failure(verify, 1, "verify found 1 problem")
    assert module["path"] in verify.stdout, verify.stdout
