"""Shared fixtures: the Go under test, fixture projects, and running wasmship for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

# Headless Chromium and the knob-laden static server (`browser`, `page`, `serve`); real nginx
# and Caddy over the dist built with every server config (`configured`); how pytest-xdist
# shares the tests out (`scheduling`).
pytest_plugins = ["tests.browser", "tests.servers", "tests.scheduling"]

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(message: str) -> NoReturn:
    """Something a test needs is not here: a skip on a laptop, a failure in CI (CI runs all)."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def need(tool: str) -> str:
    """The path of TOOL; `missing` if it is not installed."""
    path = shutil.which(tool)
    if path:
        return path
    missing(f"{tool} is not installed (scripts/test.sh installs it)")


@dataclass(frozen=True)
class Go:
    """The Go toolchain the suite builds with (WASMSHIP_GO in the nox matrix, else PATH)."""

    binary: str
    goroot: Path
    version: str

    def shim_dir(self) -> Path:
        for sub in ("lib/wasm", "misc/wasm"):
            if (self.goroot / sub / "wasm_exec.js").is_file():
                return self.goroot / sub
        raise AssertionError(f"no wasm_exec.js under {self.goroot}")


@pytest.fixture(scope="session")
def go() -> Go:
    binary = os.environ.get("WASMSHIP_GO") or need("go")
    out = subprocess.run(
        [binary, "env", "-json", "GOROOT", "GOVERSION"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    env = json.loads(out)
    return Go(binary=binary, goroot=Path(env["GOROOT"]), version=env["GOVERSION"])


@pytest.fixture(scope="session", autouse=True)
def compression_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Builds under test share one compression cache in a temp folder, never the user's own."""
    path = tmp_path_factory.mktemp("compression-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("WASMSHIP_CACHE_DIR", str(path))
    yield path
    patch.undo()


# Builds under test compress with the fast profile: brotli 11 takes seconds for each new module,
# and most tests read the dist, not its compression. Tests about compression say
# `--profile release` (or WASMSHIP_PROFILE="release") themselves.
TEST_PROFILE = "fast"


def base_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    # `python -m wasmship` runs this checkout's code, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["WASMSHIP_PROFILE"] = TEST_PROFILE
    env.update(overrides)
    return env


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def wasmship(go: Go) -> Run:
    """Run the real CLI in a subprocess, as a user would."""

    def run(
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(env) if env is not None else base_env(WASMSHIP_GO=go.binary)
        return subprocess.run(
            [sys.executable, "-m", "wasmship", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def wasmship_inproc(
    go: Go, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run the CLI's entry point in this process, for error paths where a new interpreter adds
    only its start-up; tests about the process (signals, tracebacks) use `wasmship`."""
    from wasmship.cli import main

    def run(
        *args: str, cwd: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        saved_env, saved_sigterm = dict(os.environ), signal.getsignal(signal.SIGTERM)
        capsys.readouterr()
        code: int | str | None = 0
        with monkeypatch.context() as patch:
            patch.chdir(cwd)
            patch.setattr(sys, "argv", ["wasmship", *args])
            os.environ.clear()
            os.environ.update(env if env is not None else base_env(WASMSHIP_GO=go.binary))
            try:
                main()
            except SystemExit as exc:
                code = exc.code
            finally:
                os.environ.clear()
                os.environ.update(saved_env)
                signal.signal(signal.SIGTERM, saved_sigterm)  # main() installs its own
        out, err = capsys.readouterr()
        returncode = code if isinstance(code, int) else (0 if code is None else 1)
        return subprocess.CompletedProcess(["wasmship", *args], returncode, out, err)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture Go module into a fresh folder and return its path."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        return dest

    return copy


@pytest.fixture
def hello(project: Callable[[str], Path]) -> Path:
    return project("hello")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under FOLDER with its bytes, for byte-for-byte comparisons."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def manifest_of(dist: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((dist / "manifest.json").read_text())
    return manifest


def build_fixture(root: Path, go: Go, name: str, *args: str, config: str | None = None) -> Path:
    """Copy fixture NAME to ROOT/NAME (with CONFIG as its wasmship.toml), build it, return it."""
    project = root / name
    shutil.copytree(FIXTURES / name, project, dirs_exist_ok=True)  # beside files a test put there
    if config is not None:
        (project / "wasmship.toml").write_text(config)
    build_in(project, go, *args)
    return project


def build_in(project: Path, go: Go, *args: str) -> None:
    """`wasmship build --quiet ARGS` in PROJECT, in a process of its own; it must pass."""
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "--quiet", *args],
        cwd=project,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def files_of(dist: Path, target: int = 0) -> dict[str, dict[str, Any]]:
    """The files of one target of DIST's manifest."""
    manifest: Any = manifest_of(dist)
    files: dict[str, dict[str, Any]] = manifest["targets"][target]["files"]
    return files


@pytest.fixture(scope="session")
def built_hello(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """One real release build of the hello fixture shared by read-only tests."""
    return (
        build_fixture(tmp_path_factory.mktemp("built"), go, "hello", "--profile", "release")
        / "dist"
    )


def without_policy(page: str) -> str:
    """PAGE without the Content-Security-Policy <meta> the build puts in every page (issue 27),
    for tests that compare a page with what the project wrote."""
    return re.sub(r'\n<meta http-equiv="Content-Security-Policy" content="[^"]*">', "", page)
