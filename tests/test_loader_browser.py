"""The loader page in real headless Chromium, served right and served badly."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import (
    Knobs,
    Serve,
    StaticServer,
    assert_app_ran,
    open_app,
    recorded,
    with_page_hashes,
)
from tests.conftest import Go, build_fixture, files_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

pytestmark = pytest.mark.browser

STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'"


def strict_csp(dist: Path) -> str:
    """STRICT_CSP with the dist's page's inline script hashes (its early fetch)."""
    return with_page_hashes(STRICT_CSP, dist)


def entry(dist: Path, name: str) -> dict[str, Any]:
    """The manifest entry of logical file NAME (main.wasm, wasm_exec.js, ...)."""
    return files_of(dist)[name]


def url_path(dist: Path, name: str) -> str:
    return "/" + str(entry(dist, name)["path"])


def wait_for_error(page: Page) -> str:
    """Wait until the loader reports a failure; the indicator's visible text."""
    status = page.locator('#wasmship-status[data-state="error"]')
    status.wait_for(state="visible")
    assert status.get_attribute("role") == "alert"
    # No endless spinner: the progress bar is gone once the load has failed.
    assert status.locator("progress").count() == 0
    return status.inner_text()


def test_built_page_runs_the_go_program_and_hides_the_indicator(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    server = serve(built_hello, Knobs())
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    # Chromium asks for the page's icon on its own schedule, after the load event and not
    # always before the module has run: wait for that request (a bounded wait, then compare).
    icon = url_path(built_hello, "icon.svg")
    deadline = time.monotonic() + 10
    while icon not in {s.path for s in server.log} and time.monotonic() < deadline:
        time.sleep(0.05)
    # Everything the page asked for was there; its icon link spares the /favicon.ico guess.
    assert {s.path: s.status for s in server.log} == {
        "/index.html": 200,
        **{
            url_path(built_hello, name): 200
            for name in ("wasm_exec.js", "loader.js", "loader.css", "icon.svg", "main.wasm")
        },
    }
    assert [e for e in console.of("error") if "Failed to load resource" not in e] == []
    # Streaming compilation was used: no MIME warning, and the module came as application/wasm.
    assert not [w for w in console.of("warning") if "application/wasm" in w]
    module = url_path(built_hello, "main.wasm")
    served = [s for s in server.log if s.path == module]
    assert [(s.status, s.headers["Content-Type"]) for s in served] == [(200, "application/wasm")]
    assert recorded(page, "ready") == [{"module": module.lstrip("/")}]


def test_missing_module_shows_an_error(built_hello: Path, serve: Serve, page: Page) -> None:
    module = url_path(built_hello, "main.wasm")
    server = serve(built_hello, Knobs(missing=frozenset({module})))
    console = open_app(page, server.url)
    text = wait_for_error(page)
    assert "Could not start the application" in text
    assert f"{module.lstrip('/')}: HTTP 404" in text
    assert page.locator("#greeting").count() == 0
    assert [e["message"] for e in recorded(page, "errors")] == [
        f"{module.lstrip('/')}: HTTP 404 Not Found"
    ]
    assert any(
        e.startswith(f"wasmship: {module.lstrip('/')} failed to load") and "HTTP 404" in e
        for e in console.of("error")
    ), console.messages


@pytest.mark.parametrize("content_type", ["application/wasm", "text/plain"])
def test_corrupt_module_shows_an_error(
    built_hello: Path, serve: Serve, page: Page, content_type: str
) -> None:
    """Garbage instead of the module fails visibly, streaming or not."""
    module = url_path(built_hello, "main.wasm")
    garbage = b"<html>this is not a WebAssembly module</html>\n" * 64
    server = serve(built_hello, Knobs(wasm_content_type=content_type, bodies={module: garbage}))
    open_app(page, server.url)
    text = wait_for_error(page)
    assert "Could not start the application" in text
    # Chromium's CompileError names the bad magic number it found instead of \0asm.
    assert "magic word 00 61 73 6d" in text
    assert page.locator("#greeting").count() == 0
    assert len(recorded(page, "errors")) == 1


def test_runs_under_a_strict_content_security_policy(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    policy = strict_csp(built_hello)
    server = serve(built_hello, Knobs(headers={"Content-Security-Policy": policy}))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert all(s.headers["Content-Security-Policy"] == policy for s in server.log)
    assert recorded(page, "violations") == []
    assert not [m for m in console.messages if "Content Security Policy" in m[1]]


def test_runs_under_default_src_self_with_no_violation_at_all(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    """No inline style, and one inline script (the early fetch) allowed by its hash: the page
    needs nothing beyond 'self' and that hash."""
    policy = f"default-src 'self'; {strict_csp(built_hello)}"
    server = serve(built_hello, Knobs(headers={"Content-Security-Policy": policy}))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert recorded(page, "violations") == []
    assert not [m for m in console.messages if "Content Security Policy" in m[1]]
    # The indicator's stylesheet applied: its centred text comes from loader.css.
    assert page.eval_on_selector("#wasmship-status", "e => getComputedStyle(e).textAlign") == (
        "center"
    )


def test_the_page_starts_the_module_fetch_before_the_loader_has_arrived(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    """The page's inline script fetches the module itself (docs/loader.md#early-fetch): with
    no loader at all, the module is still asked for, once."""
    module = url_path(built_hello, "main.wasm")
    loader = url_path(built_hello, "loader.js")
    server = serve(built_hello, Knobs(missing=frozenset({loader})))
    open_app(page, server.url)
    deadline = time.monotonic() + 10
    while not {module, loader} <= {s.path for s in server.log} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(s.path, s.status) for s in server.log if s.path in (module, loader)] in (
        [(module, 200), (loader, 404)],
        [(loader, 404), (module, 200)],
    )


def test_a_policy_without_the_early_fetch_s_hash_blocks_it_and_the_loader_fetches_itself(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    """A host sending its own policy without the page's hash: the early fetch is blocked (one
    violation, the inline script), the loader fetches the module itself, once, and it runs."""
    module = url_path(built_hello, "main.wasm")
    server = serve(built_hello, Knobs(headers={"Content-Security-Policy": STRICT_CSP}))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert recorded(page, "violations") == ["script-src-elem blocked inline"]
    assert [s.path for s in server.log].count(module) == 1
    assert recorded(page, "ready") == [{"module": module.lstrip("/")}]


def test_csp_without_wasm_unsafe_eval_is_reported_on_the_page(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    """The control for the test above: a violation is seen, and the page says what failed."""
    server = serve(built_hello, Knobs(headers={"Content-Security-Policy": "script-src 'self'"}))
    open_app(page, server.url)
    text = wait_for_error(page)
    assert "Could not start the application" in text
    assert "WebAssembly" in text
    assert recorded(page, "violations"), "Chromium reported no CSP violation"


@pytest.mark.parametrize("content_type", ["application/wasm", "text/plain"])
def test_progress_counts_decoded_bytes_of_a_brotli_response(
    built_hello: Path, serve: Serve, page: Page, content_type: str
) -> None:
    """Streaming (progress counted on a copy of the response) or not (the fallback)."""
    wasm = entry(built_hello, "main.wasm")
    module = url_path(built_hello, "main.wasm")
    knobs = Knobs(brotli=True, trickle=32 * 1024, wasm_content_type=content_type)
    server = serve(built_hello, knobs)
    responses: dict[str, dict[str, str]] = {}

    def seen(response: Response) -> None:
        responses[response.url] = response.headers

    page.on("response", seen)
    console = open_app(page, server.url)
    assert_app_ran(page, console)

    # The module really travelled brotli-compressed, with the compressed Content-Length.
    br_size = wasm["encodings"]["br"]["size"]
    assert br_size < wasm["size"]
    (served,) = [s for s in server.log if s.path == module]
    assert served.headers["Content-Encoding"] == "br"
    assert served.headers["Content-Length"] == str(br_size)
    assert responses[server.url + module.lstrip("/")]["content-encoding"] == "br"

    events = recorded(page, "progress")
    fractions = [e["fraction"] for e in events]
    assert fractions[0] == 0
    assert fractions[-1] == 1.0
    assert all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
    # Real counting: several steps in between, each the decoded bytes over the manifest size.
    assert len([f for f in fractions if 0 < f < 1]) >= 2, fractions
    assert all(e["total"] == wasm["size"] for e in events)
    assert all(e["fraction"] == min(e["loaded"] / e["total"], 1) for e in events)
    assert events[-1]["loaded"] == wasm["size"]
    assert page.locator("#wasmship-status").get_attribute("data-progress") == "1.0000"


class _Status(HTMLParser):
    """The attributes of #wasmship-status and of the first <script>, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.status: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id") == "wasmship-status":
            self.status = attributes
            self.order.append("status")
        elif tag == "script" and "src" not in attributes:
            self.order.append("inline script")  # runs at once: the parser waits for nothing
        elif tag == "script":
            self.order.append("script" if "defer" in attributes else "blocking script")


def test_indicator_is_in_the_markup_before_any_script_runs(
    built_hello: Path, browser: Browser, serve: Serve
) -> None:
    parser = _Status()
    parser.feed((built_hello / "index.html").read_text(encoding="utf-8"))
    assert parser.status is not None
    assert "hidden" not in parser.status
    assert parser.status["data-state"] == "loading"
    # Every script file is deferred, so the parser reaches the indicator before any of them
    # runs; the one inline script (the early fetch) comes first and loads nothing itself.
    assert parser.order.count("script") == 2 and "blocking script" not in parser.order
    assert parser.order[0] == "inline script" and parser.order.count("inline script") == 1

    # With JavaScript off, what the user sees is the markup alone: the indicator is there.
    server = serve(built_hello, Knobs())
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.url)
        status = page.locator("#wasmship-status")
        assert status.is_visible()
        assert status.inner_text().splitlines()[0] == "Loading…"
        assert status.locator("progress").is_visible()
        assert "This application needs JavaScript." in status.inner_text()
    finally:
        context.close()


def test_tampered_shim_is_blocked_by_sri_and_reported(
    built_hello: Path, serve: Serve, page: Page
) -> None:
    shim = url_path(built_hello, "wasm_exec.js")
    tampered = (built_hello / shim.lstrip("/")).read_bytes() + b"\n// tampered\n"
    server = serve(built_hello, Knobs(bodies={shim: tampered}))
    console = open_app(page, server.url)
    text = wait_for_error(page)
    assert "wasm_exec.js did not load" in text
    assert console.wait_for("error", "integrity"), console.messages


@pytest.fixture(scope="module")
def built_crash(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    return build_fixture(tmp_path_factory.mktemp("crash"), go, "crash") / "dist"


def test_go_panic_is_shown_on_the_page(built_crash: Path, serve: Serve, page: Page) -> None:
    server = serve(built_crash, Knobs())
    console = open_app(page, server.url)
    text = wait_for_error(page)
    assert text == (
        "The application stopped: the Go program exited with code 2"
        " (panic: crash fixture: deliberate panic)"
    )
    assert console.wait_for("log", "panic: crash fixture"), console.messages


def test_go_exit_code_is_shown_on_the_page(built_crash: Path, serve: Serve, page: Page) -> None:
    server = serve(built_crash, Knobs())
    open_app(page, server.url + "#exit")
    text = wait_for_error(page)
    assert text == "The application stopped: the Go program exited with code 3"


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>My app</title>
<!-- wasmship:scripts -->
</head>
<body>
<header><h1>My app</h1></header>
<main id="app"><!-- wasmship:status --></main>
</body>
</html>
"""


def test_html_template_markers_place_the_scripts_and_the_indicator(
    tmp_path_factory: pytest.TempPathFactory, go: Go, serve: Serve, page: Page
) -> None:
    root = tmp_path_factory.mktemp("template")
    template = root / "page.html"
    template.write_text(TEMPLATE, encoding="utf-8")
    dist = build_fixture(root, go, "hello", "--html", str(template)) / "dist"
    html = (dist / "index.html").read_text(encoding="utf-8")
    assert "<!-- wasmship:" not in html
    head, _, body = html.partition("</head>")
    assert f'src="{entry(dist, "loader.js")["path"]}"' in head
    assert '<main id="app"><div id="wasmship-status"' in body

    server = serve(dist, Knobs(headers={"Content-Security-Policy": strict_csp(dist)}))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert page.locator("header h1").inner_text() == "My app"
    assert page.locator("#app > #wasmship-status").count() == 1
    assert recorded(page, "violations") == []


# The page of docs/loader.md's "Load on demand": the module is fetched on the first click only.
ON_DEMAND_TEMPLATE = """<!doctype html>
<html lang="en" data-wasmship-start="manual">
<head>
<meta charset="utf-8">
<title>My app</title>
<!-- wasmship:scripts -->
<script defer src="app.js"></script>
</head>
<body>
<button id="start" type="button">Start</button>
<div id="wasmship-status" role="status" aria-live="polite" hidden>
<p data-wasmship-message></p><progress max="1"></progress>
</div>
</body>
</html>
"""

ON_DEMAND_SCRIPT = """// A click starts the Go program; wasmship.load() downloads the module once.
document.getElementById("start").addEventListener("click", function (event) {
  var button = event.currentTarget;
  wasmship.load().then(function () {
    button.hidden = true;
  }, function () {
    // the loader shows the error on the page
  });
});
"""


@pytest.fixture(scope="module")
def built_on_demand(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    root = tmp_path_factory.mktemp("on-demand")
    (root / "page.html").write_text(ON_DEMAND_TEMPLATE, encoding="utf-8")
    # The web folder is inside the project: a static folder outside it is refused.
    (root / "hello" / "web").mkdir(parents=True)
    (root / "hello" / "web" / "app.js").write_text(ON_DEMAND_SCRIPT, encoding="utf-8")
    args = ("--html", str(root / "page.html"), "--static", "web")
    return build_fixture(root, go, "hello", *args) / "dist"


def module_requests(server: StaticServer, dist: Path) -> int:
    return [s.path for s in server.log].count(url_path(dist, "main.wasm"))


def test_manual_start_downloads_the_module_on_the_first_load_only(
    built_on_demand: Path, serve: Serve, page: Page
) -> None:
    dist = built_on_demand
    server = serve(dist, Knobs(headers={"Content-Security-Policy": STRICT_CSP}))
    console = open_app(page, server.url)
    page.wait_for_load_state("networkidle")  # the deferred scripts ran before "load"
    # Everything but the module: the page is idle, and so is the (hidden) indicator.
    assert module_requests(server, dist) == 0
    assert page.evaluate("typeof wasmship.load") == "function"
    assert url_path(dist, "loader.js") in [s.path for s in server.log]
    status = page.locator("#wasmship-status")
    assert status.get_attribute("data-state") == "idle"
    assert status.is_hidden()
    assert recorded(page, "progress") == []

    page.locator("#start").dblclick()  # two clicks, two load() calls: one download
    assert_app_ran(page, console)
    assert page.locator("#start").is_hidden()
    assert page.evaluate("wasmship.load() === wasmship.load()")  # later calls: the same promise
    started = page.evaluate("wasmship.load().then((app) => [app.module, app.go.exited])")
    assert started == [url_path(dist, "main.wasm").lstrip("/"), True]  # hello's main returned
    assert module_requests(server, dist) == 1
    fractions = [e["fraction"] for e in recorded(page, "progress")]
    assert fractions[0] == 0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert status.get_attribute("data-progress") == "1.0000"
    assert recorded(page, "ready") == [{"module": url_path(dist, "main.wasm").lstrip("/")}]
    assert recorded(page, "violations") == []


def test_manual_start_shows_a_failed_load_and_rejects(
    built_on_demand: Path, serve: Serve, page: Page
) -> None:
    module = url_path(built_on_demand, "main.wasm")
    server = serve(built_on_demand, Knobs(missing=frozenset({module})))
    open_app(page, server.url)
    assert page.locator("#wasmship-status").is_hidden()  # nothing failed yet: nothing was asked
    rejected = page.evaluate("wasmship.load().then(() => 'resolved', (error) => error.message)")
    assert rejected == f"{module.lstrip('/')}: HTTP 404 Not Found"
    assert "HTTP 404" in wait_for_error(page)
    assert module_requests(server, built_on_demand) == 1
    assert len(recorded(page, "errors")) == 1
