"""The shared compression cache on a real nginx with WebDAV, configured by docs/ci.md's block.

Two runners are two copies of a project with two local caches; the second is served from the
shared cache. Poisoned entries, a closed port and a server that never answers must cost at
most a warning line, never a wrong byte or a failed build.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest

from tests.conftest import REPO, Go, Run, base_env, snapshot
from tests.servers import free_port, need, stop, wait_until_listening

pytestmark = pytest.mark.servers

TOKEN = "s3cr3t-token-for-the-test"
DOC = REPO / "docs" / "ci.md"


def doc_server_block() -> str:
    """The nginx server block of docs/ci.md's shared cache section, exactly as users copy it."""
    section = DOC.read_text().split("## A shared compression cache", 1)[1]
    found = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert found, "docs/ci.md shows no nginx block for the shared cache"
    return found.group(1)


@dataclass(frozen=True)
class DavServer:
    port: int
    store: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/wasm/"

    def entries(self) -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in sorted(self.store.rglob("*")) if p.is_file()}


@contextmanager
def dav_server(home: Path) -> Iterator[DavServer]:
    """nginx with docs/ci.md's block: its listen, root and token put to the test's."""
    nginx = need("nginx")
    port, store = free_port(), home / "store"
    store.mkdir()
    block = doc_server_block()
    block = block.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    block = block.replace("/var/cache/wasmship-shared", str(store))
    block = block.replace("change-me", TOKEN)
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
    log = home / "server.log"
    cmd = [nginx, "-c", str(conf), "-p", f"{home}/", "-e", str(home / "error.log")]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, log)
        yield DavServer(port, store)
    finally:
        stop(proc)


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[DavServer]:
    home = tmp_path / "nginx"
    home.mkdir()
    with dav_server(home) as server:
        yield server


@dataclass
class Runner:
    """One CI runner: its own clone of the project and its own local cache."""

    project: Path
    cache: Path
    compressions: int = 0


@pytest.fixture
def runners(tmp_path: Path) -> Callable[[str], Runner]:
    def make(name: str) -> Runner:
        root = tmp_path / name
        root.mkdir()
        shutil.copytree(REPO / "tests" / "fixtures" / "hello", root / "hello")
        return Runner(root / "hello", root / "cache")

    return make


def build(
    run: Run, go: Go, runner: Runner, *args: str, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    """`wasmship build` on RUNNER; counts the variants it compressed itself (its compress
    step's note: "N of M from cache", the local or the shared one)."""
    env = base_env(WASMSHIP_GO=go.binary, WASMSHIP_CACHE_DIR=str(runner.cache))
    env["WASMSHIP_CACHE_TOKEN"] = token
    result = run("build", *args, cwd=runner.project, env=env)
    found = re.search(r"compress\b.*?(\d+) of (\d+) from cache", result.stdout)
    if found:
        runner.compressions += int(found[2]) - int(found[1])
    return result


def warnings_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if "shared cache" in line]


def no_secret(result: subprocess.CompletedProcess[str], *folders: Path) -> None:
    assert TOKEN not in result.stdout + result.stderr
    for folder in folders:
        for data in snapshot(folder).values():
            assert TOKEN.encode() not in data


def test_second_runner_is_served_from_the_shared_cache(
    wasmship: Run,
    go: Go,
    dav: DavServer,
    runners: Callable[[str], Runner],
) -> None:
    first, second = runners("first"), runners("second")
    one = build(wasmship, go, first, "--cache-url", dav.url)
    assert one.returncode == 0, one.stderr
    assert first.compressions > 0
    assert not warnings_of(one), one.stderr
    uploaded = dav.entries()
    assert len(uploaded) == first.compressions  # every variant it compressed, by its key

    two = build(wasmship, go, second, "--cache-url", dav.url)
    assert two.returncode == 0, two.stderr
    assert second.compressions == 0  # nothing compressed: every variant came from nginx
    assert not warnings_of(two), two.stderr
    assert snapshot(first.project / "dist") == snapshot(second.project / "dist")
    assert "from the shared cache" in two.stdout
    assert dav.entries() == uploaded
    third = runners("third")
    as_json = build(wasmship, go, third, "--cache-url", dav.url, "--json")
    assert as_json.returncode == 0, as_json.stderr
    for result in (one, two, as_json):
        no_secret(result, first.project / "dist", second.project / "dist", second.cache)


def test_a_wrong_token_costs_one_warning_and_is_never_shown(
    wasmship: Run,
    go: Go,
    dav: DavServer,
    runners: Callable[[str], Runner],
) -> None:
    runner = runners("first")
    url = dav.url.replace("http://", "http://user:hunter2pass@")
    result = build(wasmship, go, runner, "--cache-url", url, token="")
    assert result.returncode == 0, result.stderr
    (warning,) = warnings_of(result)
    assert "401" in warning
    assert "hunter2pass" not in result.stdout + result.stderr
    assert dav.entries() == {}  # nginx refused every request: Basic is not the bearer token


POISONS = {
    "garbage": b"\x00garbage\xff" * 100,
    "brotli of other bytes": brotli.compress(b"other " * 5000),
    "longer than any variant": bytes(8 * 1024 * 1024),  # read no further than its bound
}


@pytest.mark.parametrize("poison", POISONS)
def test_poisoned_entries_never_ship_a_wrong_byte(
    wasmship: Run,
    go: Go,
    dav: DavServer,
    runners: Callable[[str], Runner],
    poison: str,
) -> None:
    first, second = runners("first"), runners("second")
    assert build(wasmship, go, first, "--cache-url", dav.url).returncode == 0
    right = dav.entries()
    bad = POISONS[poison]
    for path in right:
        path.write_bytes(bad)

    result = build(wasmship, go, second, "--cache-url", dav.url)
    assert result.returncode == 0, result.stderr
    assert second.compressions == first.compressions  # every entry refused, compressed here
    (warning,) = warnings_of(result)
    assert "does not decode to its input" in warning
    assert snapshot(first.project / "dist") == snapshot(second.project / "dist")
    verified = wasmship("verify", "--strict", "dist", cwd=second.project)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert dav.entries() == right  # every bad entry overwritten by the right bytes


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("down", ["closed port", "never answers"])
def test_a_down_cache_costs_one_warning_and_seconds(
    wasmship: Run,
    go: Go,
    runners: Callable[[str], Runner],
    down: str,
) -> None:
    baseline, runner = runners("baseline"), runners("runner")
    started = time.monotonic()
    assert build(wasmship, go, baseline).returncode == 0
    plain = time.monotonic() - started
    with silent_server() as silent:
        port = free_port() if down == "closed port" else silent
        started = time.monotonic()
        result = build(wasmship, go, runner, "--cache-url", f"http://127.0.0.1:{port}/")
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    (warning,) = warnings_of(result)
    assert "compresses without it" in warning
    assert took < plain + 8, (took, plain)  # one lookup's deadline (5 s) at most
    assert snapshot(baseline.project / "dist") == snapshot(runner.project / "dist")


@pytest.mark.parametrize(
    "url",
    ["ftp://user:pw-hidden@cache.example/", "http://user:pw-hidden@/x", "http://a:pw-hidden@h/?q"],
)
def test_a_bad_cache_url_is_refused_before_go_build_without_its_password(
    wasmship: Run, go: Go, runners: Callable[[str], Runner], url: str
) -> None:
    runner = runners("first")
    result = build(wasmship, go, runner, "--cache-url", url)
    assert result.returncode == 2, result.stderr
    assert "--cache-url" in result.stderr
    assert "pw-hidden" not in result.stdout + result.stderr
    assert not (runner.project / "dist").exists()
