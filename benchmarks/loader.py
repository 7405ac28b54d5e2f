#!/usr/bin/env python3
"""Time to `wasmship:ready` for a ~12 MB module in Chromium on a throttled connection.

    python benchmarks/loader.py [--rounds 3] [--mbit 40] [--rtt 40] [--markdown FILE]

The program is the main benchmark's "big" (benchmarks/programs/big), made a browser program
that works for a few seconds (so V8 tiers it up and writes its code cache) and keeps running.
It is built three times in one scratch folder: by wasmship at BASELINE (today's loader and
page), and by this checkout, negotiated and with --hosting static. Page variants of the new
build are written beside its index.html: with and without a preload of the module, and with
preloads of the scripts too.

Every visit is a new headless Chromium (/usr/bin/chromium) with DevTools network emulation
(Network.emulateNetworkConditions: --mbit down and up, --rtt of latency). A cold visit has an
empty profile; a return visit reuses the profile of a visit that ran until the code cache was
written. Negotiating hosts are `wasmship serve` on 127.0.0.1; a static host is Python's
http.server (no Content-Encoding), where today's loader fetches the raw module. Each round runs
every scenario once, in turn (ABAB, never AAA BBB); the table gives medians and the range.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.chromium import CHROMIUM, Network, end_trace, open_visit
from harness.hosts import plain_server, wasmship_serve
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone

if TYPE_CHECKING:
    from playwright.sync_api import BrowserType  # type: ignore[import-not-found, unused-ignore]

REPO = Path(__file__).resolve().parent.parent
BASELINE = "a4673bd"  # the loader before preload and static hosting
CACHE_WAIT = 25.0  # seconds a priming visit may wait for V8 to write the code cache

# Added to "big": its main becomes bigMain, run again and again for a few seconds.
APP = """package main

import (
\t"fmt"
\t"syscall/js"
\t"time"
)

func main() {
\tdoc := js.Global().Get("document")
\tp := doc.Call("createElement", "p")
\tp.Set("id", "bench")
\tdoc.Get("body").Call("appendChild", p)
\trounds := 0
\tfor deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); rounds++ {
\t\tbigMain()
\t}
\tp.Set("textContent", fmt.Sprintf("rounds %d", rounds))
\tfor {
\t\ttime.Sleep(time.Hour)
\t}
}
"""

RECORDER = (
    "document.addEventListener('wasmship:ready', () => { window.__ready = performance.now() })"
)


@dataclass(frozen=True)
class Scenario:
    label: str
    loader: str  # "today's" or "new"
    page: str  # the page's file in the dist: index.html or a variant
    dist: str  # the dist folder's name in the scratch folder
    static_host: bool = False
    return_visit: bool = False


SCENARIOS = (
    Scenario("cold", "today's", "index.html", "baseline"),
    Scenario("cold", "new, no preload", "no-preload.html", "new"),
    Scenario("cold", "new, module preloaded", "preload.html", "new"),
    Scenario("cold", "new, module and scripts preloaded", "preload-all.html", "new"),
    Scenario("return (same profile)", "today's", "index.html", "baseline", return_visit=True),
    Scenario(
        "return (same profile)", "new, no preload", "no-preload.html", "new", return_visit=True
    ),
    Scenario(
        "return (same profile)", "new, module preloaded", "preload.html", "new", return_visit=True
    ),
    Scenario("cold, static host", "today's (raw module)", "index.html", "baseline", True),
    Scenario("cold, static host", "new, --hosting static (.gz)", "index.html", "static", True),
    Scenario(
        "return, static host",
        "new, --hosting static (.gz)",
        "index.html",
        "static",
        static_host=True,
        return_visit=True,
    ),
)


@dataclass(frozen=True)
class Visit:
    ready_ms: float  # wasmship:ready, after the navigation started
    requested_ms: float  # the module's request, after the page's
    downloaded_ms: float  # the module's last byte, after the page's request
    module_bytes: int  # what came over the network for .wasm files
    rounds: int  # the program's work in its first 5 s
    code_cache: bool  # V8 read the module's compiled code from its cache


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed:\n{proc.stderr}")


def prepare(root: Path, go: str) -> None:
    """The program, the three dists and the page variants."""
    folder = clone(PROGRAMS["big"], root / "big")
    main = folder / "main.go"
    main.write_text(main.read_text().replace("func main() {", "func bigMain() {", 1))
    (folder / "app.go").write_text(APP)
    baseline = root / "baseline-src"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", BASELINE, "wasmship"], capture_output=True, check=True
    )
    baseline.mkdir()
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
    env = {**os.environ, "WASMSHIP_GO": go, "WASMSHIP_CACHE_DIR": str(root / "cache")}
    build = [sys.executable, "-m", "wasmship", "build", "--quiet", "-o"]
    run([*build, str(root / "baseline")], folder, {**env, "PYTHONPATH": str(baseline)})
    run([*build, str(root / "new")], folder, {**env, "PYTHONPATH": str(REPO)})
    run(
        [*build, str(root / "static"), "--hosting", "static"],
        folder,
        {**env, "PYTHONPATH": str(REPO)},
    )
    write_variants(root / "new")


def write_variants(dist: Path) -> None:
    """no-preload.html, preload.html and preload-all.html beside the new build's index.html."""
    page = (dist / "index.html").read_text()
    bare = re.sub(r'<link rel="preload"[^>]*>\n', "", page)
    module = re.search(r'data-wasm="([^"]+)"', bare)
    assert module is not None, "the new page has no loader tag"
    first = bare.index('<link rel="stylesheet"')
    preload = (
        f'<link rel="preload" href="{module[1]}" as="fetch" type="application/wasm" '
        'crossorigin="anonymous">\n'
    )
    scripts = "".join(
        f'<link rel="preload" href="{src}" as="script" integrity="{sri}" crossorigin="anonymous">\n'
        for src, sri in re.findall(r'<script defer src="([^"]+)" integrity="([^"]+)"', bare)
    )
    (dist / "no-preload.html").write_text(bare)
    (dist / "preload.html").write_text(bare[:first] + preload + bare[first:])
    (dist / "preload-all.html").write_text(bare[:first] + preload + scripts + bare[first:])


def visit(
    chromium: BrowserType, profile: Path, url: str, args: argparse.Namespace, *, prime: bool
) -> Visit:
    """Open URL in a new Chromium on PROFILE with network emulation and V8's trace."""
    network = Network(args.mbit, args.rtt)
    context, page, cdp, timeline = open_visit(chromium, profile, network, RECORDER, ["v8.wasm"])
    try:
        started = time.monotonic()
        page.goto(url)
        page.wait_for_function("window.__ready !== undefined")
        ready = float(page.evaluate("window.__ready"))
        text = page.locator("#bench", has_text="rounds").inner_text()
        if prime:
            cache = profile / "Default" / "Code Cache" / "wasm"
            while time.monotonic() < started + CACHE_WAIT and not any(
                f.stat().st_size > 64 * 1024 for f in cache.glob("*_0")
            ):
                page.wait_for_timeout(250)
        end_trace(cdp, page)
        modules = timeline.modules()
        return Visit(
            ready_ms=ready,
            requested_ms=(min(r.sent for r in modules) - timeline.start) * 1000,
            downloaded_ms=(max(r.finished for r in modules) - timeline.start) * 1000,
            module_bytes=sum(r.encoded for r in modules),
            rounds=int(text.split()[-1]),
            code_cache=timeline.code_cache(),
        )
    finally:
        context.close()


def measure(chromium: BrowserType, root: Path, args: argparse.Namespace) -> list[list[Visit]]:
    """Every scenario once per round, in turn."""
    results: list[list[Visit]] = [[] for _ in SCENARIOS]
    for number in range(args.rounds):
        for index, scenario in enumerate(SCENARIOS):
            profile = root / f"profile-{number}-{index}"
            host = plain_server if scenario.static_host else wasmship_serve
            with host(root / scenario.dist) as base:
                url = base + scenario.page
                if scenario.return_visit:
                    visit(chromium, profile, url, args, prime=True)
                seen = visit(chromium, profile, url, args, prime=False)
            shutil.rmtree(profile, ignore_errors=True)
            results[index].append(seen)
            print(
                f"round {number + 1}: {scenario.label}, {scenario.loader}: {seen}", file=sys.stderr
            )
    return results


def spread(values: list[float]) -> str:
    """`1234 ms (1100 to 1400)`: the median and the range."""
    return f"{statistics.median(values):.0f} ms ({min(values):.0f} to {max(values):.0f})"


def render(results: list[list[Visit]], args: argparse.Namespace, facts: str) -> str:
    lines = [
        f"Chromium, {args.mbit:g} Mbit/s down and up, {args.rtt:g} ms latency (DevTools "
        f"emulation); median of {args.rounds} (min to max). {facts}",
        "",
        "| visit | loader and page | module over the network | module requested at "
        "| module downloaded at | `wasmship:ready` at | work in the first 5 s "
        "| V8 code cache read |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for scenario, visits in zip(SCENARIOS, results, strict=True):
        size = statistics.median(v.module_bytes for v in visits) / 1_000_000
        rounds = statistics.median(v.rounds for v in visits)
        cached = sum(v.code_cache for v in visits)
        requested = spread([v.requested_ms for v in visits])
        downloaded = spread([v.downloaded_ms for v in visits])
        ready = spread([v.ready_ms for v in visits])
        lines.append(
            f"| {scenario.label} | {scenario.loader} | {size:.2f} MB | {requested} "
            f"| {downloaded} | {ready} "
            f"| {rounds:.0f} rounds | {cached} of {len(visits)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="visits per scenario (>= 1)")
    parser.add_argument("--mbit", type=float, default=40, help="emulated bandwidth, Mbit/s")
    parser.add_argument("--rtt", type=float, default=40, help="emulated latency, ms")
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not args.go or not Path(CHROMIUM).exists():
        raise SystemExit(f"benchmark: needs go on PATH (or --go) and {CHROMIUM}")
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        sync_playwright,
    )

    with scratch("wasmship-loader-bench-", args.keep) as root:
        prepare(root, args.go)
        size = (root / "new").glob("main.*.wasm")
        facts = (
            f"Module {next(size).stat().st_size / 1_000_000:.1f} MB; {time.strftime('%Y-%m-%d')}."
        )
        with sync_playwright() as playwright:
            results = measure(playwright.chromium, root, args)
        publish(render(results, args, facts), args.markdown)


if __name__ == "__main__":
    main()
