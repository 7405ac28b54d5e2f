"""wasmship dev in Chromium: a save reloads the page by itself, a compile error shows Go's
messages over the last good build, the fix clears them; under a strict CSP too."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import GREETING, open_app, recorded
from tests.conftest import Run, files_of
from tests.serving import read_first_line
from tests.test_dev import WAIT, run_dev

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

BROKEN = "\tthis is not go"
# Production-strict policies: scripts from the site itself, or only the page's own scripts by
# their hashes (which leaves the dev script out until the dev server adds its hash).
SCRIPTS = {"self": "'self'", "hashes": "{shim} {loader}"}
STRICT_CSP = (
    "default-src 'none'; script-src {scripts} 'wasm-unsafe-eval'; connect-src 'self'; "
    "style-src 'self'; img-src 'self'"
)
TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>strict</title>
<!-- wasmship:scripts -->
</head>
<body>
<!-- wasmship:status -->
</body>
</html>
"""


@pytest.fixture
def dev_url(hello: Path) -> Iterator[str]:
    """`wasmship dev --port 0` in the hello project; it must stop cleanly on Ctrl-C."""
    proc = run_dev(hello, "--port", "0", stdout=subprocess.PIPE)
    try:
        yield read_first_line(proc, WAIT)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def saying(main: Path, message: str, *, broken: bool = False) -> int:
    """Make hello's program say MESSAGE (and fail to compile if BROKEN); the broken line."""
    source = main.read_text().replace(BROKEN + "\n", "")
    start = source.index("var message = ")
    end = source.index("\n", start)
    source = f'{source[:start]}var message = "{message}"{source[end:]}'
    if broken:
        source = source.replace("func main() {", "func main() {\n" + BROKEN)
    main.write_text(source)
    return source.splitlines().index(BROKEN) + 1 if broken else 0


def shows(page: Page, text: str) -> None:
    page.locator("#greeting", has_text=text).wait_for(timeout=WAIT * 1000)


def test_a_save_reloads_the_page_and_a_compile_error_shows_over_it(
    page: Page, dev_url: str, hello: Path
) -> None:
    console = open_app(page, dev_url)
    shows(page, GREETING)
    page.evaluate("window.__beforeSave = true")

    main = hello / "main.go"
    saying(main, "edited in wasmship dev")
    shows(page, "edited in wasmship dev")  # the page reloaded by itself
    assert page.evaluate("window.__beforeSave") is None  # a new document, not a patched one
    assert console.wait_for("log", "edited in wasmship dev"), console.messages

    line = saying(main, "never built", broken=True)
    overlay = page.locator("#wasmship-dev-overlay")
    overlay.wait_for(state="visible", timeout=WAIT * 1000)
    text = overlay.inner_text()
    assert f"main.go:{line}:" in text and "syntax error" in text  # Go's words, file and line
    assert overlay.get_attribute("role") == "alert"
    # The last good build still runs underneath.
    assert page.locator("#greeting").inner_text() == "edited in wasmship dev"

    saying(main, "fixed")
    shows(page, "fixed")
    assert overlay.count() == 0
    status = page.locator("#wasmship-status")
    assert status.get_attribute("data-state") == "done"
    assert recorded(page, "errors") == [] and recorded(page, "violations") == []


@pytest.mark.parametrize("scripts", sorted(SCRIPTS))
def test_reload_and_overlay_work_under_a_strict_csp(
    page: Page, hello: Path, wasmship: Run, scripts: str
) -> None:
    built = wasmship("build", "-q", "--profile", "fast", "-o", "../probe", cwd=hello)
    assert built.returncode == 0, built.stderr
    files = files_of(hello.parent / "probe")
    hashes = {k: f"'{files[f'{k}.js']['integrity']}'" for k in ("loader", "wasm_exec")}
    sources = SCRIPTS[scripts].format(shim=hashes["wasm_exec"], loader=hashes["loader"])
    (hello / "page.html").write_text(TEMPLATE.format(csp=STRICT_CSP.format(scripts=sources)))
    (hello / "wasmship.toml").write_text('html = "page.html"\n')
    proc = run_dev(hello, "--port", "0", stdout=subprocess.PIPE)
    try:
        url = read_first_line(proc, WAIT)
        open_app(page, url)
        shows(page, GREETING)
        main = hello / "main.go"
        line = saying(main, "strict", broken=True)
        overlay = page.locator("#wasmship-dev-overlay")
        overlay.wait_for(state="visible", timeout=WAIT * 1000)
        assert f"main.go:{line}:" in overlay.inner_text()
        assert overlay.evaluate("e => getComputedStyle(e).position") == "fixed"  # styled
        saying(main, "strict")
        shows(page, "strict")
        assert recorded(page, "violations") == []  # nothing the page's CSP had to block
        assert overlay.count() == 0
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=WAIT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert code == 0
