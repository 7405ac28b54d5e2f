#!/usr/bin/env python3
"""What a no-change build costs over Go: start-up, imports, and `go build` to its existing output.

    python benchmarks/startup.py [--program big] [--rounds 5] [--markdown FILE]

Issue 22's goals: `wasmship --version` within 0.1 s, and a no-change `wasmship build` within
0.15 s of `go build` to its existing output. Each round runs, in turn (ABAB, never AAA BBB):
`python -c pass` for scale, `wasmship --version`, `go build` of the program to the output it
already wrote, and `wasmship build -q` with nothing changed (the dist is left as it is). The
table gives medians; the import list says which heavy libraries each command loaded (it should
be none of them on these two paths). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.commands import Bench
from harness.measure import Series, interleave, measure
from harness.output import publish, scratch
from harness.programs import PROGRAMS, clone

# Libraries that a quick path has no use for: each costs 10-130 ms to import.
HEAVY = ("rich", "http.server", "http.client", "brotli", "jsonschema", "zstandard", "watchfiles")


def imported(cmd: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The HEAVY modules CMD (a `python -m wasmship ...`) imports, from `-X importtime`."""
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], cwd=cwd, env=env, capture_output=True, text=True
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    return sorted(h for h in HEAVY if h in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", default="big", choices=sorted(PROGRAMS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--go", default="go")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    with scratch("wasmship-startup-") as root:
        bench = Bench(root, args.go)
        folder = clone(PROGRAMS[args.program], root / args.program)
        out, dist, cache = root / "go-out" / "main.wasm", folder / "dist", root / "cache"
        out.parent.mkdir()
        bench.go_build(folder, out)  # warms Go's cache; later runs find the output up to date
        bench.wasmship(folder, dist, cache)  # the first build: later ones find it up to date
        version = [sys.executable, "-m", "wasmship", "--version"]
        build = [sys.executable, "-m", "wasmship", "build", "-q", "-o", str(dist)]
        build += ["--cache-dir", str(cache)]
        bare = [sys.executable, "-c", "pass"]
        series: dict[str, Series] = {}
        interleave(
            args.program,
            args.rounds,
            [
                ("python -c pass", lambda _: measure(bare, root, bench.env)),
                ("wasmship --version", lambda _: measure(version, root, bench.env)),
                ("go build, existing output", lambda _: bench.go_build(folder, out)),
                ("wasmship build, no change", lambda _: measure(build, folder, bench.env)),
            ],
            series,
        )
        heavy = {
            "wasmship --version": imported(version, root, bench.env),
            "wasmship build, no change": imported(build, folder, bench.env),
        }
        size = out.stat().st_size

    go_existing = series["go build, existing output"].median
    lines = [
        f"### Start-up ({args.program}: {size / 2**20:.1f} MiB module; "
        f"median of {args.rounds} interleaved rounds, seconds)",
        "",
        "| command | median | fastest | slowest | over go build to its existing output |",
        "|---|---|---|---|---|",
    ]
    for name, s in series.items():
        over = f"{s.median - go_existing:+.2f}" if name.startswith("wasmship build") else ""
        lines.append(f"| {name} | {s.median:.3f} | {s.low:.3f} | {s.high:.3f} | {over} |")
    lines += ["", "Heavy libraries imported (of " + ", ".join(HEAVY) + "):", ""]
    for name, mods in heavy.items():
        lines.append(f"- {name}: {', '.join(mods) if mods else 'none'}")
    ok_version = series["wasmship --version"].median <= 0.1
    ok_build = series["wasmship build, no change"].median - go_existing <= 0.15
    lines += [
        "",
        f"Goals: --version within 0.1 s: {'met' if ok_version else 'missed'}; "
        f"no-change build within 0.15 s of go build: {'met' if ok_build else 'missed'}.",
    ]
    publish("\n".join(lines) + "\n", args.markdown)


if __name__ == "__main__":
    main()
