"""The loader's update signal in Chromium: wasmship:update when a newer build is live, no worker
needed, under a strict CSP; never a reload by itself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import (
    GREETING,
    Knobs,
    Serve,
    assert_app_ran,
    open_app,
    recorded,
    with_page_hashes,
)
from tests.conftest import FIXTURES, Go, build_in, manifest_of

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.toolchain, pytest.mark.browser]

OLD_LINE = 'var message = "hello from Go WebAssembly"'
NEW_LINE = 'var message = "hello from Go WebAssembly, version 2"'
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
UPDATES = """
window.__updates = [];
document.addEventListener("wasmship:update", (e) => window.__updates.push(e.detail));
"""
# A template that asks the loader to check every second.
TEMPLATE = """<!doctype html>
<html lang="en" data-wasmship-update-interval="1">
<head><meta charset="utf-8"><title>t</title>
<!-- wasmship:scripts -->
</head>
<body></body>
</html>
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, go: Go) -> tuple[Path, Path]:
    """hello built, then changed and built again (with a template that checks every second)."""
    base = tmp_path_factory.mktemp("signal")
    root = base / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    (root / "page.html").write_text(TEMPLATE)

    build_in(root, go, "--html", "page.html")
    shutil.copytree(root / "dist", base / "v1")
    source = root / "main.go"
    source.write_text(source.read_text().replace(OLD_LINE, NEW_LINE))
    build_in(root, go, "--html", "page.html")
    shutil.copytree(root / "dist", base / "v2")
    return base / "v1", base / "v2"


def swap_in(site: Path, dist: Path) -> None:
    retired = site.with_name(site.name + "-old")
    site.rename(retired)
    shutil.copytree(dist, site)
    shutil.rmtree(retired)


def module(dist: Path) -> dict[str, object]:
    entry: dict[str, object] = manifest_of(dist)["targets"][0]["files"]["main.wasm"]
    return entry


def test_a_new_build_is_announced_never_reloaded(
    versions: tuple[Path, Path], tmp_path: Path, serve: Serve, page: Page
) -> None:
    v1, v2 = versions
    site = tmp_path / "site"
    shutil.copytree(v1, site)
    # The pages' early fetches, by their hashes: v1's now, v2's after the deploy.
    policy = with_page_hashes(with_page_hashes(CSP, v1), v2)
    server = serve(site, Knobs(headers={"Content-Security-Policy": policy}))
    page.add_init_script(UPDATES)
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    # The same build: nothing to announce.
    assert page.evaluate("wasmship.checkForUpdate()") is None
    swap_in(site, v2)
    # The interval (data-wasmship-update-interval="1" on <html>) finds it: no event needed.
    for _ in range(100):  # polled with evaluate: wait_for_function evaluates a string (CSP)
        if page.evaluate("window.__updates.length"):
            break
        page.wait_for_timeout(100)
    (update,) = page.evaluate("window.__updates")
    new, old = module(v2), module(v1)
    assert update == {
        "module": f"{server.url}{new['path']}",
        "sha256": new["sha256"],
        "size": new["size"],
        "integrity": new["integrity"],
        "go": manifest_of(v2)["go"]["version"],
        "running": old["sha256"],
    }
    asked = [s for s in server.log if s.path == "/manifest.json"]
    assert asked and all(s.status == 200 for s in asked)
    # Announced once, and the page never reloads by itself: still v1, still running.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(1500)
    assert len(page.evaluate("window.__updates")) == 1
    assert page.locator("#greeting").inner_text() == GREETING
    assert recorded(page, "violations") == []  # connect-src 'self' covers manifest.json
    assert console.of("warning") == []
    assert {s.path for s in server.log if s.status != 200} <= {"/favicon.ico"}  # the template's


def test_the_signal_asks_for_a_fresh_manifest(
    versions: tuple[Path, Path], serve: Serve, page: Page
) -> None:
    v1, _ = versions
    server = serve(v1, Knobs())
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    requests: list[dict[str, str]] = []
    page.on(
        "request", lambda r: requests.append(r.all_headers()) if r.url.endswith("json") else None
    )
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_timeout(500)
    # fetch(…, {cache: "no-cache"}) revalidates: Chromium sends max-age=0 (the Fetch standard).
    assert requests and requests[0].get("cache-control") == "max-age=0"
