"""Live progress: on a terminal, the encoding jobs show while a step runs and its line replaces
them; a log, --quiet, --json and NO_COLOR get exactly the output they always had."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import Go, Run, base_env
from tests.test_output import run_on_a_terminal
from wasmship.builder.progress import JobProgress, JobState
from wasmship.cli import console
from wasmship.cli.live_progress import JobsDisplay

MIB = 1 << 20
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STEP_LINE = re.compile(r"^✓ [a-z_]+ +\d+\.\d\ds(  .*)?$")


def rendered(display: JobsDisplay) -> list[str]:
    out = Console(file=io.StringIO(), width=120, color_system=None)
    for part in display.progress.get_renderables():
        out.print(part)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    return [line.rstrip() for line in text.splitlines()]


def test_the_display_shows_running_jobs_their_bytes_and_the_next_in_line() -> None:
    display = JobsDisplay(Console(file=io.StringIO()))
    names = ["main.wasm br", "main.wasm gzip", "main.wasm dcz from old.wasm"]
    names += [f"page{i}.html br" for i in range(5)]
    for name in names:
        display.update(JobProgress(name, JobState.WAITING, 10 * MIB))
    display.update(JobProgress("main.wasm br", JobState.RUNNING, 10 * MIB, 10 * MIB, 3 * MIB))
    display.update(JobProgress("main.wasm gzip", JobState.RUNNING, 10 * MIB, 20 * MIB, 15 * MIB))
    display.update(JobProgress("main.wasm dcz from old.wasm", JobState.RUNNING, 10 * MIB))
    display.update(JobProgress("page0.html br", JobState.DONE, 10 * MIB, cached=True))
    lines = rendered(display)
    assert lines[0] == "encoding: 3 running, 4 waiting, 1 done (1 from the cache)"
    assert lines[1].startswith("main.wasm br ") and "3.0 MiB of 10.0 MiB" in lines[1]
    assert "5.0 MiB of 10.0 MiB, pass 2 of 2" in lines[2]  # gzip reads the file twice
    assert "no byte count" in lines[3]  # a delta runs in one call: start and end only
    # The next three in line, waiting; the rest only counted; finished ones gone.
    assert [line.split()[0] for line in lines[4:]] == ["page1.html", "page2.html", "page3.html"]
    assert all("waiting" in line and "-:--:--" in line for line in lines[4:])


def test_the_display_shows_only_while_a_step_runs() -> None:
    display = JobsDisplay(Console(file=io.StringIO(), force_terminal=True))
    display.update(JobProgress("a br", JobState.RUNNING, 1))
    assert not display.progress.live.is_started  # between steps: nothing drawn
    display.show()
    assert display.progress.live.is_started
    display.hide()
    assert not display.progress.live.is_started
    display.update(JobProgress("a br", JobState.DONE, 1))
    display.show()  # nothing left to run: nothing to show
    assert not display.progress.live.is_started
    display.hide()


@pytest.mark.parametrize(
    ("quiet", "environ", "terminal", "wanted"),
    [
        (False, {"TERM": "xterm"}, True, True),
        (False, {}, True, True),
        (True, {"TERM": "xterm"}, True, False),
        (False, {"TERM": "xterm"}, False, False),
        (False, {"TERM": "xterm", "NO_COLOR": "1"}, True, False),
        (False, {"TERM": "dumb"}, True, False),
    ],
)
def test_live_display_only_on_a_terminal_that_takes_escape_codes(
    monkeypatch: pytest.MonkeyPatch,
    quiet: bool,
    environ: dict[str, str],
    terminal: bool,
    wanted: bool,
) -> None:
    for name in ("TERM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    class Stdout(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    monkeypatch.setattr(sys, "stdout", Stdout())
    assert console.wants_live_display(quiet) is wanted


def build_args(*extra: str) -> list[str]:
    # No cache and the fast profile: every job runs (a cached one never shows), quickly.
    return [sys.executable, "-m", "wasmship", "build", "--no-cache", "--profile", "fast", *extra]


def terminal_env(go: Go, **extra: str) -> dict[str, str]:
    return base_env(WASMSHIP_GO=go.binary, TERM="xterm-256color", **extra)


def test_a_terminal_sees_the_jobs_then_the_step_lines(hello: Path, go: Go) -> None:
    shown = run_on_a_terminal(build_args(), hello, terminal_env(go))
    plain = ESCAPE.sub("", shown)
    before, after = plain.split("✓ compress", 1)
    assert "encoding: " in before  # the live display, drawn while compress ran
    assert re.search(r"main\.[0-9a-f]{8}\.wasm br ", before)
    assert "\x1b[2K" in shown  # and erased: the step line takes its place
    assert "encoding: " not in after
    lines = after.replace("\r", "").splitlines()
    assert STEP_LINE.match("✓ compress" + lines[0]) and lines[1].startswith("✓ deltas")


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_quiet_and_json_show_no_progress_on_a_terminal(hello: Path, go: Go, flag: str) -> None:
    shown = run_on_a_terminal(build_args(flag), hello, terminal_env(go))
    if flag == "--quiet":
        assert shown == ""
    else:
        document = json.loads(shown)  # one JSON document and nothing else
        assert {"keep", "compress", "deltas"} <= set(document["timings"])


def test_no_color_shows_no_progress_on_a_terminal(hello: Path, go: Go) -> None:
    shown = run_on_a_terminal(build_args(), hello, terminal_env(go, NO_COLOR="1"))
    assert "\x1b" not in shown and "encoding: " not in shown
    assert "dist ready:" in shown


def test_a_log_gets_the_step_lines_and_the_table_only(hello: Path, wasmship: Run) -> None:
    proc = wasmship(*build_args()[3:], cwd=hello)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    table = next(i for i, line in enumerate(lines) if line.startswith("file "))
    assert lines[:table] and all(STEP_LINE.match(line) for line in lines[:table]), proc.stdout
    steps = [line.split()[1] for line in lines[:table]]
    assert steps.index("keep") < steps.index("compress") < steps.index("deltas")
    assert "encoding: " not in proc.stdout + proc.stderr and "\x1b" not in proc.stdout
