"""V8's code cache: the module compiled on one visit is reused on the next (Chromium, traced).

Chromium keeps the compiled code of a module that `WebAssembly.instantiateStreaming` compiled
from a response with a URL, and reuses it when the same response (same URL, same HTTP cache
entry) comes back. The test visits a dist twice in two browsers on one profile, served by
`wasmship serve` as in production (hashed files immutable), and reads V8's own account from a
Chrome trace of the `v8.wasm` category: `wasm.SerializeModule` on the first visit,
`wasm.Deserialize` and no fresh compilation on the second.

The trace is recorded over CDP (`Tracing.start` / `Tracing.end` on the page's session):
Playwright's `start_tracing` needs a Browser, and a persistent profile only comes as a context.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import CHROMIUM_ARGS, open_app, recorded
from tests.conftest import Go, build_fixture, files_of, need
from tests.serving import Served, wasmship_serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserType, CDPSession, Page

pytestmark = pytest.mark.browser

# V8 writes the cache only once enough of the module has tiered up: the heavy fixture works for
# about 5 s; give it this long (from the navigation) before judging the first visit.
CACHE_WAIT = 20.0


@pytest.fixture(scope="module")
def built_heavy(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The heavy fixture (several MB of Go), built cheaply: the code cache is what is tested."""
    root = tmp_path_factory.mktemp("heavy")
    return build_fixture(root, go, "heavy", "--profile", "fast") / "dist"


@pytest.fixture
def served_heavy(built_heavy: Path, tmp_path: Path) -> Iterator[Served]:
    with wasmship_serve(built_heavy, stderr=tmp_path / "serve.log") as served:
        yield served


@dataclass(frozen=True)
class Visit:
    """What one visit showed: V8's trace events, the module's responses, the loader's events."""

    events: Counter[str]
    responses: list[dict[str, Any]]
    progress: list[dict[str, Any]]


def cache_written(profile: Path) -> bool:
    """Whether Chromium has stored compiled wasm code in PROFILE (a sign, not the assertion)."""
    try:
        entries = list((profile / "Default" / "Code Cache" / "wasm").glob("*_0"))
        return any(entry.stat().st_size > 64 * 1024 for entry in entries)
    except OSError:
        return False


def end_trace(page: Page, cdp: CDPSession) -> None:
    """Stop tracing and wait until Chromium has sent every event."""
    complete: list[bool] = []
    cdp.on("Tracing.tracingComplete", lambda _: complete.append(True))
    cdp.send("Tracing.end")
    deadline = time.monotonic() + 60
    while not complete:
        assert time.monotonic() < deadline, "the trace never completed"
        page.wait_for_timeout(50)  # (the sync API delivers events only while it waits)


def visit(
    browser_type: BrowserType, profile: Path, url: str, module_url: str, *, first: bool
) -> Visit:
    """Open URL in a new Chromium on PROFILE with the `v8.wasm` category traced, then close it.

    The first visit stays while the program works, until the code cache is on disk (or
    CACHE_WAIT has passed); a later one only until the program has started.
    """
    context = browser_type.launch_persistent_context(
        str(profile),
        executable_path=need("chromium"),
        headless=True,
        args=[*CHROMIUM_ARGS, "--no-first-run"],
    )
    try:
        context.set_default_timeout(60_000)
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        events: list[dict[str, Any]] = []
        responses: list[dict[str, Any]] = []
        cdp.on("Tracing.dataCollected", lambda params: events.extend(params["value"]))
        cdp.on(
            "Network.responseReceived",
            lambda params: (
                responses.append(params["response"])
                if params["response"]["url"] == module_url
                else None
            ),
        )
        cdp.send("Network.enable")
        cdp.send(
            "Tracing.start",
            {"traceConfig": {"includedCategories": ["v8.wasm"]}, "transferMode": "ReportEvents"},
        )
        started = time.monotonic()
        open_app(page, url)
        page.locator("#heavy").wait_for(state="attached")  # the Go program runs
        if first:
            page.locator("#heavy", has_text="rounds").wait_for()  # its 5 s of work are done
            while not cache_written(profile) and time.monotonic() < started + CACHE_WAIT:
                page.wait_for_timeout(250)
        end_trace(page, cdp)
        assert recorded(page, "errors") == []
        return Visit(
            events=Counter(e["name"] for e in events if e.get("cat") == "v8.wasm"),
            responses=responses,
            progress=recorded(page, "progress"),
        )
    finally:
        context.close()


def module_gets(served: Served, module: str) -> int:
    """How many GETs of MODULE `wasmship serve` logged so far."""
    return len(re.findall(rf'"GET /{re.escape(module)} ', served.stderr.read_text()))


def assert_progress_complete(progress: list[dict[str, Any]], size: int) -> None:
    fractions = [e["fraction"] for e in progress]
    assert fractions[0] == 0 and fractions[-1] == 1.0, fractions
    assert fractions == sorted(fractions)
    assert progress[-1]["loaded"] == size


def test_second_visit_reuses_the_code_v8_cached_on_the_first(
    built_heavy: Path, served_heavy: Served, browser: Browser, tmp_path: Path
) -> None:
    wasm = files_of(built_heavy)["main.wasm"]
    module_url = served_heavy.url.rstrip("/") + "/" + wasm["path"]
    profile = tmp_path / "profile"

    first = visit(browser.browser_type, profile, served_heavy.url, module_url, first=True)
    # Compiled while streaming, and the compiled code written to the cache.
    assert first.events["wasm.StartStreamingCompilation"] == 1, first.events
    assert first.events["wasm.SerializeModule"] >= 1, first.events
    assert first.events["wasm.Deserialize"] == 0
    # The module came as usual: one request, from the server, brotli-encoded application/wasm.
    assert module_gets(served_heavy, wasm["path"]) == 1
    (response,) = first.responses
    assert (response["status"], response["mimeType"]) == (200, "application/wasm")
    assert {k.lower(): v for k, v in response["headers"].items()}["content-encoding"] == "br"
    assert not response["fromDiskCache"]
    assert_progress_complete(first.progress, wasm["size"])

    second = visit(browser.browser_type, profile, served_heavy.url, module_url, first=False)
    # The cached code was read back, and the module was not compiled afresh.
    assert second.events["wasm.StartStreamingCompilation"] == 1, second.events
    assert second.events["wasm.Deserialize"] == 1, second.events
    assert second.events["wasm.BaselineFinished"] == 0, second.events  # V8: fresh compile done
    # Asked for again, answered by the HTTP cache (immutable): the entry the code cache is tied to.
    (response,) = second.responses
    assert (response["status"], response["mimeType"]) == (200, "application/wasm")
    assert response["fromDiskCache"]
    assert module_gets(served_heavy, wasm["path"]) == 1
    assert_progress_complete(second.progress, wasm["size"])
