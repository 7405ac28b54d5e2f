#!/usr/bin/env python3
"""The daily loop: from saving a one-line change to the page running it, in Chromium.

    python benchmarks/dev.py [--runs 3] [--go PATH] [--markdown FILE]

On the "embed" program of benchmarks/run.py (a `//go:embed` of 5 MiB of generated text: about
7.5 MiB of wasm), laid out twice in a temporary folder (nothing is downloaded):

- `wasmship dev`: the page is open; the benchmark saves main.go and waits until the page,
  reloaded by itself, logs the new value (fast profile, one build at a time, SSE reload);
- release: `wasmship serve dist` with the page open; the benchmark saves main.go, runs
  `wasmship build` (release profile: brotli q11, gzip 9, dcz deltas against the kept builds),
  reloads the page and waits until it logs the new value.

Rounds alternate (dev, release, dev, ...) so that load from elsewhere hits both alike; Go's
build cache is warm (the program is built once first); wasmship's cache is in the temporary
folder. Headless Debian Chromium (/usr/bin/chromium) through Playwright. Prints a markdown
table of medians. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone, set_build

if TYPE_CHECKING:
    # The typecheck session has no browser extras: playwright's types only where installed.
    from playwright.sync_api import (  # type: ignore[import-not-found,unused-ignore]
        ConsoleMessage,
        Page,
    )

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 600_000  # a bound on one round, never a measure


@dataclass
class Loop:
    """One way of working: the seconds from save to new code running, and the build's part."""

    label: str
    seconds: list[float] = field(default_factory=list)
    builds: list[float] = field(default_factory=list)

    def row(self) -> str:
        s, b = self.seconds, self.builds
        return (
            f"| {self.label} | {statistics.median(s):.2f} s | {min(s):.2f} s | {max(s):.2f} s "
            f"| {statistics.median(b):.2f} s |"
        )


class Process:
    """A wasmship command running in the background; its stdout lines as they come."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wasmship", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._new = threading.Condition()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()

    def line(self, test: Callable[[str], bool], seen: int = 0) -> str:
        """The first line from SEEN on that passes TEST (waits for it)."""
        with self._new:
            while True:
                found = [line for line in self.lines[seen:] if test(line)]
                if found:
                    return found[0]
                if self.proc.poll() is not None or not self._new.wait(WAIT_MS / 1000):
                    raise SystemExit(f"benchmark: {self.proc.args!r} ended or stalled")

    def stop(self) -> None:
        self.proc.terminate()  # SIGTERM: wasmship stops as on Ctrl-C (SIGINT may be ignored)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def running(value: str) -> Callable[[ConsoleMessage], bool]:
    """The Go program's line with VALUE: the page runs that build."""
    return lambda message: message.text.startswith(f"{value} ")


def dev_round(page: Page, dev: Process, folder: Path, value: str, loop: Loop) -> None:
    seen = len(dev.lines)
    started = time.perf_counter()
    with page.expect_console_message(running(value), timeout=WAIT_MS):
        set_build(folder, value)
    loop.seconds.append(time.perf_counter() - started)
    line = dev.line(lambda text: " rebuilt in " in text, seen)
    loop.builds.append(float(line.split(" rebuilt in ")[1].split("s")[0]))


def release_round(page: Page, folder: Path, value: str, env: dict[str, str], loop: Loop) -> None:
    started = time.perf_counter()
    with page.expect_console_message(running(value), timeout=WAIT_MS):
        set_build(folder, value)
        built = time.perf_counter()
        cmd = [sys.executable, "-m", "wasmship", "build", "-q"]
        subprocess.run(cmd, cwd=folder, env=env, check=True)
        loop.builds.append(time.perf_counter() - built)
        page.reload()
    loop.seconds.append(time.perf_counter() - started)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(go: str, wasm_bytes: int, loads: tuple[str, str]) -> list[str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    version = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    return [
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {os.cpu_count()} CPUs ({model}), Linux {platform.release()}",
        f"- {version}; Python {platform.python_version()}; {chromium.stdout.strip()}",
        f"- Module: main.wasm of {wasm_bytes / (1 << 20):.1f} MiB",
        f"- Load average at start: {loads[0]}; at end: {loads[1]}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="changes timed per loop (>= 3)")
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    if not args.go or not Path(CHROMIUM).exists():
        raise SystemExit(f"benchmark: needs go (--go) and {CHROMIUM}")
    from playwright.sync_api import (  # type: ignore[import-not-found,unused-ignore]
        sync_playwright,
    )

    with scratch("wasmship-dev-bench-") as root:
        env = dict(os.environ, WASMSHIP_GO=args.go, WASMSHIP_CACHE_DIR=str(root / "cache"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        processes: list[Process] = []
        at_start = load()
        try:
            embed = PROGRAMS["embed"]
            dev_folder, release_folder = clone(embed, root / "dev"), clone(embed, root / "rel")
            wasmship = [sys.executable, "-m", "wasmship"]
            subprocess.run([*wasmship, "build", "-q"], cwd=release_folder, env=env, check=True)
            dev = Process(["dev", "--port", "0"], dev_folder, env)
            serve = Process(["serve", "dist", "--port", "0", "-q"], release_folder, env)
            processes += [dev, serve]
            dev_loop = Loop("`wasmship dev` (fast profile; the page reloads by itself)")
            release_loop = Loop("`wasmship build` (release) + `wasmship serve`, reload by hand")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                dev_page, release_page = browser.new_page(), browser.new_page()
                for page, url in ((dev_page, dev.line(bool)), (release_page, serve.line(bool))):
                    with page.expect_console_message(running("v1"), timeout=WAIT_MS):
                        page.goto(url)
                for run in range(1, max(3, args.runs) + 1):
                    dev_round(dev_page, dev, dev_folder, f"dev{run}", dev_loop)
                    release_round(release_page, release_folder, f"rel{run}", env, release_loop)
                browser.close()
            sys.path.insert(0, str(REPO))
            from wasmship.distformat.reader import read_manifest

            size = read_manifest(release_folder / "dist").targets[0].files["main.wasm"].size
            table = [
                "| loop | save → new code running (median) | fastest | slowest | build (median) |",
                "|---|---:|---:|---:|---:|",
                dev_loop.row(),
                release_loop.row(),
                "",
                f"Medians of {len(dev_loop.seconds)} one-line changes each.",
                "",
                *machine(args.go, size, (at_start, load())),
            ]
            publish("\n".join(table) + "\n", args.markdown)
        finally:
            for process in processes:
                if process.proc.poll() is None:
                    process.stop()


if __name__ == "__main__":
    main()
