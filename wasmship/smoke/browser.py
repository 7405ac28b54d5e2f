"""Run js modules in headless Chromium or Chrome, driven by Playwright, over the preview server.

The dist is served by wasmship's own preview server on 127.0.0.1. The module that index.html's
loader starts runs in that page; any other js module runs in a minimal page that Playwright
answers from memory, at a path the dist never has, so nothing is written into the dist.
"""

from __future__ import annotations

import html
import importlib.util
import json
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from wasmship.distformat.model import TargetEntry
from wasmship.distformat.names import PAGE, SHIM
from wasmship.errors import ToolchainError, UsageError
from wasmship.preview import ServeConfig, start, url_of
from wasmship.smoke.runs import Outcome, SmokeRun, exit_verdict, first_line, last_words

if TYPE_CHECKING:
    # Playwright is optional (wasmship[browser]): where it is missing, mypy sees Any.
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        Browser,
        ConsoleMessage,
        Page,
    )

# Looked for on PATH, in this order, when --browser does not name one.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
INSTALL = "pip install 'wasmship[browser]'"
RUNNER_PATH = "/.wasmship-smoke/"  # the minimal pages' folder: a dotted name no dist file has
POLL_MS = 50.0
CONSOLE_LINES = 20  # the last ones a failure shows: the ones nearest to it

_STARTED_OR_ENDED = "() => __wasmshipSmoke.started() || __wasmshipSmoke.ended()"
_ENDED = "() => __wasmshipSmoke.ended()"


@dataclass(frozen=True)
class BrowserChoice:
    """The browser smoke will drive, or why there is none (the hint names what to install)."""

    executable: str | None
    hint: str = ""


def choose_browser(explicit: str | None, environ: Mapping[str, str]) -> BrowserChoice:
    """--browser PATH, else the first Chromium or Chrome on PATH, if Playwright can drive it."""
    path = environ.get("PATH")
    has_playwright = importlib.util.find_spec("playwright") is not None
    if explicit:
        found = shutil.which(explicit, path=path) or (
            explicit if Path(explicit).is_file() else None
        )
        if found is None:
            raise UsageError(f"--browser {explicit}: no such program or file")
        if not has_playwright:
            raise UsageError(f"--browser needs Playwright to drive {found}: {INSTALL}")
        return BrowserChoice(found)
    found = next((p for name in BROWSER_NAMES if (p := shutil.which(name, path=path))), None)
    if found is None:
        names = ", ".join(BROWSER_NAMES)
        return BrowserChoice(
            None,
            f"no Chromium or Chrome on PATH ({names}): install one or name it with "
            f"--browser PATH, and {INSTALL}",
        )
    if not has_playwright:
        return BrowserChoice(None, f"found {found}, but not Playwright to drive it: {INSTALL}")
    return BrowserChoice(found)


def runner_page(target: TargetEntry) -> str:
    """A page that loads the dist's wasm_exec.js and runs TARGET's module, nothing else."""
    module = target.module
    assert module is not None  # smoke() refuses a target without one
    shim = "/" + quote(target.files[SHIM].path)
    # In a <script>, "</" could end the element: JSON may spell it "<\/".
    url = json.dumps("/" + quote(module.path)).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wasmship smoke: {html.escape(target.name)}</title>
<script src="{html.escape(shim)}"></script>
</head>
<body>
<script>
"use strict";
const go = new Go();
// Left unhandled on purpose: smoke's harness reports a rejection as the module's failure.
WebAssembly.instantiateStreaming(fetch({url}), go.importObject)
  .then((result) => go.run(result.instance));
</script>
</body>
</html>
"""


@dataclass(frozen=True)
class PageRun:
    """What the harness saw in the page after the waits, and the console's complaints."""

    state: Mapping[str, Any]  # __wasmshipSmoke.snapshot(): see harness.js
    console: tuple[str, ...]


def judge(run: PageRun, timeout: float, settle: float) -> tuple[Outcome, str]:
    """The outcome and verdict of one page run."""
    state = run.state
    stderr = str(state.get("stderr", ""))
    errors = [str(e) for e in state.get("errors") or []]
    loader = state.get("loader") or {}
    code = state.get("exit")
    if isinstance(code, int) and code != 0:
        return Outcome.FAILED, exit_verdict(code, stderr)
    if errors:
        return Outcome.FAILED, f"uncaught error: {first_line(errors[0])}"
    if loader.get("state") == "error":
        return Outcome.FAILED, f"loader error: {first_line(str(loader.get('message', '')))}"
    if code == 0:
        return Outcome.OK, "ok"
    if last_words(stderr):
        return Outcome.FAILED, last_words(stderr)
    if not state.get("started"):
        where = f" (the loader says {loader['state']!r})" if loader.get("state") else ""
        return Outcome.FAILED, f"did not start within {timeout:g} s{where}"
    return Outcome.OK, f"ok, still running after {settle:g} s"


class BrowserRunner:
    """One headless browser and the preview server; a fresh context per module."""

    def __init__(
        self, browser: Browser, runtime: str, base: str, timeout: float, settle: float
    ) -> None:
        self.browser = browser
        self.runtime = runtime  # "chromium 156 at /usr/bin/chromium"
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.settle = settle

    def run(self, target: TargetEntry, *, on_page: bool) -> SmokeRun:
        """Run TARGET: in index.html if its loader starts it, else in a minimal page."""
        from playwright.sync_api import Error  # type: ignore[import-not-found, unused-ignore]

        context = self.browser.new_context()
        try:
            context.set_default_timeout(self.timeout * 1000)
            context.add_init_script(script=_harness())
            if on_page:
                url = f"{self.base}/{PAGE}"
            else:
                url = f"{self.base}{RUNNER_PATH}{quote(target.name)}.html"
                body = runner_page(target)
                context.route(
                    lambda u: u == url,
                    lambda route: route.fulfill(body=body, content_type=_HTML),
                )
            page = context.new_page()
            try:
                result = self._watch(page, url)
            except Error as exc:  # the page crashed, or the browser went away
                why = f"the page failed: {first_line(exc.message)}"
                return SmokeRun(target.name, self.runtime, Outcome.FAILED, why)
        finally:
            context.close()
        outcome, verdict = judge(result, self.timeout, self.settle)
        stdout, stderr = str(result.state["stdout"]), str(result.state["stderr"])
        return SmokeRun(target.name, self.runtime, outcome, verdict, stdout, stderr, result.console)

    def _watch(self, page: Page, url: str) -> PageRun:
        from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
            TimeoutError,
        )

        console: list[str] = []
        page.on("console", _collect(console))
        page.goto(url)
        try:
            page.wait_for_function(_STARTED_OR_ENDED, polling=POLL_MS)
            # Running: it passes if nothing goes wrong before the settle time is over (Playwright
            # reads a timeout of 0 as none at all).
            page.wait_for_function(_ENDED, polling=POLL_MS, timeout=self.settle * 1000 or 1)
        except TimeoutError:
            pass  # did not start in time, or still running after the settle time: judge() says
        state: Mapping[str, Any] = page.evaluate("() => __wasmshipSmoke.snapshot()")
        if len(console) > CONSOLE_LINES:
            earlier = len(console) - CONSOLE_LINES
            console[:earlier] = [f"console: {earlier} earlier errors and warnings left out"]
        return PageRun(state, tuple(console))


@contextmanager
def browser_runner(
    dist: Path, executable: str, environ: Mapping[str, str], *, timeout: float, settle: float
) -> Iterator[BrowserRunner]:
    """Serve DIST on 127.0.0.1 in a thread and launch EXECUTABLE headless; stop both after."""
    try:
        from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
            Error,
            sync_playwright,
        )
    except ImportError as exc:
        raise UsageError(f"running js modules in a browser needs Playwright: {INSTALL}") from exc
    server = start(ServeConfig(dist, host="127.0.0.1", port=0, quiet=True))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        with sync_playwright() as playwright:
            try:
                browser = playwright.chromium.launch(
                    executable_path=executable,
                    headless=True,
                    args=list(BROWSER_ARGS),
                    env=dict(environ),
                    timeout=timeout * 1000,
                )
            except Error as exc:
                raise ToolchainError(
                    f"cannot start {executable}: {first_line(exc.message)}; "
                    "name another with --browser PATH"
                ) from exc
            try:
                runtime = f"{_kind(executable)} {browser.version.split('.')[0]} at {executable}"
                yield BrowserRunner(browser, runtime, url_of(server), timeout, settle)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


_HTML = "text/html; charset=utf-8"


def _harness() -> str:
    return files("wasmship.smoke").joinpath("harness.js").read_text(encoding="utf-8")


def _kind(executable: str) -> str:
    name = Path(executable).name
    return "chrome" if "chrome" in name and "chromium" not in name else "chromium"


def _collect(into: list[str]) -> Callable[[ConsoleMessage], None]:
    def add(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            # The first line says why; the rest of an error's text is its JavaScript stack.
            into.append(f"console {message.type}: {first_line(message.text)}")

    return add
