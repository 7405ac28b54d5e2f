"""[app]: the web app manifest (manifest.webmanifest) that makes the page installable, as the
build writes it, as serve and check treat it, and as Chromium reads it."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import CHROMIUM_ARGS, GREETING, Knobs, Serve
from tests.conftest import FIXTURES, Go, base_env, files_of, manifest_of, need, snapshot
from tests.serving import request, wasmship_serve
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext
from wasmship.builder.inputs import _settings
from wasmship.check import check_site
from wasmship.distformat.schema import schema_problems

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# No toolchain mark: the web app manifest and its icons are Python's work, the same with any
# Go, so the Go version matrix does not run them again.

APP = """static = "web"

[app]
name = "Hello app"
short_name = "Hello"
theme_color = "#336699"
background_color = "#ffffff"
icons = ["icons/192.png", "art/512.png"]
"""
IMMUTABLE = "public, max-age=31536000, immutable"


def png(side: int, rgb: tuple[int, int, int]) -> bytes:
    """A real square RGB PNG of one colour (Chromium decodes the icons it installs with)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def app_project(root: Path, config: str = APP) -> Path:
    """hello with a static folder holding the 192 icon, and the 512 one elsewhere."""
    project = root / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    (project / "web" / "icons").mkdir(parents=True)
    (project / "web" / "icons" / "192.png").write_bytes(png(192, (200, 30, 30)))
    (project / "art").mkdir()
    (project / "art" / "512.png").write_bytes(png(512, (30, 30, 200)))
    (project / "wasmship.toml").write_text(config)
    return project


def run_build(project: Path, go: Go, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "--quiet", *args],
        cwd=project,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def app_dist(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The app project built with [app] and --offline."""
    project = app_project(tmp_path_factory.mktemp("app"))
    proc = run_build(project, go, "--offline")
    assert proc.returncode == 0, proc.stderr
    return project / "dist"


# -- the build -------------------------------------------------------------------------------


def test_the_web_manifest_names_the_app_and_its_icons(app_dist: Path) -> None:
    files = files_of(app_dist)
    big = files["512.png"]
    assert big["path"].startswith("icons/512.") and big["immutable"] is True  # copied, hashed
    assert (app_dist / big["path"]).read_bytes() == png(512, (30, 30, 200))
    expected = {
        "background_color": "#ffffff",
        "display": "standalone",
        "icons": [
            {"sizes": "192x192", "src": "icons/192.png", "type": "image/png"},  # from static
            {"sizes": "512x512", "src": big["path"], "type": "image/png"},
        ],
        "name": "Hello app",
        "scope": "./",
        "short_name": "Hello",
        "start_url": "./",
        "theme_color": "#336699",
    }
    data = (app_dist / "manifest.webmanifest").read_bytes()
    assert data == (json.dumps(expected, indent=2, sort_keys=True) + "\n").encode()
    entry = files["manifest.webmanifest"]
    assert entry["path"] == "manifest.webmanifest"
    assert entry["immutable"] is False
    assert entry["content_type"] == "application/manifest+json"
    assert list(schema_problems(manifest_of(app_dist))) == []
    page = (app_dist / "index.html").read_text()
    assert '<link rel="manifest" href="manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#336699">' in page


def test_the_worker_precaches_the_web_manifest_and_icons(app_dist: Path) -> None:
    script = (app_dist / "sw.js").read_text()
    start = script.index("var GENERATION = ") + len("var GENERATION = ")
    generation = json.loads(script[start : script.index(";\n", start)])
    listed = {f["path"]: f for f in generation["files"]}
    big = files_of(app_dist)["512.png"]["path"]
    assert listed["manifest.webmanifest"]["fresh"] is True  # unhashed: revalidated
    assert listed["icons/192.png"]["fresh"] is True
    assert "fresh" not in listed[big]


def test_verify_passes_and_the_bytes_are_deterministic(
    app_dist: Path, go: Go, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "verify", str(app_dist)],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = app_project(tmp_path)
    assert run_build(again, go, "--offline", "--no-cache").returncode == 0
    assert snapshot(again / "dist") == snapshot(app_dist)


def test_a_changed_icon_rebuilds_the_dist(go: Go, tmp_path: Path) -> None:
    project = app_project(tmp_path)
    assert run_build(project, go).returncode == 0
    before = files_of(project / "dist")["512.png"]["path"]
    (project / "art" / "512.png").write_bytes(png(512, (0, 120, 0)))
    assert run_build(project, go).returncode == 0
    after = files_of(project / "dist")["512.png"]["path"]
    assert after != before and (project / "dist" / after).read_bytes() == png(512, (0, 120, 0))


def test_without_app_nothing_of_it_is_written(built_hello: Path) -> None:
    assert not (built_hello / "manifest.webmanifest").exists()
    assert "manifest.webmanifest" not in files_of(built_hello)
    page = (built_hello / "index.html").read_text()
    assert 'rel="manifest"' not in page and "theme-color" not in page


def test_without_app_the_inputs_digest_is_as_before(tmp_path: Path) -> None:
    # The inputs digest is in manifest.json: no "app" setting in it keeps every byte as it was.
    ctx = BuildContext(config=BuildConfig(workdir=tmp_path), staging=tmp_path, toolchain=None)  # type: ignore[arg-type]
    assert "app" not in _settings(ctx)


@pytest.mark.parametrize(
    ("table", "icon", "message"),
    [
        (
            'name = "A"\nicons = ["icons/missing.png"]',
            None,
            "/icons/missing.png: cannot read it (No such file or directory); an icon is a path "
            "in the static folder or from the project's folder",
        ),
        (
            'name = "A"\nicons = ["art/bad.png"]',
            b"not a picture",
            "/art/bad.png is neither a PNG nor an SVG image",
        ),
        (
            'name = "A"\ntheme-color = "red"',
            None,
            "wasmship.toml:3: unknown key 'theme-color' in [app] (did you mean 'theme_color'?)",
        ),
        ('short_name = "A"', None, "wasmship.toml:1: [app] needs a name"),
        ('name = "A"\ndisplay = "window"', None, "[app] display must be one of standalone,"),
    ],
)
def test_a_bad_app_table_is_refused_before_go_build(
    hello: Path,
    wasmship: Callable[..., subprocess.CompletedProcess[str]],
    table: str,
    icon: bytes | None,
    message: str,
) -> None:
    if icon is not None:
        (hello / "art").mkdir()
        (hello / "art" / "bad.png").write_bytes(icon)
    (hello / "wasmship.toml").write_text(f"[app]\n{table}\n")
    proc = wasmship("build", cwd=hello)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (hello / "dist").exists()


# -- serving and check -----------------------------------------------------------------------


def test_serve_sends_it_as_a_web_manifest_never_immutable(app_dist: Path, tmp_path: Path) -> None:
    with wasmship_serve(app_dist, "--quiet", stderr=tmp_path / "serve.log") as served:
        got = request(served.port, "/manifest.webmanifest")
        big = request(served.port, "/" + files_of(app_dist)["512.png"]["path"])
        report = check_site(served.url)
    assert got.status == 200 and got.body == (app_dist / "manifest.webmanifest").read_bytes()
    assert got.header("Content-Type") == "application/manifest+json"
    assert got.header("Cache-Control") == "no-cache"
    assert big.header("Cache-Control") == IMMUTABLE
    assert not report.failures, report.failures
    cache = [r for r in report.results if r.file == "manifest.webmanifest"]
    assert {r.check for r in cache} >= {"Content-Type", "Cache-Control"}
    assert all(r.outcome == "ok" for r in cache), cache


def test_check_fails_a_host_that_sends_it_immutable(app_dist: Path, serve: Serve) -> None:
    # As for sw.js and index.html: a stable URL cached forever would never show a new app.
    server = serve(app_dist, Knobs(headers={"Cache-Control": IMMUTABLE}))
    report = check_site(server.url)
    failed = [
        r
        for r in report.failures
        if r.file == "manifest.webmanifest" and r.check == "Cache-Control"
    ]
    assert failed and failed[0].expected.startswith("no-cache"), report.failures
    assert IMMUTABLE in failed[0].actual


# -- Chromium --------------------------------------------------------------------------------


def installability(browser: Browser, url: str, *, worker: bool) -> tuple[list[str], dict[str, Any]]:
    """Open URL in a fresh persistent profile (an incognito one is never installable) and ask
    Chromium, over CDP, why the page is not installable and which manifest it parsed. The
    profile is launched by the session's Playwright (BROWSER's type): a second sync Playwright
    cannot start inside the first one's event loop."""
    with tempfile.TemporaryDirectory() as profile:
        context = browser.browser_type.launch_persistent_context(
            profile, executable_path=need("chromium"), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context.set_default_timeout(30_000)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url)
            page.wait_for_function(
                "(text) => document.body.textContent.includes(text)", arg=GREETING
            )
            if worker:
                page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            cdp = context.new_cdp_session(page)
            errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
            parsed: dict[str, Any] = cdp.send("Page.getAppManifest")
        finally:
            context.close()
    return sorted(e["errorId"] for e in errors), parsed


@pytest.mark.browser
def test_chromium_finds_the_app_installable(
    app_dist: Path, built_hello: Path, tmp_path: Path, browser: Browser
) -> None:
    with wasmship_serve(app_dist, "--quiet", stderr=tmp_path / "serve.log") as served:
        errors, parsed = installability(browser, served.url, worker=True)
    assert errors == []
    assert parsed["url"] == served.url + "manifest.webmanifest"
    assert parsed["errors"] == []
    assert parsed["manifest"]["name"] == "Hello app"
    assert parsed["manifest"]["display"] == "kStandalone"
    assert parsed["manifest"]["startUrl"] == served.url
    assert [i["sizes"] for i in parsed["manifest"]["icons"]] == ["192x192", "512x512"]
    # The control: the same profile and server, a dist without [app], is not installable.
    with wasmship_serve(built_hello, "--quiet", stderr=tmp_path / "plain.log") as served:
        errors, _ = installability(browser, served.url, worker=False)
    assert "no-manifest" in errors
