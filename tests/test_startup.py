"""Start-up: `wasmship --version` and `--help` import nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import base_env

HEAVY = ("rich", "brotli", "zstandard", "zopfli", "http", "jsonschema", "wasmship.builder.steps")


def imported_by(*args: str) -> set[str]:
    """Every module `python -m wasmship ARGS` imports, from Python's own -X importtime log."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wasmship", *args],
        env=base_env(),
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
