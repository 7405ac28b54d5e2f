"""Returning visitors get a dcz delta: Chromium end to end through wasmship serve, nginx, Caddy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import FIXTURES, Go, base_env
from tests.servers import (
    free_port,
    server_command,
    stop,
    wait_until_listening,
)
from tests.serving import request, swap_in, wasmship_serve
from wasmship.check import check_site
from wasmship.encodings import dcz
from wasmship.verify import verify_dist

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

# Real nginx and Caddy: the live xdist group, with the module's builds on that one worker. No
# toolchain mark: deltas, negotiation and Chromium's dictionary are the same with any Go.
pytestmark = pytest.mark.servers

OLD_LINE = 'var message = "hello from Go WebAssembly"'
NEW_LINE = 'var message = "hello from Go WebAssembly, version 2"'
CHROME_ACCEPT = "gzip, deflate, br, zstd, dcb, dcz"  # what Chromium 130+ sends on localhost


@dataclass(frozen=True)
class Versions:
    """The same dist after building v1, and after building v2 over it (copies of both)."""

    v1: Path
    v2: Path

    def manifest(self, which: Path) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((which / "manifest.json").read_text())
        return loaded

    def module(self, which: Path) -> dict[str, Any]:
        entry: dict[str, Any] = self.manifest(which)["targets"][0]["files"]["main.wasm"]
        return entry

    def delta(self) -> dict[str, Any]:
        deltas = [v for k, v in self.module(self.v2)["encodings"].items() if k.startswith("dcz-")]
        assert len(deltas) == 1, deltas
        return deltas[0]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Versions:
    """Build hello, change one line of main.go, build again into the same dist."""
    base = tmp_path_factory.mktemp("updates")
    root = base / "hello"
    shutil.copytree(FIXTURES / "hello", root)

    def build() -> None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "wasmship",
                "build",
                "--quiet",
                "--server-config",
                "nginx,caddy",
            ],
            cwd=root,
            env=base_env(WASMSHIP_GO=go.binary),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr

    build()
    shutil.copytree(root / "dist", base / "v1")
    source = root / "main.go"
    assert OLD_LINE in source.read_text()
    source.write_text(source.read_text().replace(OLD_LINE, NEW_LINE))
    build()
    shutil.copytree(root / "dist", base / "v2")
    return Versions(base / "v1", base / "v2")


# -- the build -------------------------------------------------------------------------------


def test_deltas_come_from_the_cache_the_second_time(
    versions: Versions, go: Go, tmp_path: Path
) -> None:
    """v1 -> v2 again in another folder: the delta is taken from the cache, byte-identical."""
    root = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    env = base_env(WASMSHIP_GO=go.binary, COLUMNS="200")
    shutil.copytree(versions.v1, root / "dist")
    source = root / "main.go"
    source.write_text(source.read_text().replace(OLD_LINE, NEW_LINE))
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "--server-config", "nginx"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 of 1 kept, 1 from cache" in proc.stdout, proc.stdout
    path = versions.delta()["path"]
    assert (root / "dist" / path).read_bytes() == (versions.v2 / path).read_bytes()


def test_v2_has_a_delta_from_v1_smaller_than_br(versions: Versions) -> None:
    old = versions.module(versions.v1)
    new = versions.module(versions.v2)
    delta = versions.delta()
    assert delta["coding"] == "dcz" and delta["dictionary"] == old["sha256"]
    assert delta["available_dictionary"] == dcz.available_dictionary(old["sha256"])
    assert delta["path"] == f"{new['path']}.{old['sha256'][:8]}.dcz"
    body = (versions.v2 / delta["path"]).read_bytes()
    assert body[:8] == bytes.fromhex("5e2a4d1820000000")
    assert body[8:40] == bytes.fromhex(old["sha256"])
    assert len(body) < new["encodings"]["br"]["size"] / 4
    decoded = dcz.decompress(body, (versions.v1 / old["path"]).read_bytes(), new["size"])
    assert decoded == (versions.v2 / new["path"]).read_bytes()
    # The shim did not change: no delta for it, and it is not kept twice.
    shim = versions.manifest(versions.v2)["targets"][0]["files"]["wasm_exec.js"]
    assert not [k for k in shim["encodings"] if k.startswith("dcz-")]


def test_verify_decodes_the_delta_and_catches_a_broken_one(
    versions: Versions, tmp_path: Path
) -> None:
    result = verify_dist(versions.v2, strict=True)
    assert result.ok and not result.problems, [p.line() for p in result.problems]
    broken = tmp_path / "dist"
    shutil.copytree(versions.v2, broken)
    delta = versions.delta()
    (broken / versions.module(versions.v1)["path"]).unlink()  # the dictionary is gone
    problems = [p.line() for p in verify_dist(broken).errors]
    missing = f"its dictionary (sha256 {delta['dictionary'][:16]}…) is not a file of the dist"
    assert f"error: {delta['path']}: {missing}" in problems


# -- wasmship serve and nginx, over HTTP ------------------------------------------------------


@dataclass(frozen=True)
class Running:
    port: int
    reload: Callable[[], None]  # what a deploy does after swapping the dist in


@contextmanager
def restartable(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Running]:
    """Run a real server (CMD on PORT); its `reload` stops and starts it on the same port.

    A deploy reloads nginx or Caddy: the new config names the new deltas. The tests run them
    without a reload channel (single-process nginx, Caddy with `admin off`), so reloading here
    is a restart.
    """
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        with log.open("ab") as out:
            procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env))
        wait_until_listening(procs[-1], port, log)

    def reload() -> None:
        stop(procs[-1])
        start()

    try:
        start()
        yield Running(port, reload)
    finally:
        if procs:
            stop(procs[-1])


@contextmanager
def serving(kind: str, dist: Path, home: Path) -> Iterator[Running]:
    """Serve DIST with `wasmship serve`, or with nginx or Caddy and the config generated."""
    port = free_port()
    log = home / "server.log"
    if kind in ("nginx", "caddy"):
        cmd, env = server_command(kind, dist, home, port)
        with restartable(cmd, env, port, log) as running:
            yield running
    else:
        with wasmship_serve(dist, "--quiet", stderr=home / "serve.log") as served:
            yield Running(served.port, lambda: None)  # serve re-reads a new manifest itself


SERVERS = ["wasmship", "nginx", "caddy"]


@pytest.mark.parametrize("kind", SERVERS)
def test_negotiation_over_http(kind: str, versions: Versions, tmp_path: Path) -> None:
    module = versions.module(versions.v2)
    old = versions.module(versions.v1)
    delta = versions.delta()
    url = "/" + module["path"]
    with serving(kind, versions.v2, tmp_path) as running:
        port = running.port
        offered = {
            "Accept-Encoding": CHROME_ACCEPT,
            "Available-Dictionary": delta["available_dictionary"],
        }
        got = request(port, url, offered)
        assert got.status == 200 and got.header("Content-Encoding") == "dcz"
        assert got.body == (versions.v2 / delta["path"]).read_bytes()
        # One coding, the delta's own length and validator (not the module's, not br's).
        assert got.headers.get_all("Content-Encoding") == ["dcz"]
        assert got.header("Content-Length") == str(delta["size"])
        assert got.header("Content-Type") == "application/wasm"
        assert {t.strip() for t in (got.header("Vary") or "").split(",")} >= {
            "Accept-Encoding",
            "Available-Dictionary",
        }
        assert "match=" in (got.header("Use-As-Dictionary") or "")
        # A client that does not offer dcz gets br, whatever dictionary it names.
        no_dcz = request(port, url, {**offered, "Accept-Encoding": "gzip, deflate, br"})
        assert no_dcz.header("Content-Encoding") == "br"
        assert no_dcz.body == (versions.v2 / module["encodings"]["br"]["path"]).read_bytes()
        assert no_dcz.header("Content-Type") == "application/wasm"
        assert got.header("ETag") and got.header("ETag") != no_dcz.header("ETag")
        # dcz refused with q=0: br.
        refused = {**offered, "Accept-Encoding": "br, dcz;q=0"}
        assert request(port, url, refused).header("Content-Encoding") == "br"
        # A dictionary the server has no delta for: br.
        unknown = dcz.available_dictionary("ab" * 32)
        other = request(port, url, {**offered, "Available-Dictionary": unknown})
        assert other.header("Content-Encoding") == "br"
        # The kept old module still answers, immutable; with a dictionary it has no delta for.
        kept = request(port, "/" + old["path"], offered)
        assert kept.status == 200 and kept.header("Content-Encoding") == "br"
        assert "immutable" in (kept.header("Cache-Control") or "")
        assert "match=" in (kept.header("Use-As-Dictionary") or "")


@pytest.mark.parametrize("kind", SERVERS)
def test_check_passes_against_the_server(kind: str, versions: Versions, tmp_path: Path) -> None:
    with serving(kind, versions.v2, tmp_path) as running:
        report = check_site(f"http://127.0.0.1:{running.port}/")
    assert not report.failures, report.failures
    delta = versions.delta()
    module = versions.module(versions.v2)["path"]
    old = versions.module(versions.v1)["path"]
    got = {(r.file, r.check, r.outcome) for r in report.results if "dcz" in r.request}
    assert (module, "Content-Encoding", "ok") in got and (module, "body", "ok") in got
    assert any(r.file == old and r.check == "status" for r in report.results)
    assert delta["available_dictionary"] in next(
        r.request for r in report.results if "dcz" in r.request
    )


def test_check_fails_a_server_that_ignores_available_dictionary(
    versions: Versions, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(versions.v2, dist)
    (dist / versions.delta()["path"]).unlink()  # the server cannot find the delta any more
    with serving("nginx", dist, tmp_path) as running:
        report = check_site(f"http://127.0.0.1:{running.port}/")
    failed = {(r.file, r.check, r.expected, r.actual) for r in report.failures}
    module = versions.module(versions.v2)["path"]
    assert (module, "Content-Encoding", "dcz", "br") in failed


# -- Chromium --------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("kind", SERVERS)
def test_chromium_fetches_the_update_as_a_dcz_delta(
    kind: str, versions: Versions, tmp_path: Path, page: Page
) -> None:
    site = tmp_path / "site"
    shutil.copytree(versions.v1, site)
    new_module = versions.module(versions.v2)["path"]
    old_module = versions.module(versions.v1)["path"]
    # The listener only records: a listener that asks the browser for headers (a round trip
    # under the sync API) lets the test go on before it has appended, and an assertion then saw
    # an empty list (issue 22). Headers are asked for once the page has shown its greeting.
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    with serving(kind, site, tmp_path) as running:
        port = running.port
        # localhost, not 127.0.0.1: Chromium keeps dictionaries only on secure contexts.
        url = f"http://localhost:{port}/"
        page.goto(url)
        greeting = page.locator("#greeting")
        greeting.wait_for(state="attached")
        assert greeting.inner_text() == "hello from Go WebAssembly"
        first = [r for r in responses if r.url.endswith("/" + old_module)]
        assert first and "use-as-dictionary" in first[0].all_headers()
        page.wait_for_timeout(500)  # the dictionary is stored once the response has completed
        swap_in(site, versions.v2)
        running.reload()
        responses.clear()
        page.reload()
        greeting.wait_for(state="attached")
        assert greeting.inner_text() == "hello from Go WebAssembly, version 2"
        update = [r for r in responses if r.url.endswith("/" + new_module)]
        assert len(update) == 1, [r.url for r in responses]
        headers, sent = update[0].all_headers(), update[0].request.all_headers()
        assert update[0].status == 200
        assert sent.get("available-dictionary") == versions.delta()["available_dictionary"]
        assert headers.get("content-encoding") == "dcz"
        assert int(headers["content-length"]) == versions.delta()["size"]
        # A tab still running v1 can fetch its module: the old URL answers 200.
        old = page.request.get(url + old_module)
        assert old.status == 200
        assert old.body() == (versions.v1 / old_module).read_bytes()
