"""Bad input: each gives a clear message and exit code, and leaves the previous dist intact."""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Go, Run, base_env, manifest_of, missing, snapshot
from tests.test_architecture import modules
from wasmship.builder.config import BuildConfig
from wasmship.builder.steps.compile import output_folder
from wasmship.distformat.lock import lock_path
from wasmship.errors import ExitCode, WasmshipError

FAKE_OLD_GO = """#!/bin/sh
# A stand-in for Go 1.20: answers `go env -json` like the real one would.
echo '{"GOROOT": "/opt/go1.20", "GOVERSION": "go1.20.14"}'
"""


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


@pytest.fixture
def built(hello: Path, wasmship: Run) -> tuple[Path, dict[str, bytes]]:
    """The hello fixture with a finished dist, and that dist's bytes."""
    proc = wasmship("build", "-q", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    return hello, snapshot(hello / "dist")


def scratch_folders(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if ".wasmship-" in p.name)


def litter(parent: Path) -> list[str]:
    """What wasmship left beside the dist: anything of its name but the config file."""
    return sorted(p.name for p in parent.iterdir() if "wasmship" in p.name.replace(".toml", ""))


def documented_exit_codes() -> dict[int, str]:
    """The table under `## Exit codes` in docs/cli.md: code -> meaning."""
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\d+)` \| (.+) \|$", section, re.M)
    return {int(code): meaning for code, meaning in rows}


def error_kinds() -> set[type[WasmshipError]]:
    """Every WasmshipError subclass in the package (each module imported to find them)."""
    for name in modules():
        importlib.import_module(name)
    found: set[type[WasmshipError]] = set()
    todo = [WasmshipError]
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_the_exit_code_table_in_the_docs_is_the_one_in_the_code() -> None:
    documented = documented_exit_codes()
    assert set(documented) == {int(code) for code in ExitCode}
    assert documented[2].startswith("bad usage or configuration")
    assert documented[3].startswith("a tool wasmship needs is missing")
    assert documented[4].startswith("the dist or manifest given cannot be read")


def test_every_error_kind_exits_with_a_documented_code() -> None:
    kinds = error_kinds()
    assert len(kinds) > 10
    codes = {int(code) for code in ExitCode}
    assert {k.__name__: k.exit_code for k in kinds if k.exit_code not in codes} == {}
    by_name = {k.__name__: k.exit_code for k in kinds}
    assert by_name["ToolchainError"] == ExitCode.TOOL
    assert by_name["ManifestError"] == by_name["DistError"] == ExitCode.DIST
    assert by_name["UsageError"] == ExitCode.USAGE


def test_debug_shows_a_traceback_without_touching_the_environment(
    wasmship: Run, tmp_path: Path
) -> None:
    plain = wasmship("verify", "nope", cwd=tmp_path)
    assert_clean_failure(plain, 4, "nope: no such folder")
    debug = wasmship("--debug", "verify", "--json", "nope", cwd=tmp_path)
    assert debug.returncode == 4
    assert "Traceback" in debug.stderr and "DistError" in debug.stderr
    assert json.loads(debug.stdout)["exit_code"] == 4
    # The flag is carried in the process, not through os.environ (which go and node inherit).
    code = (
        "import os, sys; from wasmship.cli import main; sys.argv = ['wasmship', '--debug', "
        "'verify', 'nope']\ntry:\n    main()\nexcept SystemExit as exit:\n"
        "    print(exit.code, 'WASMSHIP_DEBUG' in os.environ)"
    )
    env = base_env()
    env.pop("WASMSHIP_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.stdout == "4 False\n" and "Traceback" in proc.stderr


def test_no_go_on_path(hello: Path, wasmship: Run, tmp_path: Path) -> None:
    env = base_env(PATH=str(tmp_path / "empty"))
    env.pop("WASMSHIP_GO", None)
    proc = wasmship("build", cwd=hello, env=env)
    assert_clean_failure(proc, 3, "Go not found", "--go", "WASMSHIP_GO")
    assert not (hello / "dist").exists()


def test_go_given_does_not_exist(hello: Path, wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("build", "--go", str(tmp_path / "no-such-go"), cwd=hello)
    assert_clean_failure(proc, 3, "Go not found", "no-such-go", "--go")


def test_go_too_old(built: tuple[Path, dict[str, bytes]], wasmship: Run, tmp_path: Path) -> None:
    hello, before = built
    fake = tmp_path / "bin" / "go"
    fake.parent.mkdir()
    fake.write_text(FAKE_OLD_GO)
    fake.chmod(0o755)
    proc = wasmship("build", "--go", str(fake), cwd=hello)
    assert_clean_failure(proc, 3, "go1.20.14", "too old", "1.21")
    assert snapshot(hello / "dist") == before


def test_compile_error_shows_go_diagnostics(
    built: tuple[Path, dict[str, bytes]], wasmship: Run
) -> None:
    hello, before = built
    (hello / "main.go").write_text("package main\n\nfunc main() {\n\tundefinedFunction()\n}\n")
    (hello / "tagged.go").unlink()
    proc = wasmship("build", cwd=hello)
    assert_clean_failure(proc, 1, "undefined: undefinedFunction", "go build failed")
    # Go's diagnostics come first, unchanged; wasmship's one line comes last.
    assert proc.stderr.strip().splitlines()[-1].startswith("wasmship: error: go build failed")
    assert snapshot(hello / "dist") == before
    assert scratch_folders(hello) == []


def test_non_main_package(project: object, wasmship: Run, tmp_path: Path) -> None:
    lib = project("lib")  # type: ignore[operator]
    proc = wasmship("build", cwd=lib)
    assert_clean_failure(proc, 2, "not a main package", "example.com/lib", "'lib'")
    assert not (lib / "dist").exists()


def test_missing_package(built: tuple[Path, dict[str, bytes]], wasmship: Run) -> None:
    hello, before = built
    proc = wasmship("build", "./nope", cwd=hello)
    assert_clean_failure(proc, 2, "cannot build package './nope'", "directory not found")
    assert snapshot(hello / "dist") == before


def test_outside_any_go_module(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("build", cwd=tmp_path)
    assert_clean_failure(proc, 2, "cannot resolve package '.'", "go.mod")


def test_foreign_non_empty_target_is_refused(hello: Path, wasmship: Run) -> None:
    target = hello / "public"
    target.mkdir()
    (target / "important.txt").write_text("do not lose me")
    proc = wasmship("build", "--out", "public", cwd=hello)
    assert_clean_failure(proc, 2, "refusing to replace", "public", "--force")
    assert (target / "important.txt").read_text() == "do not lose me"
    assert [p.name for p in target.iterdir()] == ["important.txt"]

    forced = wasmship("build", "-q", "--out", "public", "--force", cwd=hello)
    assert forced.returncode == 0, forced.stderr
    assert (target / "manifest.json").is_file() and not (target / "important.txt").exists()


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_source_folders_and_root_are_refused(hello: Path, wasmship: Run, out: str) -> None:
    before = snapshot(hello)
    proc = wasmship("build", "--out", out, cwd=hello)
    assert_clean_failure(proc, 2, "refusing to use")
    assert snapshot(hello) == before


def test_home_is_refused(hello: Path, wasmship: Run, tmp_path: Path, go: Go) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = base_env(HOME=str(home), WASMSHIP_GO=go.binary)
    proc = wasmship("build", "--out", str(home), cwd=hello, env=env)
    assert_clean_failure(proc, 2, "refusing to use", "home folder")


def test_html_template_without_a_place_for_scripts(hello: Path, wasmship: Run) -> None:
    (hello / "page.html").write_text("<p>no head here</p>\n")
    proc = wasmship("build", "--html", "page.html", cwd=hello)
    assert_clean_failure(proc, 2, "page.html", "<!-- wasmship:scripts -->")
    assert not (hello / "dist").exists()
    assert scratch_folders(hello) == []


def test_unknown_option_is_a_usage_error(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", "--no-such-flag", cwd=hello)
    assert_clean_failure(proc, 2, "No such option")


def start_build(hello: Path, go: Go, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wasmship", "build", *args],
        cwd=hello,
        env=base_env(WASMSHIP_GO=go.binary),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_staging(hello: Path, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".dist.wasmship-staging-") for p in hello.iterdir()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never started staging"
        time.sleep(0.01)


def change_source(hello: Path) -> None:
    main = hello / "main.go"
    main.write_text(main.read_text().replace("hello from Go", "changed Go"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_build_keeps_the_previous_dist(
    built: tuple[Path, dict[str, bytes]], go: Go, signum: signal.Signals
) -> None:
    hello, before = built
    change_source(hello)
    proc = start_build(hello, go)
    wait_for_staging(hello, proc)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert snapshot(hello / "dist") == before
    assert scratch_folders(hello) == []


def test_killed_build_keeps_the_previous_dist_and_the_next_build_cleans_up(
    built: tuple[Path, dict[str, bytes]], go: Go, wasmship: Run
) -> None:
    hello, before = built
    change_source(hello)
    proc = start_build(hello, go)
    wait_for_staging(hello, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert snapshot(hello / "dist") == before
    assert [p.name for p in scratch_folders(hello)] == [f".dist.wasmship-staging-{proc.pid}"]

    again = wasmship("build", "-q", cwd=hello)
    assert again.returncode == 0, again.stderr
    assert scratch_folders(hello) == []
    assert litter(hello) == []
    assert snapshot(hello / "dist") != before


def test_two_builds_at_once_take_turns(built: tuple[Path, dict[str, bytes]], go: Go) -> None:
    import hashlib

    hello, _ = built
    change_source(hello)
    first, second = start_build(hello, go, "-q"), start_build(hello, go, "-q")
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    manifest = manifest_of(hello / "dist")
    for entry in manifest["targets"][0]["files"].values():  # type: ignore[index]
        data = (hello / "dist" / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert scratch_folders(hello) == []
    assert litter(hello) == []  # no lock file in the user's tree


def test_a_held_lock_waits_then_fails_clearly(
    built: tuple[Path, dict[str, bytes]], wasmship: Run
) -> None:
    hello, before = built
    fd = os.open(lock_path(hello / "dist"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"4242", 0)
        change_source(hello)
        proc = wasmship("build", "--lock-timeout", "1", cwd=hello)
    finally:
        os.close(fd)
    assert_clean_failure(proc, 1, "another wasmship build (pid 4242)", "--lock-timeout")
    assert "waiting for another build" in proc.stderr
    assert snapshot(hello / "dist") == before


def test_a_system_error_is_one_line_not_a_traceback(hello: Path, wasmship: Run) -> None:
    # /proc takes no new files, even for root: the OS refuses the lock file.
    proc = wasmship("build", "--out", "/proc/wasmship-dist", cwd=hello)
    assert_clean_failure(proc, 1, "wasmship: error: publish: No such file or directory", "/proc/")


BUILD_MARK = "WASMSHIP_TEST_BUILD"  # in a build's environment: go and its tools inherit it


def slow_project(root: Path) -> Path:
    """A main package whose one big function takes go's compiler seconds; new on every run,
    so the build cache cannot answer it."""
    root.mkdir()
    (root / "go.mod").write_text("module example.com/slow\n\ngo 1.21\n")
    branches = "\n".join(
        f"\tif x%{i + 7} == {i % 5} {{ x = x*{i + 3} + {i} }} else {{ x ^= {i * 7} }}"
        for i in range(10_000)
    )
    (root / "main.go").write_text(
        f'package main\n\nimport "fmt"\n\nfunc big(x int) int {{\n{branches}\n\treturn x\n}}\n\n'
        f"func main() {{ fmt.Println(big({time.time_ns() % 1_000_000})) }}\n"
    )
    return root


def processes_marked(mark: str) -> dict[int, str]:
    """pid -> name of every live process whose environment holds MARK (read from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            name, _, state = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue  # gone meanwhile, or not ours
        if mark.encode() in environ and state.split()[0] != "Z":
            found[int(entry.name)] = name.partition("(")[2]
    return found


@pytest.mark.parametrize(
    ("whom", "cache"), [("process", True), ("group", True), ("process", False)]
)
def test_a_killed_build_takes_go_and_its_compiler_with_it(
    go: Go, wasmship: Run, tmp_path: Path, compression_cache: Path, whom: str, cache: bool
) -> None:
    root = slow_project(tmp_path / "slow")
    mark = f"{BUILD_MARK}={os.getpid()}-{time.time_ns()}"
    env = base_env(WASMSHIP_GO=go.binary, **dict([mark.split("=", 1)]))
    log = tmp_path / "stderr"
    with log.open("wb") as stderr:  # not a pipe: reading one waits for whoever still holds it
        proc = subprocess.Popen(
            [sys.executable, "-m", "wasmship", "build", "-q", *([] if cache else ["--no-cache"])],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=whom == "group",  # a group of its own, as a CI runner's job has
        )
    try:
        deadline = time.monotonic() + 120
        while "compile" not in processes_marked(mark).values():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "go never started compiling"
            time.sleep(0.02)
        if whom == "group":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(timeout=60)
        deadline = time.monotonic() + 3
        while processes_marked(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_marked(mark) == {}, "still running after the build was killed"
    finally:
        for pid in processes_marked(mark):  # only what this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if cache:  # go writes its persistent output in the cache; nothing is staged before it ends
        assert scratch_folders(root) == []
        output = output_folder(BuildConfig(workdir=root, cache_dir=compression_cache), "main")
    else:  # --no-cache: go writes into staging
        output = root / f".dist.wasmship-staging-{proc.pid}"
        assert scratch_folders(root) == [output]
    assert not list(output.glob("*.wasm"))  # go died before it wrote its module there
    assert list(output.glob(".go-tmp*/go-build*"))  # what it left is in there, not in /tmp

    (root / "main.go").write_text('package main\n\nfunc main() { println("quick") }\n')
    again = wasmship("build", "-q", cwd=root)
    assert again.returncode == 0, again.stderr
    assert scratch_folders(root) == []
    assert litter(root) == []
    assert sorted(p.name for p in root.iterdir()) == ["dist", "go.mod", "main.go"]
    assert not list(output.glob(".go-tmp*"))


def test_go_writes_to_a_terminal_that_stops_background_writers(
    project: Callable[[str], Path], go: Go
) -> None:
    # go runs in a process group of its own, not the terminal's foreground one: with
    # `stty tostop` its diagnostics must still reach the terminal, not stop go (and the build).
    broken = project("broken")
    env = base_env(WASMSHIP_GO=go.binary)
    pid, fd = pty.fork()
    if pid == 0:  # a session on the terminal, as a user's shell runs wasmship
        try:
            attrs = termios.tcgetattr(0)
            attrs[3] |= termios.TOSTOP
            termios.tcsetattr(0, termios.TCSANOW, attrs)
            os.chdir(broken)
            os.execve(sys.executable, [sys.executable, "-m", "wasmship", "build", "-q"], env)
        finally:
            os._exit(127)
    output, done, status = b"", 0, 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:  # EIO: nothing holds the terminal any more
                    break
                if not chunk:
                    break
                output += chunk
        while not done and time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.01)
    finally:
        if not done:
            os.kill(pid, signal.SIGKILL)  # stopped go: its watcher takes it along
            os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode(errors="replace")
    assert done and os.waitstatus_to_exitcode(status) == 1, text
    assert "undefined: undefinedFunction" in text and "go build failed" in text, text


def test_a_full_disk_names_the_step_and_the_place_and_loses_nothing(
    hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    # A real filesystem that fills up: a 4.2 MB tmpfs holds one dist of hello, not two.
    if os.geteuid() != 0 or shutil.which("mount") is None:
        missing("mounting a small tmpfs needs root and mount(8)")
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4200k", "tmpfs", str(disk)], check=True)
    try:
        first = wasmship("build", "-q", "--keep", "0", "--out", str(disk / "dist"), cwd=hello)
        assert first.returncode == 0, first.stderr
        before = snapshot(disk / "dist")
        change_source(hello)
        proc = wasmship("build", "-q", "--keep", "0", "--out", str(disk / "dist"), cwd=hello)
        assert_clean_failure(
            proc,
            1,
            "No space left on device",
            f"beside {disk / 'dist'}",
            "previous dist is untouched",
        )
        assert re.search(
            r"error: (compile|shim|fingerprint|loader|compress|publish): ", proc.stderr
        )
        assert snapshot(disk / "dist") == before
        assert sorted(p.name for p in disk.iterdir()) == ["dist"]  # staging removed
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize(
    "args", [("build",), ("dev", "--port", "0"), ("size",), ("smoke",), ("clean", "--cache")]
)
def test_a_wasmship_toml_that_is_not_utf8_is_one_line_for_every_command(
    hello: Path, wasmship: Run, args: tuple[str, ...]
) -> None:
    (hello / "wasmship.toml").write_bytes(b"\xff\xfe")
    proc = wasmship(*args, cwd=hello, timeout=60)
    config = hello / "wasmship.toml"
    assert_clean_failure(proc, 2, f"{config}:1: not UTF-8 text: byte 0xff at offset 0")
    assert "internal error" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
