#!/usr/bin/env python3
"""Check the emulated link (harness/link.py) against its model: a file through it, timed.

    python benchmarks/linkcheck.py [--mbit 40] [--rtt 40] [--size 5000000]

Serves SIZE bytes with Python's http.server behind the link and fetches them three ways, each
on a new connection: urllib, curl, and a `fetch` in headless Chromium (Resource Timing). The
model says: the handshake and the request's way up (1.5 RTT), then SIZE at MBIT and the first
byte's way down (RTT / 2): SIZE * 8 / MBIT + 2 RTT from sending the request; the last byte is
SIZE * 8 / MBIT after the first. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness.chromium import ARGS, CHROMIUM, Network
from harness.hosts import plain_server
from harness.link import link
from harness.output import scratch

PAGE = "<!doctype html><title>link</title><p>link check</p>"
FETCH = """async () => {
  const started = performance.now();
  const body = await (await fetch("blob.bin", {cache: "no-store"})).arrayBuffer();
  const done = performance.now();
  const t = performance.getEntriesByName(new URL("blob.bin", location).href).pop();
  return [body.byteLength, done - started, t.responseStart - t.startTime,
          t.responseEnd - t.responseStart];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mbit", type=float, default=40)
    parser.add_argument("--rtt", type=float, default=40)
    parser.add_argument("--size", type=int, default=5_000_000)
    args = parser.parse_args()
    network = Network(args.mbit, args.rtt)
    transfer = network.seconds(args.size) * 1000
    print(f"model: {args.size} bytes at {network.label}: {transfer:.0f} ms of transfer, ")
    print(f"       {transfer + 2 * args.rtt:.0f} ms from request to last byte on a new connection")
    with scratch("wasmship-linkcheck-") as root:
        (root / "blob.bin").write_bytes(bytes(args.size))
        (root / "index.html").write_text(PAGE)
        with plain_server(root) as url, link(url) as proxy:
            proxy.network = network
            started = time.monotonic()
            with urllib.request.urlopen(proxy.url + "blob.bin") as response:
                first = time.monotonic()
                size = len(response.read())
            done = time.monotonic()
            print(
                f"urllib:   {size} bytes, {(done - started) * 1000:.0f} ms in all, "
                f"first byte at {(first - started) * 1000:.0f} ms"
            )
            curl(proxy.url + "blob.bin")
            chromium(proxy.url)


def curl(url: str) -> None:
    fmt = "%{size_download} bytes, %{time_total} s in all, first byte at %{time_starttransfer} s"
    proc = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", fmt, url], capture_output=True, text=True
    )
    print(f"curl:     {proc.stdout or proc.stderr}")


def chromium(url: str) -> None:
    if not Path(CHROMIUM).exists():
        print(f"chromium: {CHROMIUM} missing", file=sys.stderr)
        return
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        sync_playwright,
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            size, total, first, body = page.evaluate(FETCH)
            print(
                f"chromium: {size} bytes, {total:.0f} ms in all, first byte at {first:.0f} ms, "
                f"first to last byte {body:.0f} ms"
            )
        finally:
            browser.close()


if __name__ == "__main__":
    main()
