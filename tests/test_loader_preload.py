"""What the page preloads, and why not the module a negotiating host sends.

For a static host (--hosting static) the page preloads the module's .gz, which the loader then
fetches with the same URL, mode and credentials: one request, no console warning
(tests/test_hosting_static.py runs it in Chromium). A module sent with Content-Encoding is not
preloaded: Chromium hands a preloaded response to fetch() without its code cache, so a later
visit compiles the module afresh; the last test shows it, and fails the day Chromium keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import Knobs, Serve, assert_app_ran, open_app, recorded
from tests.conftest import Go, Run, build_fixture, files_of, without_policy
from tests.test_loader_browser import ON_DEMAND_SCRIPT, ON_DEMAND_TEMPLATE
from tests.test_loader_code_cache import built_heavy, served_heavy, visit  # noqa: F401
from wasmship.builder.steps.loader import MANUAL_START, early_fetch_tag

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.serving import Served


@pytest.mark.parametrize(
    ("html", "manual"),
    [
        ('<html lang="en" data-wasmship-start="manual">', True),
        ("<HTML data-wasmship-start=manual>", True),
        ("<html\n  data-wasmship-start='manual'\n  lang=en>", True),
        ('<html lang="en" data-wasmship-start="auto">', False),
        ('<html lang="en">\n<body data-wasmship-start="manual">', False),
        ('<html data-wasmship-started="manual">', False),
    ],
)
def test_manual_start_is_read_as_the_loader_reads_it(html: str, manual: bool) -> None:
    assert bool(MANUAL_START.search(html)) is manual


def test_a_negotiating_host_s_page_preloads_nothing(built_hello: Path) -> None:
    assert 'rel="preload"' not in (built_hello / "index.html").read_text()


@pytest.fixture(scope="module")
def built_on_demand_static(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The on-demand page of docs/loader.md, for a static host."""
    root = tmp_path_factory.mktemp("on-demand-static")
    (root / "page.html").write_text(ON_DEMAND_TEMPLATE, encoding="utf-8")
    # The web folder is inside the project: a static folder outside it is refused.
    (root / "hello" / "web").mkdir(parents=True)
    (root / "hello" / "web" / "app.js").write_text(ON_DEMAND_SCRIPT, encoding="utf-8")
    args = ("--html", str(root / "page.html"), "--static", "web")
    return build_fixture(root, go, "hello", *args, "--hosting", "static") / "dist"


@pytest.mark.browser
def test_a_page_that_loads_on_demand_preloads_nothing(
    built_on_demand_static: Path, serve: Serve, page: Page
) -> None:
    dist = built_on_demand_static
    assert 'rel="preload"' not in (dist / "index.html").read_text()
    gz = "/" + files_of(dist)["main.wasm"]["encodings"]["gzip"]["path"]
    server = serve(dist, Knobs())
    console = open_app(page, server.url)
    page.wait_for_load_state("networkidle")
    assert not [s for s in server.log if ".wasm" in s.path]
    page.locator("#start").dblclick()
    assert_app_ran(page, console)
    assert [s.path for s in server.log if ".wasm" in s.path] == [gz]
    assert recorded(page, "progress")[-1]["fraction"] == 1


def test_the_project_s_own_page_is_left_as_it_is(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    """wasmship adds no preload to a page it did not write, and says what static hosting
    cannot change there."""
    root = project("workerapp")
    proc = wasmship("build", "--static", "web", "--hosting", "static", cwd=root)
    assert proc.returncode == 0, proc.stderr
    # Its stylesheet and script are hashed, with SRI (issue 27); nothing else changes.
    page = without_policy((root / "dist" / "index.html").read_text())
    page = re.sub(r' integrity="[^"]*"', "", re.sub(r"\.[0-9a-f]{8}\.", ".", page))
    assert page == (root / "web" / "index.html").read_text()
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "--hosting static: your own index.html starts the module" in said


@pytest.mark.browser
def test_chromium_drops_the_code_cache_of_a_preloaded_module(
    built_heavy: Path,  # noqa: F811
    served_heavy: Served,  # noqa: F811
    browser: Browser,
    tmp_path: Path,
) -> None:
    """The same dist as tests/test_loader_code_cache.py, whose second visit reads the cache:
    with the module preloaded, the second visit compiles it again (and writes the cache again)."""
    wasm = files_of(built_heavy)["main.wasm"]["path"]
    page = (built_heavy / "index.html").read_text()
    preload = f'<link rel="preload" href="{wasm}" as="fetch" crossorigin="anonymous">\n'
    # Without the page's early fetch (docs/loader.md#early-fetch), so the loader's own fetch()
    # is the one that takes the preloaded response over.
    assert page.count(early_fetch_tag(wasm)) == 1
    page = page.replace(early_fetch_tag(wasm) + "\n", "")
    (built_heavy / "preload.html").write_text(
        re.sub('(<link rel="stylesheet")', preload + r"\1", page)
    )
    url = served_heavy.url + "preload.html"
    module_url = served_heavy.url + wasm
    profile = tmp_path / "profile"
    try:
        first = visit(browser.browser_type, profile, url, module_url, first=True)
        second = visit(browser.browser_type, profile, url, module_url, first=False)
    finally:
        (built_heavy / "preload.html").unlink()
    assert first.events["wasm.SerializeModule"] >= 1, first.events
    (response,) = second.responses
    assert response["fromDiskCache"]  # the same response as the plain page's second visit
    assert second.events["wasm.Deserialize"] == 0, second.events
    assert second.events["wasm.BaselineFinished"] == 1, second.events
