#!/usr/bin/env python3
"""wasmship's benchmark: build generated Go programs, compare with go build and the plain pipeline.

    python benchmarks/run.py [--programs hello,embed,big,big18] [--rounds 3] [--markdown FILE]

Everything runs on this machine in one run. The programs (benchmarks/programs/) are laid out in
a temporary folder; big18's modules come from the Go module proxy on the first run only (pinned
in its go.mod and go.sum, then read from GOMODCACHE). Go's build cache is warmed first, so every
measured build has a warm Go cache (as CI with a cached GOCACHE); wasmship's compression cache
lives in the temporary folder, never the user's. The plain pipeline is what a Makefile does:
go build, cp wasm_exec.js, gzip -9 -k, brotli -q 11 -k (Debian's brotli CLI).

Each scenario runs its commands in turn, round after round (wasmship, then the comparisons, then
wasmship again: ABAB, never AAA BBB), so load from elsewhere hits them alike; the tables give
medians, and the fastest and slowest run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.commands import BROTLI_CLI, Bench
from harness.measure import measure
from harness.output import publish, scratch
from harness.programs import PROGRAMS
from harness.scenarios import run_program
from harness.tables import render


def startup(bench: Bench, runs: int = 15) -> tuple[float, float]:
    """Median wall time of `wasmship --version`, and of a bare `python -c pass` for scale."""

    def median(cmd: list[str]) -> float:
        return statistics.median(measure(cmd, bench.root, bench.env).seconds for _ in range(runs))

    return (
        median([sys.executable, "-m", "wasmship", "--version"]),
        median([sys.executable, "-c", "pass"]),
    )


def machine_facts(bench: Bench) -> dict[str, str]:
    def field_of(path: str, prefix: str) -> str:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return "unknown"
        return next((line.split(prefix, 1)[1] for line in lines if line.startswith(prefix)), "?")

    def version(cmd: list[str]) -> str:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        return (proc.stdout.splitlines() or ["?"])[0].strip()

    return {
        "date": datetime.date.today().isoformat(),
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": field_of("/proc/cpuinfo", "model name").strip(" \t:"),
        "memory": field_of("/proc/meminfo", "MemTotal:").strip(),
        "system": field_of("/etc/os-release", "PRETTY_NAME=").strip('"'),
        "Go": bench.goversion,
        "Python": platform.python_version(),
        "brotli CLI": version([BROTLI_CLI, "--version"]),
        "gzip": version(["gzip", "--version"]),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--programs", default="hello,embed,big,big18", help=f"of {', '.join(PROGRAMS)}"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement (>= 1)")
    parser.add_argument(
        "--ci",
        default="embed,big18",
        help="programs whose CI cost is measured with a restored cache ('' for none)",
    )
    parser.add_argument("--go", default=os.environ.get("WASMSHIP_GO") or shutil.which("go"))
    parser.add_argument("--no-extras", action="store_true", help="skip the zopfli + zstd build")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    names = [n for n in args.programs.split(",") if n]
    unknown = sorted(set(names) - set(PROGRAMS))
    if unknown or not names:
        parser.error(
            f"--programs: {', '.join(unknown) or 'none'}; choose from {', '.join(PROGRAMS)}"
        )
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for tool in (BROTLI_CLI, "gzip", "bash"):
        if not shutil.which(tool):
            raise SystemExit(f"benchmark: {tool} is needed (apt-get install brotli gzip)")
    if not args.go:
        raise SystemExit("benchmark: no go on PATH (or pass --go)")
    ci = set(args.ci.split(","))
    began = time.perf_counter()
    with scratch("wasmship-bench-", args.keep) as root:
        bench = Bench(root, args.go)
        machine = machine_facts(bench)
        results = [
            run_program(bench, PROGRAMS[name], args.rounds, name in ci, not args.no_extras)
            for name in names
        ]
        start = startup(bench)
        machine["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        machine["whole benchmark"] = f"{(time.perf_counter() - began) / 60:.1f} min"
        publish(render(results, machine, start), args.markdown)
        if args.json:
            raw = {"machine": machine, "results": [r.__dict__ for r in results]}
            args.json.write_text(json.dumps(raw, default=lambda o: o.__dict__, indent=2))


if __name__ == "__main__":
    main()
