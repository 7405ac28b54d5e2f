"""One visit's trace as Markdown: each request's start, first byte and end, and V8's compile.

Times are milliseconds after the first request (the page's) was sent; network events and
trace events are on the same monotonic clock (seconds and microseconds).
"""

from __future__ import annotations

import json
from typing import Any

from harness.chromium import Timeline

NAVIGATION = ("responseStart", "responseEnd", "domInteractive", "domContentLoadedEventEnd")


def spans(events: list[dict[str, Any]]) -> dict[str, tuple[int, float, float, str]]:
    """V8 event name -> (count, first start, last end, threads) in trace microseconds."""
    found: dict[str, tuple[int, float, float, set[int]]] = {}
    opened: dict[tuple[int, str], float] = {}
    for e in sorted(events, key=lambda e: float(e.get("ts", 0))):
        name, ts, phase = str(e.get("name")), float(e.get("ts", 0)), e.get("ph")
        if phase == "B":
            opened[(int(e.get("tid", 0)), name)] = ts
            continue
        start, end = ts, ts + float(e.get("dur", 0))
        if phase == "E":
            start = opened.pop((int(e.get("tid", 0)), name), ts)
        elif phase not in ("X", "I", "i", "n"):
            continue
        count, first, last, threads = found.get(name, (0, start, end, set()))
        threads.add(int(e.get("tid", 0)))
        found[name] = (count + 1, min(first, start), max(last, end), threads)
    return {n: (c, f, la, f"{len(t)}") for n, (c, f, la, t) in found.items()}


def render_trace(timeline: Timeline) -> str:
    zero = timeline.start

    def ms(t: float) -> str:
        return f"{(t - zero) * 1000:.0f}" if t else "-"

    lines = [
        "| request | initiator | sent | headers | first byte | last byte | bytes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in sorted(timeline.requests.values(), key=lambda r: r.sent):
        name = r.url.rsplit("/", 1)[-1] or "/"
        initiator = r.initiator.rsplit("/", 1)[-1] or r.initiator
        lines.append(
            f"| {name} | {initiator} | {ms(r.sent)} | {ms(r.headers)} | {ms(r.first_byte)} "
            f"| {ms(r.finished)} | {r.encoded} |"
        )
    lines += ["", "| V8 event | count | threads | first start | last end |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for name, (count, first, last, threads) in sorted(
        spans(timeline.events).items(), key=lambda item: item[1][1]
    ):
        lines.append(f"| {name} | {count} | {threads} | {ms(first / 1e6)} | {ms(last / 1e6)} |")
    navigation = json.loads(timeline.navigation or "{}")
    marks = ", ".join(f"{k} {float(navigation.get(k, 0)):.0f}" for k in NAVIGATION)
    lines += [
        "",
        f"Navigation timing (ms after navigation start): {marks}; "
        f"main wrote the page at {timeline.running_ms:.0f}.",
    ]
    return "\n".join(lines) + "\n"
