"""--offline: the service worker in Chromium (offline, updates, dcz through it, a corrupt
generation) and what the build writes for it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from tests.serving import request, swap_in, wasmship_serve
from wasmship.check import check_site
from wasmship.distformat.schema import schema_problems

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

# No toolchain mark: the service worker (JavaScript) and the manifest (Python) are tested here,
# the same with any Go, so the Go version matrix does not run them again.

OLD_LINE = 'var message = "hello from Go WebAssembly"'
NEW_LINE = 'var message = "hello from Go WebAssembly, version 2"'
GREETING_V2 = "hello from Go WebAssembly, version 2"
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"

# Resolves once a service worker controls the page (its generation is installed and active).
CONTROLLED = """() => navigator.serviceWorker.ready.then(() => new Promise((resolve) => {
  if (navigator.serviceWorker.controller) { resolve(true); return; }
  navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
}))"""
# The wasmship caches and the URLs each holds.
CACHES = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    found[name] = (await (await caches.open(name)).keys()).map((r) => r.url);
  }
  return found;
}"""
REGISTRATIONS = "navigator.serviceWorker.getRegistrations().then((found) => found.length)"
UPDATES = """
window.__updates = [];
document.addEventListener("wasmship:update", (e) => window.__updates.push(e.detail));
"""


@dataclass(frozen=True)
class Builds:
    """hello built with --offline (v1), changed and built again (v2), then built without."""

    v1: Path
    v2: Path
    off: Path

    def module(self, dist: Path) -> dict[str, Any]:
        entry: dict[str, Any] = manifest_of(dist)["targets"][0]["files"]["main.wasm"]
        return entry


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Builds:
    base = tmp_path_factory.mktemp("offline")
    root = base / "hello"
    shutil.copytree(FIXTURES / "hello", root)

    build_in(root, go, "--offline")
    shutil.copytree(root / "dist", base / "v1")
    source = root / "main.go"
    source.write_text(source.read_text().replace(OLD_LINE, NEW_LINE))
    build_in(root, go, "--offline")
    shutil.copytree(root / "dist", base / "v2")
    build_in(root, go)
    shutil.copytree(root / "dist", base / "off")
    return Builds(base / "v1", base / "v2", base / "off")


def generation_urls(dist: Path, base: str) -> set[str]:
    """The URLs the dist's worker caches: the page (as its folder) and every listed file."""
    script = (dist / "sw.js").read_text()
    start = script.index("var GENERATION = ") + len("var GENERATION = ")
    generation = json.loads(script[start : script.index(";\n", start)])
    return {base} | {base + f["path"] for f in generation["files"]}


# -- the build -------------------------------------------------------------------------------


def test_the_manifest_records_the_worker_and_the_page_registers_it(builds: Builds) -> None:
    manifest = manifest_of(builds.v1)
    assert list(schema_problems(manifest)) == []
    offline = manifest["offline"]
    assert offline["worker"] == "sw.js" and len(offline["generation"]) == 16
    worker = manifest["targets"][0]["files"]["sw.js"]
    assert worker["path"] == "sw.js" and worker["immutable"] is False
    assert worker["content_type"] == "text/javascript; charset=utf-8"
    page = (builds.v1 / "index.html").read_text()
    assert 'data-worker="sw.js"' in page
    assert f'data-wasm-sha256="{builds.module(builds.v1)["sha256"]}"' in page
    # Every file of the generation with the integrity the manifest gives it.
    script = (builds.v1 / "sw.js").read_text()
    files = manifest["targets"][0]["files"]
    for logical in ("main.wasm", "wasm_exec.js", "loader.js", "loader.css", "icon.svg"):
        assert json.dumps(files[logical]["integrity"]) in script
    assert files["index.html"]["integrity"] in script
    assert offline["generation"] in script
    # A new module is a new generation.
    assert manifest_of(builds.v2)["offline"]["generation"] != offline["generation"]


def test_built_without_offline_after_it_the_worker_unregisters_itself(builds: Builds) -> None:
    manifest = manifest_of(builds.off)
    assert list(schema_problems(manifest)) == []
    assert manifest["offline"] == {"worker": "sw.js", "unregister": True}
    script = (builds.off / "sw.js").read_text()
    assert "var GENERATION = /* wasmship:generation */ null;" in script
    assert "data-worker" not in (builds.off / "index.html").read_text()


def test_no_worker_without_offline(built_hello: Path) -> None:
    assert not (built_hello / "sw.js").exists()
    assert "offline" not in manifest_of(built_hello)
    assert "data-worker" not in (built_hello / "index.html").read_text()


def test_offline_needs_wasmship_page(hello: Path, wasmship: Any) -> None:
    web = hello / "web"
    web.mkdir()
    (web / "index.html").write_text('<script src="wasm_exec.js"></script>\n')
    proc = wasmship("build", "--offline", "--static", "web", cwd=hello)
    assert proc.returncode == 2, proc.stderr
    assert "--offline: the service worker is registered by wasmship's loader" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_sends_the_worker_no_cache(builds: Builds, tmp_path: Path) -> None:
    with wasmship_serve(builds.v1, "--quiet", stderr=tmp_path / "serve.log") as served:
        got = request(served.port, "/sw.js")
        module = request(served.port, "/" + builds.module(builds.v1)["path"])
        report = check_site(served.url)
    assert got.status == 200 and got.header("Cache-Control") == "no-cache"
    assert got.header("Content-Type") == "text/javascript; charset=utf-8"
    assert "immutable" in (module.header("Cache-Control") or "")
    # check knows the worker: its Cache-Control is checked as no-cache, like the page's.
    assert not report.failures, report.failures
    cache = [r for r in report.results if r.file == "sw.js" and r.check == "Cache-Control"]
    assert cache and all(r.outcome == "ok" and r.expected.startswith("no-cache") for r in cache)


# -- Chromium --------------------------------------------------------------------------------


@pytest.mark.browser
def test_v1_runs_offline_after_one_visit(builds: Builds, serve: Serve, page: Page) -> None:
    policy = with_page_hashes(CSP, builds.v1)  # the page's early fetch, by its hash
    server = serve(builds.v1, Knobs(headers={"Content-Security-Policy": policy}))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert page.evaluate(CONTROLLED) is True
    assert recorded(page, "violations") == []  # the worker is 'self', its fetches too
    page.context.set_offline(True)
    try:
        answered: list[Response] = []
        page.on("response", lambda r: answered.append(r))
        page.reload()
        assert_app_ran(page, console)
    finally:
        page.context.set_offline(False)
    module = builds.module(builds.v1)["path"]
    from_worker = {r.url: r.from_service_worker for r in answered}
    assert from_worker[server.url] is True
    assert from_worker[server.url + module] is True
    caches = page.evaluate(CACHES)
    assert len(caches) == 1
    assert set(next(iter(caches.values()))) == generation_urls(builds.v1, server.url)


@pytest.mark.browser
def test_an_update_is_announced_installed_and_fetched_as_dcz(
    builds: Builds, tmp_path: Path, page: Page
) -> None:
    site = tmp_path / "site"
    shutil.copytree(builds.v1, site)
    seen: list[Response] = []
    page.context.on("response", lambda r: seen.append(r))  # the worker's own fetches too
    page.add_init_script(UPDATES)
    with wasmship_serve(site, "--quiet", stderr=tmp_path / "serve.log") as served:
        # localhost, not 127.0.0.1: Chromium keeps dictionaries only on secure contexts.
        url = f"http://localhost:{served.port}/"
        console = open_app(page, url)
        assert_app_ran(page, console)
        assert page.evaluate(CONTROLLED) is True
        page.wait_for_timeout(500)  # the dictionary is stored once the response has completed
        swap_in(site, builds.v2)
        seen.clear()
        # The tab becomes visible again: the loader asks manifest.json.
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_function("() => window.__updates.length > 0")
        v1, v2 = builds.module(builds.v1), builds.module(builds.v2)
        (update,) = page.evaluate("window.__updates")
        assert update["sha256"] == v2["sha256"] and update["running"] == v1["sha256"]
        assert update["module"] == url + v2["path"] and update["size"] == v2["size"]
        # Announced once the new generation is active: its module came through the worker,
        # as a dcz delta against the v1 module, exactly as without a worker.
        fetched = [r for r in seen if r.url == url + v2["path"]]
        assert len(fetched) == 1, [r.url for r in seen]
        delta = next(v for k, v in v2["encodings"].items() if k.startswith("dcz-"))
        assert fetched[0].request.service_worker is not None
        assert (
            fetched[0].request.all_headers().get("available-dictionary")
            == (delta["available_dictionary"])
        )
        assert fetched[0].all_headers().get("content-encoding") == "dcz"
        # After a reload v2 runs, every one of its files from the v2 cache, only that cache left.
        seen.clear()
        page.reload()
        page.locator("#greeting").wait_for(state="attached")
        assert page.locator("#greeting").inner_text() == GREETING_V2
        served_v2 = generation_urls(builds.v2, url)
        from_page = [r for r in seen if r.request.service_worker is None]
        assert {r.url for r in from_page} >= {url, url + v2["path"]}
        for response in from_page:
            if response.url in served_v2:
                assert response.from_service_worker, response.url
        caches = page.evaluate(CACHES)
        assert len(caches) == 1 and set(next(iter(caches.values()))) == served_v2
        # A v1 file is never answered from the v2 cache: the worker lets it go to the server,
        # which keeps it for tabs still running v1.
        old = page.evaluate(
            "(u) => fetch(u).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength])",
            url + v1["path"],
        )
        assert old == [200, v1["size"]]
        assert url + v1["path"] not in served_v2


@pytest.mark.browser
def test_a_corrupt_generation_is_never_activated(
    builds: Builds, tmp_path: Path, serve: Serve, page: Page
) -> None:
    site = tmp_path / "site"
    shutil.copytree(builds.v1, site)
    v2 = builds.module(builds.v2)["path"]
    server = serve(site, Knobs(bodies={"/" + v2: b"\0asm not the module the manifest names"}))
    page.add_init_script(UPDATES)
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert page.evaluate(CONTROLLED) is True
    generation = manifest_of(builds.v1)["offline"]["generation"]
    swap_in(site, builds.v2)
    assert page.evaluate("wasmship.checkForUpdate()") is None
    assert page.evaluate("window.__updates") == []  # nothing to reload into
    assert console.wait_for("warning", "could not be installed for offline use"), console.messages
    caches = page.evaluate(CACHES)
    assert [name.rsplit(" ", 1)[1] for name in caches] == [generation]
    page.context.set_offline(True)
    try:
        page.reload()
        page.locator("#greeting").wait_for(state="attached")
        assert page.locator("#greeting").inner_text() == GREETING
    finally:
        page.context.set_offline(False)


@pytest.mark.browser
def test_without_offline_no_worker_is_registered(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    server = serve(built_hello, Knobs())
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    page.wait_for_timeout(300)
    assert page.evaluate(REGISTRATIONS) == 0
    assert not [s for s in server.log if s.path.endswith("sw.js")]


@pytest.mark.browser
def test_turning_offline_off_unregisters_the_worker(
    builds: Builds, tmp_path: Path, serve: Serve, page: Page
) -> None:
    site = tmp_path / "site"
    shutil.copytree(builds.v1, site)
    server = serve(site, Knobs())
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert page.evaluate(CONTROLLED) is True
    swap_in(site, builds.off)
    # The v1 page (from the cache) checks: the worker that replaces it unregisters itself.
    page.reload()
    for _ in range(100):
        if page.evaluate(REGISTRATIONS) == 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(REGISTRATIONS) == 0
    assert page.evaluate(CACHES) == {}
    page.reload()
    page.locator("#greeting").wait_for(state="attached")
    assert page.locator("#greeting").inner_text() == GREETING_V2
