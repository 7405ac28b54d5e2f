"""End to end: one dist, served by `wasmship serve`, real nginx, Caddy and Apache, in Chromium.

Each server serves the dist built with every server config (the shared `configured` build) using
the config wasmship wrote for it; headless Chromium runs the app from it, and `wasmship check`
judges it. A server that sends the module as text/plain is the control: the app still runs
(the loader's fallback) but the console warns, and `check` fails naming the header and the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import Knobs, Serve, assert_app_ran, open_app, recorded
from tests.conftest import Run, files_of
from tests.servers import REAL_SERVERS, real_server
from tests.serving import wasmship_serve

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

pytestmark = pytest.mark.browser

SITES = ("wasmship-serve", *REAL_SERVERS)


@pytest.fixture(scope="module", params=SITES)
def site(
    request: pytest.FixtureRequest, configured: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of the configured dist behind `wasmship serve`, nginx, Caddy or Apache."""
    name: str = request.param
    home = tmp_path_factory.mktemp(name)
    if name == "wasmship-serve":
        with wasmship_serve(configured, "--quiet", stderr=home / "stderr.log") as served:
            yield served.url
    else:
        with real_server(name, configured, home) as server:
            yield server.url


def module_path(dist: Path) -> str:
    path: str = files_of(dist)["main.wasm"]["path"]
    return path


def mime_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "application/wasm" in m]


def check_json(wasmship: Run, url: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    """Run `wasmship check --json URL`: its exit code and its document."""
    proc = wasmship("check", "--json", url, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, document


def test_app_runs_with_a_brotli_module(site: str, configured: Path, page: Page) -> None:
    responses: list[Response] = []

    def seen(response: Response) -> None:
        responses.append(response)

    page.on("response", seen)
    console = open_app(page, site)
    assert_app_ran(page, console)

    path = module_path(configured)
    (module,) = [r for r in responses if r.url == site + path]
    assert module.status == 200
    headers = module.all_headers()
    assert headers["content-encoding"] == "br"
    assert headers["content-type"] == "application/wasm"
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    # What travelled is the brotli variant (Caddy sends it chunked: a little framing on top);
    # what Chromium decoded is the module byte for byte.
    br_size = files_of(configured)["main.wasm"]["encodings"]["br"]["size"]
    assert br_size <= module.request.sizes()["responseBodySize"] <= br_size * 1.01
    assert module.body() == (configured / path).read_bytes()
    # Streaming compilation took the response as it came: no MIME fallback.
    assert mime_warnings(console.of("warning")) == []
    assert recorded(page, "ready") == [{"module": path}]


def test_check_passes(site: str, configured: Path, wasmship: Run, tmp_path: Path) -> None:
    code, document = check_json(wasmship, site, tmp_path)
    assert code == 0, [r for r in document["results"] if r["outcome"] != "ok"]
    assert document["ok"] is True
    assert document["manifest"] == site + "manifest.json"
    bodies = {(r["file"], r["request"]) for r in document["results"] if r["check"] == "body"}
    assert (module_path(configured), "Accept-Encoding: br") in bodies
    assert len(bodies) == sum(1 + len(e["encodings"]) for e in files_of(configured).values())


def test_wasm_served_as_text_plain_runs_but_warns_and_fails_check(
    configured: Path, serve: Serve, page: Page, wasmship: Run, tmp_path: Path
) -> None:
    server = serve(configured, Knobs(wasm_content_type="text/plain"))
    path = module_path(configured)

    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert [s.headers["Content-Type"] for s in server.log if s.path == "/" + path] == ["text/plain"]
    assert console.wait_for("warning", "text/plain"), console.messages
    warnings = mime_warnings(console.of("warning"))
    assert len(warnings) == 1, console.messages
    assert '"text/plain"' in warnings[0]
    assert path in warnings[0]

    proc = wasmship("check", server.url, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert f"FAIL: {path}: Content-Type: expected application/wasm, got text/plain" in proc.stdout
    assert "Traceback" not in proc.stderr
    # The type is wrong for the module only: the scripts and the page are typed right.
    code, document = check_json(wasmship, server.url, tmp_path)
    assert code == 1
    wrong_types = {
        r["file"]
        for r in document["results"]
        if r["check"] == "Content-Type" and r["outcome"] != "ok"
    }
    assert wrong_types == {path}
