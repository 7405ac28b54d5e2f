"""Headless Chromium visits for the browser benchmarks: network emulation and what a visit saw.

One visit is one new Chromium (/usr/bin/chromium, never a downloaded one) on a profile folder:
an empty folder is a first visit, a folder a previous visit left is a return visit. DevTools
throttles the network (Network.emulateNetworkConditions) and records every request's start,
first byte and end (Network events, seconds on the browser's monotonic clock) and V8's wasm
trace events (microseconds on the same clock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        BrowserType,
        CDPSession,
        Page,
    )

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TRACE_CATEGORIES = ["v8.wasm", "disabled-by-default-v8.wasm.detailed"]


@dataclass(frozen=True)
class Network:
    """An emulated connection: MBIT down and up, RTT ms of latency; 0 Mbit/s is unthrottled."""

    mbit: float
    rtt: float

    @property
    def label(self) -> str:
        return f"{self.mbit:g} Mbit/s, {self.rtt:g} ms" if self.mbit else "unthrottled"

    def seconds(self, size: int) -> float:
        """How long SIZE bytes take at this bandwidth (no round trips)."""
        return size * 8 / (self.mbit * 1_000_000) if self.mbit else 0.0


def emulate(cdp: CDPSession, network: Network) -> None:
    if not network.mbit:
        return
    bandwidth = network.mbit * 1_000_000 / 8
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": network.rtt,
            "downloadThroughput": bandwidth,
            "uploadThroughput": bandwidth,
        },
    )


@dataclass
class Request:
    url: str
    initiator: str
    sent: float  # seconds, browser clock
    headers: float = 0.0  # response headers received
    first_byte: float = 0.0  # first dataReceived
    finished: float = 0.0
    encoded: int = 0  # bytes over the network
    from_cache: bool = False


@dataclass
class Timeline:
    """What one visit saw: its requests in order and V8's trace events."""

    requests: dict[str, Request] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    navigation: str = ""  # the page's PerformanceNavigationTiming, as JSON
    running_ms: float = 0.0  # when the program said it runs, after navigation start

    def listen(self, cdp: CDPSession) -> None:
        on: Callable[[str, Callable[[dict[str, Any]], None]], None] = cdp.on
        on("Network.requestWillBeSent", self.sent)
        on("Network.responseReceived", self.response)
        on("Network.dataReceived", self.data)
        on("Network.loadingFinished", self.finished)
        on("Network.requestServedFromCache", self.cached)
        on("Tracing.dataCollected", lambda e: self.events.extend(e["value"]))

    def sent(self, e: dict[str, Any]) -> None:
        initiator = e.get("initiator", {})
        source = initiator.get("url") or initiator.get("type", "")
        stack = initiator.get("stack", {}).get("callFrames", [])
        if stack:
            source = stack[0].get("url") or source
        self.requests.setdefault(
            e["requestId"], Request(e["request"]["url"], source, float(e["timestamp"]))
        )

    def response(self, e: dict[str, Any]) -> None:
        if (r := self.requests.get(e["requestId"])) is not None:
            r.headers = float(e["timestamp"])
            r.from_cache = r.from_cache or bool(e["response"].get("fromDiskCache"))

    def data(self, e: dict[str, Any]) -> None:
        if (r := self.requests.get(e["requestId"])) is not None and not r.first_byte:
            r.first_byte = float(e["timestamp"])

    def finished(self, e: dict[str, Any]) -> None:
        if (r := self.requests.get(e["requestId"])) is not None:
            r.finished = float(e["timestamp"])
            r.encoded = int(e["encodedDataLength"])

    def cached(self, e: dict[str, Any]) -> None:
        if (r := self.requests.get(e["requestId"])) is not None:
            r.from_cache = True

    @property
    def start(self) -> float:
        return min(r.sent for r in self.requests.values())

    def modules(self) -> list[Request]:
        return [r for r in self.requests.values() if ".wasm" in r.url]

    def code_cache(self) -> bool:
        """V8 read the module's compiled code from Chromium's code cache."""
        return any(e.get("name") == "wasm.Deserialize" for e in self.events)


def end_trace(cdp: CDPSession, page: Page) -> None:
    """End the trace `open_visit` started; wait until its events are in the visit's Timeline."""
    done: list[bool] = []
    cdp.on("Tracing.tracingComplete", lambda _: done.append(True))
    cdp.send("Tracing.end")
    while not done:
        page.wait_for_timeout(50)


def open_visit(
    chromium: BrowserType,
    profile: Path,
    network: Network,
    init_script: str,
    categories: list[str] = TRACE_CATEGORIES,
) -> tuple[Any, Page, CDPSession, Timeline]:
    """A new Chromium on PROFILE, throttled, recording; the caller navigates and closes it."""
    context = chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=ARGS
    )
    context.set_default_timeout(120_000)
    page = context.pages[0] if context.pages else context.new_page()
    cdp = context.new_cdp_session(page)
    timeline = Timeline()
    timeline.listen(cdp)
    cdp.send("Network.enable")
    emulate(cdp, network)
    cdp.send("Tracing.start", {"traceConfig": {"includedCategories": categories}})
    page.add_init_script(init_script)
    return context, page, cdp, timeline
