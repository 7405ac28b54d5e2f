"""What a build prints: whole lines in CI logs, no escape codes with NO_COLOR, budgets shown."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import Go, Run, base_env, files_of


def run_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ARGS with stdout and stderr on a pseudo-terminal 60 columns wide; what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args, cwd=cwd, env={**env, "COLUMNS": "60"}, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=300) == 0, b"".join(chunks).decode()
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_log_gets_whole_file_names_and_no_escape_codes(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", "--budget", "main:br=50MiB", cwd=hello, env=base_env(COLUMNS="40"))
    assert proc.returncode == 0, proc.stderr
    for entry in files_of(hello / "dist").values():
        assert str(entry["path"]) in proc.stdout  # never `wasm_exec.0c94…`
    assert "…" not in proc.stdout
    assert "\x1b" not in proc.stdout + proc.stderr
    assert "budget main.br: " in proc.stdout and "of 50.0 MiB" in proc.stdout
    assert proc.stdout.rstrip().endswith(", ok")


def test_no_color_means_no_escape_codes_even_on_a_terminal(hello: Path, go: Go) -> None:
    args = [sys.executable, "-m", "wasmship", "build"]
    env = base_env(WASMSHIP_GO=go.binary, TERM="xterm-256color")
    coloured = run_on_a_terminal(args, hello, env)
    assert "\x1b[" in coloured  # a terminal gets styles: the check below can fail
    plain = run_on_a_terminal(args, hello, {**env, "NO_COLOR": "1"})
    assert "\x1b" not in plain
    assert "dist ready:" in plain
