"""The results as markdown tables, ready to paste into docs/performance.md."""

from __future__ import annotations

from harness.scenarios import (
    BOUND,
    BROTLI,
    CHANGE,
    CI_CHANGE,
    CI_SAME,
    CI_SHARED,
    COLD,
    GO_EXISTING,
    GO_NEW,
    PLAIN_CHANGE,
    PLAIN_COLD,
    PLAIN_WARM,
    WARM,
    Result,
)

# The goals of issue 13, each checked on medians measured in the same run.
NO_CHANGE_OVER_EXISTING = 0.25  # seconds a no-change build may take over go build (up to date)
CHANGE_OVER_BOUND = 1.05  # a one-line change against go build + brotli q11 of the module
TIMES, DASH = "\u00d7", "\u2013"  # the multiplication sign and the en dash of the docs


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB"


def verdict(met: bool, figures: str) -> str:
    return f"{'met' if met else '**missed**'} ({figures})"


def goals(r: Result) -> list[str]:
    """The three goals for one program: no change vs go build (new path, existing file), change."""
    warm, new, existing = r.median(WARM), r.median(GO_NEW), r.median(GO_EXISTING)
    ratio = r.median(CHANGE) / r.median(BOUND)
    return [
        verdict(warm <= new, f"{warm:.2f} vs {new:.2f}"),
        verdict(warm - existing <= NO_CHANGE_OVER_EXISTING, f"{warm - existing:+.2f} s"),
        verdict(ratio <= CHANGE_OVER_BOUND, f"{ratio:.2f}{TIMES}"),
    ]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def build_times(results: list[Result]) -> list[str]:
    header = [
        "program", "wasm", "go build, existing file", "go build, new path", "plain cold",
        "plain warm", "plain change", "wasmship cold", "wasmship warm", "wasmship change",
        "lower bound (cold / change)", "cold vs bound", "change vs bound",
        "no change ≤ go build, new path", "no change ≤ go build, existing file + 0.25 s",
        f"change ≤ 1.05 {TIMES} (go build + br q11)",
    ]  # fmt: skip
    rows = []
    for r in results:
        m = r.median
        cold_bound, change_bound = r.cold_bound(), m(BOUND)
        rows.append(
            [r.name, mib(r.wasm_size)]
            + [f"{m(key):.2f}" for key in (GO_EXISTING, GO_NEW, PLAIN_COLD, PLAIN_WARM)]
            + [f"{m(key):.2f}" for key in (PLAIN_CHANGE, COLD, WARM, CHANGE)]
            + [
                f"{cold_bound:.2f} / {change_bound:.2f}",
                f"{m(COLD) / cold_bound - 1:+.0%}",
                f"{m(CHANGE) / change_bound - 1:+.0%}",
            ]
            + goals(r)
        )
    return table(header, rows)


def spread(results: list[Result]) -> list[str]:
    keys = [GO_EXISTING, GO_NEW, PLAIN_COLD, PLAIN_WARM, PLAIN_CHANGE, COLD, WARM, CHANGE, BOUND]
    rows = [
        [r.name] + [f"{r.series[k].low:.2f}{DASH}{r.series[k].high:.2f}" for k in keys]
        for r in results
    ]
    return table(["program", *keys], rows)


def ci_costs(results: list[Result]) -> list[str]:
    header = [
        "program", "wasm", "cache restored", "empty cache", "restored, same module",
        "restored, one-line change", "saved (same module / change)",
        "another runner built it (shared cache)", "go build, new path",
    ]  # fmt: skip
    rows = []
    for r in results:
        if CI_SAME not in r.series:
            continue
        empty, same, change = r.median(COLD), r.median(CI_SAME), r.median(CI_CHANGE)
        rows.append(
            [
                r.name,
                mib(r.wasm_size),
                f"{r.cache_mib:.1f} MiB",
                *(f"{seconds:.2f}" for seconds in (empty, same, change)),
                f"{empty - same:.2f} s / {empty - change:.2f} s",
                f"{r.median(CI_SHARED):.2f}" if CI_SHARED in r.series else "",
                f"{r.median(GO_NEW):.2f}",
            ]
        )
    return table(header, rows) if rows else []


def variant_sizes(results: list[Result]) -> list[str]:
    header = [
        "program", "brotli -q 11", "wasmship br", "br lgwin 22", "gzip -9 (plain, with name)",
        "gzip -9 -n", "wasmship gz", "zopfli gz", "zstd",
    ]  # fmt: skip
    rows = []
    for r in results:
        s = r.sizes
        rows.append(
            [
                r.name,
                str(s["plain br"]),
                f"{s['wasmship br']} (w{s['br window']})",
                str(s.get("br lgwin 22", "same window")),
                str(s["plain gz"]),
                str(s["gzip -9 -n"]),
                str(s["wasmship gzip"]),
                str(s.get("zopfli gz", "-")),
                str(s.get("zstd", "-")),
            ]
        )
    return table(header, rows)


def codecs_and_memory(results: list[Result]) -> list[str]:
    out = ["### Single compressions of main.wasm (seconds) and the zopfli + zstd build", ""]
    header = ["program", "br q11 (median)", "gzip 9", "wasmship --gzip zopfli --zstd, cold"]
    rows = [
        [
            r.name,
            f"{r.median(BROTLI):.2f}",
            f"{r.gzip_seconds:.2f}",
            f"{r.extras.seconds:.2f}" if r.extras else "-",
        ]
        for r in results
    ]
    out += table(header, rows)
    out += ["", "### Peak memory (MiB, largest process of the command, median)", ""]
    keys = [PLAIN_COLD, COLD, WARM, CHANGE]
    rows = [
        [r.name]
        + [f"{r.series[k].peak_mib:.0f}" for k in keys]
        + [f"{r.extras.peak_mib:.0f}" if r.extras else "-"]
        for r in results
    ]
    return out + table(["program", *keys, "zopfli + zstd"], rows)


def render(results: list[Result], machine: dict[str, str], start: tuple[float, float]) -> str:
    """The machine, then every table; medians of the rounds, which ran interleaved."""
    rounds = results[0].rounds if results else 0
    of_rounds = f"{rounds} round{'s' if rounds != 1 else ''}"
    out = ["### Machine", ""] + [f"- {key}: {value}" for key, value in machine.items()]
    out += ["", f"### Build time (seconds, wall; median of {of_rounds}, interleaved)", ""]
    out += build_times(results)
    out += ["", f"### Spread (fastest{DASH}slowest of {of_rounds}, seconds)", ""]
    out += spread(results)
    ci = ci_costs(results)
    if ci:
        out += ["", "### CI: a fresh clone with the wasmship cache restored, or empty", ""]
        out += ci
    out += ["", "### Sizes of main.wasm's variants (bytes)", ""]
    out += variant_sizes(results)
    out += ["", *codecs_and_memory(results)]
    out += [
        "",
        f"Start-up: `wasmship --version` {start[0] * 1000:.0f} ms (median of 15; a bare "
        f"`python -c pass` takes {start[1] * 1000:.0f} ms).",
    ]
    return "\n".join(out) + "\n"
