"""running.py's results and their table: time to running per program, network and host.

Two floors, both max(br module transfer, compile and start-up) + one round trip, where compile
and start-up is the fastest host's unthrottled first visit (median): the nominal one at the
network's bandwidth (issue 29's definition), and the measured one at the throughput the plain
pipeline's module download got in the same run (bytes over its first to last byte, median), which
is what the throttling delivered.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from harness.chromium import Network, Timeline

Key = tuple[str, str, str, bool]  # program, network label, host, return visit


@dataclass(frozen=True)
class Built:
    name: str
    dist: Path
    static: Path  # the dist built with --hosting static
    plain: Path
    raw: int  # main.wasm, bytes
    br: int  # main.*.wasm.br, bytes


@dataclass(frozen=True)
class Visit:
    running_ms: float
    module_bytes: int
    code_cache: bool
    requested_ms: float  # the first module request, after the page's request was sent
    throughput: float  # bits per second, the module's first to last byte; 0 when unknown


def seen(timeline: Timeline, running_ms: float) -> Visit:
    """What a visit's TIMELINE says about its module."""
    modules = sorted(timeline.modules(), key=lambda r: r.sent)
    requested = (modules[0].sent - timeline.start) * 1000 if modules else 0.0
    done = [r for r in modules if r.encoded and r.finished > r.first_byte > 0]
    throughput = 0.0
    if done:
        r = max(done, key=lambda r: r.encoded)
        throughput = r.encoded * 8 / (r.finished - r.first_byte)
    size = sum(r.encoded for r in modules)
    return Visit(running_ms, size, timeline.code_cache(), requested, throughput)


def spread(values: list[float]) -> str:
    """`1234 ms (1100 to 1400)`: the median and the range; one value alone."""
    if len(values) == 1:
        return f"{values[0]:.0f} ms"
    return f"{statistics.median(values):.0f} ms ({min(values):.0f} to {max(values):.0f})"


def render(
    results: dict[Key, list[Visit]],
    built: list[Built],
    networks: tuple[Network, ...],
    hosts: tuple[str, ...],
    plain: str,
    throttling: str,
) -> str:
    """The table: one row per program, network and host, with both floors."""
    rounds = len(next(iter(results.values())))
    lines = [
        f"Time from navigation start to the module's main writing the page; median of {rounds} "
        f"(min to max); throttled by {throttling}. Module requested at: the first module "
        "request of a first visit, ms after the page's request (median). Floors: max(br module "
        "transfer, compile and start-up) + one round trip, compile and start-up being the "
        "fastest host's unthrottled first visit; *nominal* at the network's bandwidth, "
        f"*measured* at the throughput the {plain} module download got in this run.",
        "",
        "| program | network | host | first visit | module requested at | x nominal floor "
        "| x measured floor | return visit | code cache read | nominal floor "
        "| measured floor (throughput) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for b in built:
        compile_ms = min(
            statistics.median(v.running_ms for v in results[(b.name, networks[0].label, h, False)])
            for h in hosts
        )
        for network in networks:
            nominal = max(network.seconds(b.br) * 1000, compile_ms) + network.rtt
            plain_visits = results[(b.name, network.label, plain, False)]
            rates = [v.throughput for v in plain_visits if v.throughput]
            rate = statistics.median(rates) if rates and network.mbit else 0.0
            measured = max(b.br * 8 / rate * 1000 if rate else 0.0, compile_ms) + network.rtt
            through = f" ({rate / 1e6:.1f} Mbit/s)" if rate else ""
            for h in hosts:
                first = results[(b.name, network.label, h, False)]
                again = results[(b.name, network.label, h, True)]
                median = statistics.median(v.running_ms for v in first)
                requested = statistics.median(v.requested_ms for v in first)
                program = f"{b.name} ({b.raw / 1e6:.1f} MB, br {b.br / 1e6:.2f} MB)"
                lines.append(
                    f"| {program} | {network.label} | {h} "
                    f"| {spread([v.running_ms for v in first])} "
                    f"| {requested:.0f} ms | {median / nominal:.2f} | {median / measured:.2f} "
                    f"| {spread([v.running_ms for v in again])} "
                    f"| {sum(v.code_cache for v in again)} of {len(again)} "
                    f"| {nominal:.0f} ms | {measured:.0f} ms{through} |"
                )
    return "\n".join(lines) + "\n"
