"""A shared compression cache for the "another runner built this commit" scenario: nginx with
WebDAV, configured by docs/ci.md's server block (the one users copy), on a loopback port."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.commands import REPO
from harness.hosts import free_port, nginx_running

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
    store = home / "store"
    store.mkdir(parents=True, exist_ok=True)
    port = free_port()
    block = server_block().replace("listen 8080;", f"listen 127.0.0.1:{port};")
    block = block.replace("/var/cache/wasmship-shared", str(store)).replace("change-me", TOKEN)
    with nginx_running(home, port, block) as url:
        yield url
