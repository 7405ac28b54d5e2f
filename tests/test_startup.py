"""Start-up: `wasmship --version` and `--help` import nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Go, base_env

HEAVY = ("rich", "brotli", "zstandard", "zopfli", "http", "jsonschema", "wasmship.builder.steps")


def imported_by(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> set[str]:
    """Every module `python -m wasmship ARGS` imports, from Python's own -X importtime log."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wasmship", *args],
        cwd=cwd,
        env=env or base_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "wasmship.cli" in names  # the log really covers our imports
    return names


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("build", "--help")])
def test_nothing_heavy_is_imported(args: tuple[str, ...]) -> None:
    names = imported_by(*args)
    heavy = sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_a_quiet_build_of_an_unchanged_dist_loads_no_output_or_server_library(
    go: Go, project: Callable[[str], Path]
) -> None:
    # The no-change build is mostly Python's start-up: it prints nothing, so no rich; it serves
    # and checks nothing, so no http; verify's schema is not run, so no jsonschema.
    hello = project("hello")
    env = base_env(WASMSHIP_GO=go.binary)
    first = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "-q"], cwd=hello, env=env, capture_output=True
    )
    assert first.returncode == 0, first.stderr
    names = imported_by("build", "-q", cwd=hello, env=env)
    assert "wasmship.builder.pipeline" in names  # it did build
    unneeded = ("rich", "http", "jsonschema", "watchfiles", "wasmship.preview")
    loaded = sorted(n for n in names if any(n == u or n.startswith(u + ".") for u in unneeded))
    assert loaded == []
