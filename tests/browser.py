"""Headless Chromium and a small static server with knobs, for tests that load a dist for real.

Loaded as a pytest plugin by tests/conftest.py, so any test file can ask for `browser`, `page`
or `serve`. The server is deliberately not wasmship's own: its knobs let a test serve a dist
the way a misconfigured or hostile server would (wrong MIME type, 404, garbage, strict CSP).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import missing, need
from wasmship.builder.csp import inline_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Knobs:
    """How the test server bends the rules; the defaults serve a folder correctly."""

    # Content-Type for .wasm files (e.g. "text/plain" to force the loader's fallback).
    wasm_content_type: str = "application/wasm"
    # URL paths ("/main.1234abcd.wasm") answered with 404 even though the file exists.
    missing: frozenset[str] = frozenset()
    # URL paths answered with these bytes instead of the file's (a corrupt module, a bad script).
    bodies: Mapping[str, bytes] = field(default_factory=dict)
    # Headers added to every response (e.g. Content-Security-Policy).
    headers: Mapping[str, str] = field(default_factory=dict)
    # Serve a file's precompressed `.br` sibling with Content-Encoding: br when the client
    # accepts br, as nginx's brotli_static does.
    brotli: bool = False
    # Send bodies in pieces of this many bytes with a pause between them (0: all at once), so
    # the browser sees a slow network and reads a large body in several chunks.
    trickle: int = 0


@dataclass(frozen=True)
class Served:
    """One response the server sent: what was asked, and the status and headers it got."""

    path: str
    status: int
    headers: Mapping[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, knobs: Knobs) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.knobs = knobs
        self.log: list[Served] = []
        self.log_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test asserts on `StaticServer.log` instead."""

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, *, with_body: bool) -> None:
        knobs = self.server.knobs
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        file = (self.server.root / path.lstrip("/")).resolve()
        inside = file.is_relative_to(self.server.root)
        headers: dict[str, str] = {}
        if path in knobs.missing or not inside or not (file.is_file() or path in knobs.bodies):
            status, body = 404, b"not found\n"
            headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            status = 200
            body = knobs.bodies[path] if path in knobs.bodies else file.read_bytes()
            headers["Content-Type"] = self._content_type(file)
            compressed = file.with_name(file.name + ".br")
            if knobs.brotli and path not in knobs.bodies and compressed.is_file():
                headers["Vary"] = "Accept-Encoding"
                if self._accepts("br"):
                    body = compressed.read_bytes()
                    headers["Content-Encoding"] = "br"
        headers["Content-Length"] = str(len(body))
        headers["Cache-Control"] = "no-store"
        headers.update(knobs.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with self.server.log_lock:
            self.server.log.append(Served(path=path, status=status, headers=headers))
        if with_body and knobs.trickle:
            for start in range(0, len(body), knobs.trickle):
                self.wfile.write(body[start : start + knobs.trickle])
                self.wfile.flush()
                time.sleep(0.01)
        elif with_body:
            self.wfile.write(body)

    def _content_type(self, file: Path) -> str:
        if file.suffix == ".wasm":
            return self.server.knobs.wasm_content_type
        return CONTENT_TYPES.get(file.suffix, "application/octet-stream")

    def _accepts(self, encoding: str) -> bool:
        offered = self.headers.get("Accept-Encoding", "")
        for item in offered.split(","):
            name, _, params = item.strip().partition(";")
            if name.strip().lower() == encoding and params.replace(" ", "") != "q=0":
                return True
        return False


class StaticServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, serving ROOT with KNOBS."""

    def __init__(self, root: Path, knobs: Knobs) -> None:
        self._server = _Server(root, knobs)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def log(self) -> list[Served]:
        """Every response sent so far, in order."""
        with self._server.log_lock:
            return list(self._server.log)

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


Serve = Callable[[Path, Knobs], StaticServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start a static server, stopped after the test: `serve(dist, Knobs(brotli=True))`."""
    servers: list[StaticServer] = []

    def start(root: Path, knobs: Knobs) -> StaticServer:
        server = StaticServer(root, knobs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session, driven by Playwright."""
    # Debian's build (/usr/bin/chromium); Playwright's own download is never used.
    executable = need("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a fresh context (no cache, no storage shared between tests)."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


GREETING = "hello from Go WebAssembly"  # what the hello fixture writes into #greeting and logs

# Runs in every document before its own scripts: records what the loader and the browser report.
RECORDER = """
window.__wasmship = { progress: [], ready: [], errors: [], violations: [] };
document.addEventListener("wasmship:progress", (e) => window.__wasmship.progress.push(e.detail));
document.addEventListener("wasmship:ready", (e) => window.__wasmship.ready.push(e.detail));
document.addEventListener("wasmship:error", (e) => window.__wasmship.errors.push(e.detail));
document.addEventListener("securitypolicyviolation", (e) =>
  window.__wasmship.violations.push(e.violatedDirective + " blocked " + e.blockedURI));
"""


class Console:
    """Every console message of a page, as (type, text)."""

    def __init__(self, page: Page) -> None:
        self.messages: list[tuple[str, str]] = []
        self._page = page
        page.on("console", self._add)

    def _add(self, message: ConsoleMessage) -> None:
        self.messages.append((message.type, message.text))

    def of(self, kind: str) -> list[str]:
        return [text for type_, text in self.messages if type_ == kind]

    def wait_for(self, kind: str, part: str, timeout: float = 10.0) -> bool:
        """Whether a KIND message holding PART arrives within TIMEOUT seconds.

        Playwright delivers console events on their own schedule: a message the page logged
        before an evaluate() returned may reach us after it, so a test waits (bounded) rather
        than reading the list once.
        """
        deadline = time.monotonic() + timeout
        while not any(part in text for text in self.of(kind)):
            if time.monotonic() > deadline:
                return False
            self._page.wait_for_timeout(50)
        return True


def open_app(page: Page, url: str) -> Console:
    """Record the page's console and loader events, then open URL."""
    console = Console(page)
    page.add_init_script(RECORDER)
    page.goto(url)
    return console


def with_page_hashes(policy: str, dist: Path) -> str:
    """POLICY with the hashes of the inline scripts of DIST's index.html (its early fetch) added
    to its script-src, as the dist's own policy has them (builder/csp.py)."""
    scripts = inline_of((dist / "index.html").read_text(encoding="utf-8")).scripts
    return re.sub(r"(script-src [^;]*)", lambda m: " ".join((m[1], *scripts)), policy, count=1)


def recorded(page: Page, kind: str) -> list[Any]:
    """What RECORDER saw of KIND: progress, ready, errors or violations."""
    result: list[Any] = page.evaluate(f"window.__wasmship.{kind}")
    return result


def assert_app_ran(page: Page, console: Console) -> None:
    """The hello fixture ran: its greeting is on the page and the indicator is hidden."""
    greeting = page.locator("#greeting")
    greeting.wait_for(state="attached")
    assert greeting.inner_text() == GREETING
    status = page.locator("#wasmship-status")
    assert status.get_attribute("data-state") == "done"
    assert status.is_hidden()
    assert console.wait_for("log", GREETING), console.messages  # the Go program's stdout
    assert recorded(page, "errors") == []
