"""A shared compression cache for the "another runner built this commit" scenario: nginx with
WebDAV, configured by docs/ci.md's server block (the one users copy), on a loopback port."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.commands import REPO

TOKEN = "benchmark-token"


def server_block() -> str:
    """The nginx block of docs/ci.md's shared cache section."""
    section = (REPO / "docs" / "ci.md").read_text().split("## A shared compression cache", 1)[1]
    found = re.search(r"```nginx\n(.*?)```", section, re.S)
    if found is None:
        raise SystemExit("benchmark: docs/ci.md shows no nginx block for the shared cache")
    return found.group(1)


@contextmanager
def shared_cache(home: Path) -> Iterator[str]:
    """Run nginx with WebDAV storing under HOME; yield the cache URL (token: TOKEN)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    home.mkdir(parents=True, exist_ok=True)
    store = home / "store"
    store.mkdir(exist_ok=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    block = server_block().replace("listen 8080;", f"listen 127.0.0.1:{port};")
    block = block.replace("/var/cache/wasmship-shared", str(store)).replace("change-me", TOKEN)
    temp = "\n".join(
        f"  {kind}_temp_path {home / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = home / "nginx.conf"
    conf.write_text(
        "daemon off;\nmaster_process off;\n"
        f"pid {home / 'nginx.pid'};\nerror_log {home / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n{temp}\n{block}\n}}\n"
    )
    cmd = [nginx, "-c", str(conf), "-p", f"{home}/", "-e", str(home / "error.log")]
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
        proc.terminate()
        proc.wait(timeout=10)
