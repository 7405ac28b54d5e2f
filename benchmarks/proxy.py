#!/usr/bin/env python3
"""What `wasmship serve --proxy` adds over asking the backend directly, on loopback.

    python benchmarks/proxy.py [--requests 400] [--events 15] [--markdown FILE]

Issue 26's goals: a proxied request adds at most 1 ms at the median over a direct request to
the backend, and an event stream's first event arrives within 50 ms of being sent. A small
backend (Python's http.server in its own process, HTTP/1.1, TCP_NODELAY) answers `/api/json`
with a short JSON body and `/api/events` with a text/event-stream: an event carrying the time
it was sent, a pause, a second event, then the end. `wasmship serve -q` of the hello dist with
`--proxy /api=http://127.0.0.1:PORT` stands in front of it. Request by request the four ways
take turns (ABAB, never AAA BBB), so load from elsewhere hits them alike: direct and proxied,
each with a new connection per request (`Connection: close`) and over one kept-alive
connection. The table gives the median and p90 of each and the proxied median's excess. Then
--events streams, direct and proxied in turn, give the first event's delay (the time written
in the event against its arrival; one clock, one machine). Everything binds 127.0.0.1 and stops
by itself. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.commands import Bench
from harness.hosts import running
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone

GAP = 0.2  # seconds between the stream's two events
BACKEND = f"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/api/json":
            body = json.dumps({{"id": 7, "name": "gopher", "tags": ["a", "b"]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/api/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for _ in range(2):
                self.wfile.write(f"data: {{time.time_ns()}}\\n\\n".encode())
                self.wfile.flush()
                time.sleep({GAP})
        else:
            self.send_error(404)

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Backend).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def once(port: int) -> float:
    """Seconds for one GET of /api/json on a new connection (`Connection: close`)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/json", headers={"Connection": "close"})
        check(conn.getresponse())
    finally:
        conn.close()
    return time.perf_counter() - start


def kept(conn: http.client.HTTPConnection) -> float:
    """Seconds for one GET of /api/json over CONN, kept alive."""
    start = time.perf_counter()
    conn.request("GET", "/api/json")
    response = conn.getresponse()
    check(response)
    if response.will_close:
        raise SystemExit("benchmark: the connection was not kept alive")
    return time.perf_counter() - start


def check(response: http.client.HTTPResponse) -> None:
    body = response.read()
    if response.status != 200 or b"gopher" not in body:
        raise SystemExit(f"benchmark: unexpected answer {response.status}: {body[:200]!r}")


def first_event(port: int) -> tuple[float, float]:
    """The first event's delay (ms) from the time in it, and the seconds the stream lasted."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        buffer = b""
        while b"\n\n" not in buffer:
            data = response.read1(4096)
            if not data:
                raise SystemExit(f"benchmark: the stream ended before an event: {buffer!r}")
            buffer += data
        arrived = time.time_ns()
        sent = int(buffer.split(b"\n\n", 1)[0].removeprefix(b"data: "))
        response.read()
    finally:
        conn.close()
    return (arrived - sent) / 1e6, time.perf_counter() - start


def quantiles(values: list[float]) -> tuple[float, float]:
    """Median and p90 of VALUES (seconds), in milliseconds."""
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return statistics.median(ordered) * 1000, p90 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests of each way")
    parser.add_argument("--events", type=int, default=15, help="event streams of each way")
    parser.add_argument("--go", default="go")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    with scratch("wasmship-proxy-") as root:
        bench = Bench(root, args.go)
        folder = clone(PROGRAMS["hello"], root / "hello")
        dist = folder / "dist"
        bench.wasmship(folder, dist, root / "cache")
        back, front = free_port(), free_port()
        backend_cmd = [sys.executable, "-c", BACKEND, str(back)]
        serve_cmd = [sys.executable, "-m", "wasmship", "serve", str(dist), "-q"]
        serve_cmd += ["--port", str(front), "--proxy", f"/api=http://127.0.0.1:{back}"]
        times: dict[str, list[float]] = {}
        events: dict[str, list[float]] = {}
        with (
            running(backend_cmd, back, root / "backend.log", bench.env),
            running(serve_cmd, front, root / "serve.log", bench.env),
        ):
            keep = {
                port: http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                for port in (back, front)
            }
            ways: list[tuple[str, Callable[[], float]]] = [
                ("direct, new connection", lambda: once(back)),
                ("proxied, new connection", lambda: once(front)),
                ("direct, kept alive", lambda: kept(keep[back])),
                ("proxied, kept alive", lambda: kept(keep[front])),
            ]
            for _, way in ways:  # warm up: imports, first connections, caches
                for _ in range(20):
                    way()
            for i in range(args.requests):
                for name, way in ways if i % 2 == 0 else ways[::-1]:
                    times.setdefault(name, []).append(way())
            for conn in keep.values():
                conn.close()
            for i in range(args.events):
                for name, port in (("direct", back), ("proxied", front)):
                    delay, lasted = first_event(port)
                    if lasted < GAP:
                        raise SystemExit(f"benchmark: the {name} stream ended too soon")
                    events.setdefault(name, []).append(delay)
                print(f"benchmark: event stream {i + 1}/{args.events}", file=sys.stderr)

    lines = [
        f"### Proxy (`wasmship serve --proxy`, loopback; {args.requests} requests of each way, "
        "interleaved; milliseconds)",
        "",
        "| request of /api/json | median | p90 | proxied median over direct |",
        "|---|---|---|---|",
    ]
    overheads = []
    for name, values in times.items():
        median, p90 = quantiles(values)
        over = ""
        if name.startswith("proxied"):
            direct = quantiles(times[name.replace("proxied", "direct")])[0]
            overheads.append(median - direct)
            over = f"{median - direct:+.2f}"
        lines.append(f"| {name} | {median:.2f} | {p90:.2f} | {over} |")
    lines += [
        "",
        f"First event of a text/event-stream ({args.events} streams of each way; the time in "
        "the event against its arrival, ms):",
        "",
        "| stream | median | slowest |",
        "|---|---|---|",
    ]
    for name, values in events.items():
        lines.append(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} |")
    ok_over = max(overheads) <= 1.0
    ok_event = statistics.median(events["proxied"]) <= 50.0
    lines += [
        "",
        f"Goals: a proxied request within 1 ms of a direct one at the median: "
        f"{'met' if ok_over else 'missed'} (at most {max(overheads):+.2f} ms); "
        f"the first event within 50 ms: {'met' if ok_event else 'missed'} "
        f"(median {statistics.median(events['proxied']):.2f} ms).",
    ]
    publish("\n".join(lines) + "\n", args.markdown)


if __name__ == "__main__":
    main()
