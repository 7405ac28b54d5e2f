#!/usr/bin/env python3
"""Serving a dist: the Go handler (go/wasmshiphttp) against nginx on the same machine, by wrk.

    python benchmarks/serving.py [--program hello] [--rounds 3] [--seconds 5] [--markdown FILE]

Issue 25's goal: the handler within 2x of nginx, and no per-request allocation that grows with
the file size. One dist (`wasmship build --server-config nginx`) is served on loopback by
examples/go-server (`-dist`, the handler behind a ServeMux, as a Go app mounts it) and by nginx
with the generated nginx.conf (Debian's brotli module, as many workers as cores, no access
log). `wrk` asks each for the page (`/`) and the module with `Accept-Encoding: br, gzip` (both
send the .br sibling) at 1 and at 64 connections, each run bounded to --seconds; round by
round the servers take turns (ABAB, never AAA BBB) so load from elsewhere hits them alike. The
table gives the median requests per second and p99 latency of the rounds. Then
`go test -bench -benchmem` in go/wasmshiphttp gives the handler's allocations per request for
the page and the module (without the network). wrk runs on the same cores as the servers: the
figures compare the two servers, they are no capacity figure. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.commands import REPO, Bench
from harness.hosts import running
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone

NGINX_BROTLI = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
ACCEPT = "Accept-Encoding: br, gzip"
CONNECTIONS = (1, 64)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nginx_conf(dist: Path, home: Path, port: int) -> Path:
    temp = "".join(f"  {k}_temp_path {home / k};\n" for k in ("proxy", "fastcgi", "uwsgi", "scgi"))
    conf = home / "nginx.conf"
    conf.write_text(
        f"load_module {NGINX_BROTLI};\n"
        "daemon off;\n"
        "worker_processes auto;\n"
        f"pid {home / 'nginx.pid'};\n"
        f"error_log {home / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "  access_log off;\n"
        "  sendfile on;\n"
        f"  client_body_temp_path {home / 'body'};\n"
        f"{temp}"
        f"  server {{\n    listen 127.0.0.1:{port};\n    root {dist};\n"
        f"    include {dist / 'nginx.conf'};\n  }}\n"
        "}\n"
    )
    return conf


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) of one bounded wrk run against URL."""
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            ACCEPT,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not rps or not p99 or "Non-2xx" in out:
        raise SystemExit(f"benchmark: unexpected wrk output for {url}:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return float(rps.group(1)), float(p99.group(1)) * scale


def go_allocations(bench: Bench, dist: Path) -> dict[str, tuple[str, str, str]]:
    """ns/op, B/op and allocs/op of the handler's Go benchmarks over DIST."""
    out = subprocess.run(
        [bench.go, "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "2000x"],
        cwd=REPO / "go" / "wasmshiphttp",
        env=dict(bench.env, WASMSHIP_TEST_DIST=str(dist), GOFLAGS="", GOTOOLCHAIN="local"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for m in re.finditer(
        r"^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op",
        out,
        re.M,
    ):
        found[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", default="hello", choices=sorted(PROGRAMS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--go", default="go")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"benchmark: {tool} is not installed (scripts/test.sh installs it)")

    with scratch("wasmship-serving-") as root:
        root.chmod(0o755)  # nginx's workers (another user when started as root) read the dist
        bench = Bench(root, args.go)
        folder = clone(PROGRAMS[args.program], root / args.program)
        dist = folder / "dist"
        bench.wasmship(folder, dist, root / "cache", "--server-config", "nginx")
        server = root / "go-server"
        subprocess.run(
            [args.go, "build", "-o", str(server), "."],
            cwd=REPO / "examples" / "go-server",
            env=dict(bench.env, GOFLAGS="", GOTOOLCHAIN="local"),
            check=True,
        )
        module = next(dist.glob("main.*.wasm")).name
        paths = {"index.html": "/", "module": "/" + module}
        go_port, nginx_port = free_port(), free_port()
        (root / "nginx").mkdir()
        go_cmd = [str(server), "-addr", f"127.0.0.1:{go_port}", "-dist", str(dist)]
        nginx_cmd = ["nginx", "-c", str(nginx_conf(dist, root / "nginx", nginx_port))]
        nginx_cmd += ["-p", f"{root / 'nginx'}/", "-e", str(root / "nginx" / "error.log")]
        ports = {"Go handler": go_port, "nginx": nginx_port}
        runs: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
        with (
            running(go_cmd, go_port, root / "go.log"),
            running(nginx_cmd, nginx_port, root / "nginx.log"),
        ):
            for round_ in range(args.rounds):
                for what, path in paths.items():
                    for connections in CONNECTIONS:
                        for name, port in ports.items():
                            url = f"http://127.0.0.1:{port}{path}"
                            rps, p99 = wrk(url, connections, args.seconds)
                            runs.setdefault((what, name, connections), []).append((rps, p99))
                            print(
                                f"benchmark: round {round_ + 1}/{args.rounds}: {name} {what} "
                                f"c={connections}: {rps:.0f} req/s, p99 {p99:.2f} ms",
                                file=sys.stderr,
                                flush=True,
                            )
        allocations = go_allocations(bench, dist)
        sizes = {
            "index.html": (dist / "index.html.br").stat().st_size,
            "module": (dist / (module + ".br")).stat().st_size,
        }

    lines = [
        f"### Serving ({args.program}; median of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s each; `{ACCEPT}`, so both send the .br sibling)",
        "",
        "| file (br bytes) | connections | Go handler req/s | nginx req/s | Go / nginx "
        "| Go p99 ms | nginx p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = float("inf")
    for what in paths:
        for connections in CONNECTIONS:
            go = runs[(what, "Go handler", connections)]
            ng = runs[(what, "nginx", connections)]
            go_rps, ng_rps = (statistics.median(r for r, _ in x) for x in (go, ng))
            go_p99, ng_p99 = (statistics.median(p for _, p in x) for x in (go, ng))
            worst = min(worst, go_rps / ng_rps)
            lines.append(
                f"| {what} ({sizes[what]:,}) | {connections} | {go_rps:,.0f} | {ng_rps:,.0f} "
                f"| {go_rps / ng_rps:.2f} | {go_p99:.2f} | {ng_p99:.2f} |"
            )
    lines += [
        "",
        "The handler alone (`go test -bench . -benchmem` in go/wasmshiphttp, no network):",
        "",
        "| benchmark | ns/op | B/op | allocs/op |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {a} | {b} | {c} |" for name, (a, b, c) in allocations.items()]
    lines += [
        "",
        f"Goal: the handler within 2x of nginx (at least 0.5 of its requests per second): "
        f"{'met' if worst >= 0.5 else 'missed'} (lowest ratio {worst:.2f}).",
    ]
    publish("\n".join(lines) + "\n", args.markdown)


if __name__ == "__main__":
    main()
