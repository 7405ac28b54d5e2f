"""The hosts the browser benchmarks serve a folder from, each on a free 127.0.0.1 port.

`wasmship serve` (this checkout), nginx with the nginx.conf wasmship wrote into the dist (as
tests/servers.py runs it: Debian's brotli_static module, one process, temp paths in a scratch
folder) and Python's http.server, the plain static server. Each stops when its block ends.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from harness.commands import REPO

NGINX_BROTLI = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running(
    cmd: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Run CMD (its output into LOG) until it listens on PORT; stop it (SIGTERM) afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"benchmark: {cmd[:3]} did not listen:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        stop(proc)


@contextmanager
def printed_url(cmd: list[str]) -> Iterator[str]:
    """Run CMD, which prints its URL or port on its first line of output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        found = re.search(r"http://127\.0\.0\.1:\d+/|port (\d+)", line)
        if found is None:
            raise SystemExit(f"benchmark: {cmd[2:4]} did not start: {line!r}")
        yield found[0] if found[1] is None else f"http://127.0.0.1:{found[1]}/"
    finally:
        stop(proc)


def wasmship_serve(dist: Path) -> AbstractContextManager[str]:
    return printed_url([sys.executable, "-m", "wasmship", "serve", str(dist), "--port", "0"])


def plain_server(folder: Path) -> AbstractContextManager[str]:
    """Python's http.server: no Content-Encoding, Last-Modified and no Cache-Control."""
    cmd = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"]
    return printed_url([*cmd, "--directory", str(folder)])


@contextmanager
def nginx(dist: Path, home: Path) -> Iterator[str]:
    """nginx over DIST including the dist's own nginx.conf (built with --server-config nginx)."""
    if not NGINX_BROTLI.is_file():
        raise SystemExit(f"benchmark: {NGINX_BROTLI} is missing (libnginx-mod-http-brotli-static)")
    port = free_port()
    server = (
        f"  server {{\n    listen 127.0.0.1:{port};\n    root {dist};\n"
        f"    include {dist / 'nginx.conf'};\n  }}\n"
    )
    with nginx_running(home, port, server, f"load_module {NGINX_BROTLI};\n") as url:
        yield url


@contextmanager
def nginx_running(home: Path, port: int, http: str, head: str = "") -> Iterator[str]:
    """One nginx process (no daemon, no master) with HTTP inside its http block, temp paths and
    logs under HOME, listening on PORT; its URL while the block runs."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    home.mkdir(parents=True, exist_ok=True)
    temp = "\n".join(
        f"  {kind}_temp_path {home / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = home / "nginx.conf"
    conf.write_text(
        f"{head}daemon off;\nmaster_process off;\n"
        f"pid {home / 'nginx.pid'};\nerror_log {home / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n{temp}\n{http}\n}}\n"
    )
    cmd = [binary, "-c", str(conf), "-p", f"{home}/", "-e", str(home / "error.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"benchmark: no nginx: {home / 'error.log'}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)
