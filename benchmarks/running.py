#!/usr/bin/env python3
"""Time to running (issue 29): from navigation start to the Go module's main writing the page.

    python benchmarks/running.py [--rounds 3] [--markdown FILE] [--trace FILE] [--keep]

Three programs (benchmarks/programs: hello, big, big18), each given a `main` that first writes
to the page and records `performance.now()` (the program's own main then runs for a few
seconds, so V8 tiers it up and Chromium writes its code cache). Each is shipped two ways:

- wasmship's dist (this checkout, default compression, --server-config nginx), served by
  `wasmship serve` and by nginx with the dist's nginx.conf;
- the plain pipeline: `go build`, Go's wasm_exec.js and a page that calls
  `WebAssembly.instantiateStreaming`, served by Python's http.server.

Every visit is a new headless Chromium with DevTools network emulation (harness/chromium.py):
unthrottled, 40 Mbit/s / 40 ms and 10 Mbit/s / 100 ms. A first visit has an empty profile; a
return visit a copy of a profile that one unthrottled visit per host left once the code cache
was written (all servers stay up for a program's whole run, so the origin is the same). Each
round runs every case once, in turn. The floor, computed in the same run: the larger of the br
module's transfer at that bandwidth and compile and start-up (the fastest host's unthrottled
first visit, median), plus one round trip. The trace is the first `wasmship serve` visit of big
(or the first program) at 40 Mbit/s / 40 ms. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.chromium import Network, Timeline, end_trace, open_visit
from harness.commands import REPO
from harness.hosts import nginx, plain_server, wasmship_serve
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone
from harness.tracetable import render_trace

if TYPE_CHECKING:
    from playwright.sync_api import BrowserType  # type: ignore[import-not-found, unused-ignore]

NETWORKS = (Network(0, 0), Network(40, 40), Network(10, 100))
HOSTS = ("wasmship serve", "nginx", "plain pipeline, http.server")
CACHE_WAIT = 15.0  # seconds a priming visit waits for Chromium to write the wasm code cache
RECORD = "window.__running === undefined || true"  # the program sets window.__running itself

APP = """package main

import (
\t"syscall/js"
\t"time"
)

func main() {
\tdoc := js.Global().Get("document")
\tp := doc.Call("createElement", "p")
\tp.Set("id", "running")
\tp.Set("textContent", "running")
\tdoc.Get("body").Call("appendChild", p)
\tjs.Global().Set("__running", js.Global().Get("performance").Call("now"))
\tfor n, deadline := 0, time.Now().Add(4*time.Second); n < 400 && time.Now().Before(deadline); n++ {
\t\tprogramMain()
\t}
\tfor {
\t\ttime.Sleep(time.Hour)
\t}
}
"""

PLAIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>plain</title>
<script src="wasm_exec.js"></script>
<script>
const go = new Go();
WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject)
  .then((result) => go.run(result.instance));
</script></head><body></body></html>
"""


@dataclass(frozen=True)
class Built:
    name: str
    dist: Path
    plain: Path
    raw: int  # main.wasm, bytes
    br: int  # main.*.wasm.br, bytes


@dataclass(frozen=True)
class Visit:
    running_ms: float
    module_bytes: int
    code_cache: bool


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed:\n{proc.stderr}")


def prepare(root: Path, go: str, name: str) -> Built:
    """NAME made a page program, built by wasmship and by the plain pipeline."""
    folder = clone(PROGRAMS[name], root / name / "src")
    main = folder / "main.go"
    main.write_text(main.read_text().replace("func main() {", "func programMain() {", 1))
    (folder / "app.go").write_text(APP)
    env = {**os.environ, "WASMSHIP_GO": go, "WASMSHIP_CACHE_DIR": str(root / "cache")}
    dist = root / name / "dist"
    build = [sys.executable, "-m", "wasmship", "build", "--quiet", "-o", str(dist)]
    run([*build, "--server-config", "nginx"], folder, {**env, "PYTHONPATH": str(REPO)})
    plain = root / name / "plain"
    plain.mkdir()
    go_env = {**os.environ, "GOOS": "js", "GOARCH": "wasm"}
    run([go, "build", "-o", str(plain / "main.wasm"), "."], folder, go_env)
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True)
    shutil.copy(Path(goroot.stdout.strip()) / "lib" / "wasm" / "wasm_exec.js", plain)
    (plain / "index.html").write_text(PLAIN_PAGE)
    br = next(dist.glob("*.wasm.br"))
    return Built(name, dist, plain, (plain / "main.wasm").stat().st_size, br.stat().st_size)


def host(name: str, built: Built, home: Path) -> AbstractContextManager[str]:
    if name == "wasmship serve":
        return wasmship_serve(built.dist)
    if name == "nginx":
        return nginx(built.dist, home)
    return plain_server(built.plain)


def visit(
    chromium: BrowserType, profile: Path, url: str, network: Network, *, prime: bool = False
) -> tuple[Visit, Timeline]:
    context, page, cdp, timeline = open_visit(chromium, profile, network, RECORD)
    try:
        started = time.monotonic()
        page.goto(url)
        # A selector, not a predicate: a page's strict CSP forbids the eval a predicate needs.
        page.wait_for_selector("#running", state="attached")
        running = float(page.evaluate("window.__running"))
        if prime:
            cache = profile / "Default" / "Code Cache" / "wasm"
            while time.monotonic() < started + CACHE_WAIT and not any(
                f.stat().st_size > 64 * 1024 for f in cache.glob("*_0")
            ):
                page.wait_for_timeout(250)
        else:
            page.wait_for_timeout(300)  # the trace's last compile events
        timeline.running_ms = running
        timeline.navigation = page.evaluate(
            "JSON.stringify(performance.getEntriesByType('navigation')[0])"
        )
        end_trace(cdp, page)
        size = sum(r.encoded for r in timeline.modules())
        return Visit(running, size, timeline.code_cache()), timeline
    finally:
        context.close()


Key = tuple[str, str, str, bool]  # program, network, host, return visit


def measure(
    chromium: BrowserType, root: Path, built: list[Built], rounds: int
) -> tuple[dict[Key, list[Visit]], Timeline]:
    results: dict[Key, list[Visit]] = {}
    traced: Timeline | None = None
    names = [b.name for b in built]
    traced_name = "big" if "big" in names else names[0]  # the first visit the trace shows
    for b in built:
        with ExitStack() as stack:
            urls = {h: stack.enter_context(host(h, b, root / b.name / "nginx")) for h in HOSTS}
            primed = {}
            for h, url in urls.items():
                primed[h] = root / b.name / f"primed-{HOSTS.index(h)}"
                visit(chromium, primed[h], url, NETWORKS[0], prime=True)
            for number in range(rounds):
                for network in NETWORKS:
                    for h, url in urls.items():
                        for again in (False, True):
                            profile = root / "profile"
                            shutil.rmtree(profile, ignore_errors=True)
                            if again:
                                shutil.copytree(
                                    primed[h], profile, ignore=shutil.ignore_patterns("Singleton*")
                                )
                            seen, timeline = visit(chromium, profile, url, network)
                            key = (b.name, network.label, h, again)
                            results.setdefault(key, []).append(seen)
                            print(f"round {number + 1}: {key}: {seen}", file=sys.stderr)
                            if (b.name, network.mbit, h, again, traced) == (
                                traced_name,
                                40,
                                HOSTS[0],
                                False,
                                None,
                            ):
                                traced = timeline
    assert traced is not None
    return results, traced


def spread(values: list[float]) -> str:
    """`1234 ms (1100 to 1400)`: the median and the range; one value alone."""
    if len(values) == 1:
        return f"{values[0]:.0f} ms"
    return f"{statistics.median(values):.0f} ms ({min(values):.0f} to {max(values):.0f})"


def render(results: dict[Key, list[Visit]], built: list[Built], rounds: int) -> str:
    lines = [
        f"Time from navigation start to the module's main writing the page; median of {rounds} "
        "(min to max). Floor: max(br transfer at that bandwidth, compile and start-up) + one "
        "round trip, where compile and start-up is the fastest unthrottled first visit.",
        "",
        "| program | network | host | first visit | x floor | return visit "
        "| code cache read | floor |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for b in built:
        compile_ms = min(
            statistics.median(v.running_ms for v in results[(b.name, NETWORKS[0].label, h, False)])
            for h in HOSTS
        )
        for network in NETWORKS:
            floor = max(network.seconds(b.br) * 1000, compile_ms) + network.rtt
            for h in HOSTS:
                first = [v.running_ms for v in results[(b.name, network.label, h, False)]]
                again = results[(b.name, network.label, h, True)]
                cached = sum(v.code_cache for v in again)
                program = f"{b.name} ({b.raw / 1e6:.1f} MB, br {b.br / 1e6:.2f} MB)"
                lines.append(
                    f"| {program} | {network.label} | {h} | {spread(first)} "
                    f"| {statistics.median(first) / floor:.2f} "
                    f"| {spread([v.running_ms for v in again])} | {cached} of {len(again)} "
                    f"| {floor:.0f} ms |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="visits per case (>= 1)")
    parser.add_argument("--programs", default="hello,big,big18", help="comma-separated")
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--trace", type=Path, help="also write the traced first visit here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    names = args.programs.split(",")
    if any(n not in PROGRAMS for n in names):
        parser.error(f"--programs: names from {sorted(PROGRAMS)}")
    from harness.chromium import CHROMIUM

    if not args.go or not Path(CHROMIUM).exists():
        raise SystemExit(f"benchmark: needs go on PATH (or --go) and {CHROMIUM}")
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        sync_playwright,
    )

    with scratch("wasmship-running-bench-", args.keep) as root:
        built = [prepare(root, args.go, name) for name in names]
        with sync_playwright() as playwright:
            results, traced = measure(playwright.chromium, root, built, args.rounds)
        publish(render(results, built, args.rounds), args.markdown)
        publish(render_trace(traced), args.trace)


if __name__ == "__main__":
    main()
