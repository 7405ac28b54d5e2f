#!/usr/bin/env python3
"""Time to running (issue 29): from navigation start to the Go module's main writing the page.

    python benchmarks/running.py [--rounds 3] [--programs hello,heavy,big18] [--markdown FILE]
                                 [--trace FILE] [--keep] [--devtools-throttling]

Three programs by default (hello; heavy, the tests' 7.8 MB code-cache program; big18, 19.5 MB),
each given a `main` that first writes to the page and records `performance.now()` (the
program's own main then runs for a few seconds, so V8 tiers it up and Chromium writes its code
cache). Each is shipped three ways, on five hosts:

- wasmship's dist (this checkout, default compression, --server-config nginx), served by
  `wasmship serve` and by nginx with the dist's nginx.conf, and on nginx once more with its page
  as it was before issue 29 (the inline early fetch taken out), to show what that changes;
- wasmship's dist built with `--hosting static` (the page preloads the module's .gz and the
  loader decodes it in the browser), served by Python's http.server;
- the plain pipeline: `go build`, Go's wasm_exec.js and a page that calls
  `WebAssembly.instantiateStreaming`, served by Python's http.server.

Every visit is a new headless Chromium (harness/chromium.py) through an emulated link
(harness/link.py: a TCP proxy in front of each host, one per host for the program's whole run,
so the origin and the code cache's key are the same on every visit): unthrottled, 40 Mbit/s /
40 ms and 10 Mbit/s / 100 ms. `--devtools-throttling` throttles with DevTools' network
emulation instead, as the first measurement did (it delivers about 57% of the nominal
bandwidth here). A first visit has an empty profile; a return visit a copy of a profile that
one unthrottled visit per host left once the code cache was written. Each round runs every case
once, in turn. The floors, computed in the same run, are described in harness/runningtable.py.
The trace is the first `wasmship serve` visit of heavy (or the first program) at 40 Mbit/s /
40 ms. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from harness.chromium import Network, Timeline, end_trace, open_visit
from harness.commands import REPO
from harness.hosts import nginx, plain_server, wasmship_serve
from harness.link import Link, link
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone
from harness.runningtable import Built, Key, Visit, render, seen
from harness.tracetable import render_trace

sys.path.insert(0, str(REPO))
from wasmship.builder.steps.loader import early_fetch_tag

if TYPE_CHECKING:
    from playwright.sync_api import BrowserType  # type: ignore[import-not-found, unused-ignore]

NETWORKS = (Network(0, 0), Network(40, 40), Network(10, 100))
PLAIN = "plain pipeline, http.server"
LATE = "nginx, page without the early fetch"
HOSTS = ("wasmship serve", "nginx", LATE, "wasmship --hosting static, http.server", PLAIN)
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
    static = root / name / "static"
    build[-1] = str(static)
    run([*build, "--hosting", "static"], folder, {**env, "PYTHONPATH": str(REPO)})
    plain = root / name / "plain"
    plain.mkdir()
    go_env = {**os.environ, "GOOS": "js", "GOARCH": "wasm"}
    run([go, "build", "-o", str(plain / "main.wasm"), "."], folder, go_env)
    goroot = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=True)
    shutil.copy(Path(goroot.stdout.strip()) / "lib" / "wasm" / "wasm_exec.js", plain)
    (plain / "index.html").write_text(PLAIN_PAGE)
    late(dist, root / name / "late")
    br = next(dist.glob("*.wasm.br"))
    raw = (plain / "main.wasm").stat().st_size
    return Built(name, dist, static, plain, raw, br.stat().st_size)


def late(dist: Path, copy: Path) -> None:
    """DIST as COPY with its page as before issue 29: no inline early fetch, so the loader's
    fetch() is the module's request (for nginx: the page's .br and .gz siblings removed)."""
    shutil.copytree(dist, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    tag = early_fetch_tag(manifest["targets"][0]["files"]["main.wasm"]["path"]) + "\n"
    page = (copy / "index.html").read_text()
    if page.count(tag) != 1:
        raise SystemExit("benchmark: the page has no early fetch to take out")
    (copy / "index.html").write_text(page.replace(tag, ""))
    for sibling in ("index.html.br", "index.html.gz"):
        (copy / sibling).unlink(missing_ok=True)


def host(name: str, built: Built, home: Path) -> AbstractContextManager[str]:
    if name == "wasmship serve":
        return wasmship_serve(built.dist)
    if name == "nginx":
        return nginx(built.dist, home)
    if name == LATE:
        return nginx(built.dist.parent / "late", home)
    if name == PLAIN:
        return plain_server(built.plain)
    return plain_server(built.static)


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
        return seen(timeline, running), timeline
    finally:
        context.close()


def throttle(proxy: Link | None, network: Network) -> Network:
    """Set PROXY's link to NETWORK; what DevTools should emulate (all of it without a link)."""
    if proxy is None:
        return network
    proxy.network = network
    return NETWORKS[0]


def measure(
    chromium: BrowserType, root: Path, built: list[Built], rounds: int, devtools: bool
) -> tuple[dict[Key, list[Visit]], Timeline]:
    results: dict[Key, list[Visit]] = {}
    traced: Timeline | None = None
    names = [b.name for b in built]
    traced_name = "heavy" if "heavy" in names else names[0]  # the first visit the trace shows
    for b in built:
        with ExitStack() as stack:
            links: dict[str, Link] = {}
            homes = {h: root / b.name / f"nginx-{HOSTS.index(h)}" for h in HOSTS}
            urls = {h: stack.enter_context(host(h, b, homes[h])) for h in HOSTS}
            if not devtools:
                links = {h: stack.enter_context(link(url)) for h, url in urls.items()}
                urls = {h: proxy.url for h, proxy in links.items()}
            primed = {}
            for h, url in urls.items():
                primed[h] = root / b.name / f"primed-{HOSTS.index(h)}"
                visit(chromium, primed[h], url, throttle(links.get(h), NETWORKS[0]), prime=True)
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
                            emulated = throttle(links.get(h), network)
                            found, timeline = visit(chromium, profile, url, emulated)
                            key = (b.name, network.label, h, again)
                            results.setdefault(key, []).append(found)
                            print(f"round {number + 1}: {key}: {found}", file=sys.stderr)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="visits per case (>= 1)")
    parser.add_argument("--programs", default="hello,heavy,big18", help="comma-separated")
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--trace", type=Path, help="also write the traced first visit here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--devtools-throttling",
        action="store_true",
        help="throttle with DevTools' network emulation (the first measurement), not the link",
    )
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
            results, traced = measure(
                playwright.chromium, root, built, args.rounds, args.devtools_throttling
            )
        how = "DevTools' network emulation" if args.devtools_throttling else "the emulated link"
        publish(render(results, built, NETWORKS, HOSTS, PLAIN, how), args.markdown)
        publish(render_trace(traced), args.trace)


if __name__ == "__main__":
    main()
