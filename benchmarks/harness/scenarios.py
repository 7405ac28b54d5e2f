"""Everything measured for one program, scenario by scenario, the runs of each interleaved."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.commands import Bench
from harness.measure import Run, Series, interleave
from harness.programs import Program, clone, set_build
from harness.shared import TOKEN, shared_cache
from wasmship.distformat.reader import read_manifest
from wasmship.encodings.encoders import GzipEncoder, Profile, Settings, encoders

# The series of one program, by scenario. Cold: an empty wasmship cache and a fresh dist (for
# the plain pipeline, nothing to reuse). Warm: the same dist again, no change. Change: a
# one-line change of Go code, into a dist of the previous build.
COLD, PLAIN_COLD = "wasmship cold", "plain cold"
CI_SAME, CI_CHANGE = "CI, restored cache, same module", "CI, restored cache, one-line change"
CI_SHARED = "CI, another runner built this commit"
WARM, GO_EXISTING, GO_NEW, PLAIN_WARM = (
    "wasmship warm",
    "go build, existing file",
    "go build, new path",
    "plain warm",
)
CHANGE, BOUND, GO_CHANGE, BROTLI, PLAIN_CHANGE = (
    "wasmship change",
    "go build + br q11",
    "go build, change",
    "br q11 alone",
    "plain change",
)


@dataclass
class Result:
    """Everything measured for one program."""

    name: str
    rounds: int
    wasm_size: int = 0
    series: dict[str, Series] = field(default_factory=dict)
    gzip_seconds: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)
    extras: Run | None = None
    cache_mib: float = 0.0  # what CI restores: the wasmship cache after one build

    def median(self, key: str) -> float:
        return self.series[key].median

    def cold_bound(self) -> float:
        """go build alone plus the slowest single compression of the largest file (brotli)."""
        return self.median(GO_NEW) + self.median(BROTLI)


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024 / 1024


def restore(snapshot: Path, target: Path) -> Path:
    """A copy of SNAPSHOT at TARGET, as actions/cache restores a folder (untimed)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(snapshot, target)
    return target


def run_program(bench: Bench, program: Program, rounds: int, ci: bool, extras: bool) -> Result:
    """Measure PROGRAM: cold, warm and change, each with its comparisons, ROUNDS times."""
    result = Result(program.name, rounds)
    home = bench.root / program.name
    src = home / "clone"  # a fresh clone of the program always lands at the same path
    dist, plain, caches = src / "dist", home / "plain", home / "cache"
    label = program.name

    # Warm Go's cache (and, for big18, fetch the pinned modules once): not what is measured.
    clone(program, src)
    bench.go_build(src, plain / "go.wasm")
    result.wasm_size = (plain / "go.wasm").stat().st_size

    def cold(r: int) -> Run:
        clone(program, src)
        return bench.wasmship(src, dist, caches / f"cold-{r}")

    def plain_cold(r: int) -> Run:
        return bench.plain(src, plain / f"cold-{r}")

    def ci_run(r: int, build: str) -> Run:
        clone(program, src, build)
        return bench.wasmship(src, dist, restore(caches / f"cold-{r}", caches / "ci"))

    steps = [(COLD, cold), (PLAIN_COLD, plain_cold)]
    if ci:
        steps.append((CI_SAME, lambda r: ci_run(r, "v1")))
        steps.append((CI_CHANGE, lambda r: ci_run(r, f"ci-{r}")))
    interleave(f"{label} cold", rounds, steps, result.series)
    result.cache_mib = folder_mib(caches / "cold-0")
    if ci:
        another_runner(bench, program, home, result, rounds)

    # Warm: one build of v1 into the dist (from a restored cache), then the same build again.
    clone(program, src)
    warm_cache = restore(caches / "cold-0", caches / "warm")
    bench.wasmship(src, dist, warm_cache)
    bench.go_build(src, plain / "go.wasm")
    interleave(
        f"{label} warm",
        rounds,
        [
            (WARM, lambda r: bench.wasmship(src, dist, warm_cache)),
            (GO_EXISTING, lambda r: bench.go_build(src, plain / "go.wasm")),
            (GO_NEW, lambda r: bench.go_build(src, plain / f"go-new-{r}.wasm")),
            (PLAIN_WARM, lambda r: bench.plain(src, plain / "warm")),
        ],
        result.series,
    )
    for key, size in variant_sizes(dist).items():
        result.sizes[f"wasmship {key}"] = size

    # Change: every run starts from the same dist (one earlier build, so one delta to make).
    base = restore(dist, home / "base-dist")
    settings = release_settings("br", result.wasm_size)

    def change(r: int) -> Run:
        set_build(src, f"wasmship-{r}")
        restore(base, dist)
        return bench.wasmship(src, dist, warm_cache)

    def bound(r: int) -> Run:
        set_build(src, f"bound-{r}")
        go = bench.go_build(src, plain / "go.wasm")
        seconds, _ = bench.codec(plain / "go.wasm", settings)
        result.series.setdefault(GO_CHANGE, Series()).runs.append(go)
        result.series.setdefault(BROTLI, Series()).runs.append(Run(seconds, 0.0))
        return Run(go.seconds + seconds, go.peak_mib)

    def plain_change(r: int) -> Run:
        set_build(src, f"plain-{r}")
        return bench.plain(src, plain / "warm")

    steps = [(CHANGE, change), (BOUND, bound), (PLAIN_CHANGE, plain_change)]
    interleave(f"{label} change", rounds, steps, result.series)
    set_build(src, "v1")

    sizes(bench, result, plain, settings)
    if extras:
        print(f"benchmark: {label}: --gzip zopfli --zstd", file=sys.stderr, flush=True)
        out = home / "extras-dist"
        result.extras = bench.wasmship(src, out, caches / "extras", "--gzip", "zopfli", "--zstd")
        extra = variant_sizes(out)
        result.sizes["zopfli gz"], result.sizes["zstd"] = extra["gzip"], extra["zstd"]
    shutil.rmtree(caches, ignore_errors=True)  # a scratch run of big18 leaves about 1 GB
    return result


def another_runner(bench: Bench, program: Program, home: Path, result: Result, rounds: int) -> None:
    """A fresh clone and an empty local cache, with a shared cache (nginx WebDAV) that another
    runner filled when it built this commit (that build is not timed)."""
    src, dist, caches = home / "clone", home / "clone" / "dist", home / "cache"
    with shared_cache(home / "shared") as url:
        shared = ("--cache-url", url)
        clone(program, src, "v1")
        bench.wasmship(src, dist, caches / "filler", *shared, WASMSHIP_CACHE_TOKEN=TOKEN)

        def another(r: int) -> Run:
            clone(program, src, "v1")
            cache = caches / f"another-{r}"
            return bench.wasmship(src, dist, cache, *shared, WASMSHIP_CACHE_TOKEN=TOKEN)

        interleave(f"{program.name} another runner", rounds, [(CI_SHARED, another)], result.series)


def release_settings(encoding: str, size: int) -> Settings:
    """What wasmship's release profile compresses a module of SIZE bytes with."""
    chosen = encoders(Profile.RELEASE, GzipEncoder.ZLIB, zstd=False)
    encoder = next(e for e in chosen if e.encoding == encoding)
    return encoder.settings_for(size, "application/wasm")


def variant_sizes(dist: Path) -> dict[str, int]:
    module = read_manifest(dist).targets[0].files["main.wasm"]
    return {name: variant.size for name, variant in module.encodings.items()}


def sizes(bench: Bench, result: Result, plain: Path, br: Settings) -> None:
    """The sizes the plain pipeline and the codecs give (deterministic: measured once)."""
    wasm = plain / "cold-0" / "main.wasm"
    result.sizes["plain br"] = (plain / "cold-0" / "main.wasm.br").stat().st_size
    result.sizes["plain gz"] = (plain / "cold-0" / "main.wasm.gz").stat().st_size
    result.gzip_seconds = bench.codec(wasm, release_settings("gzip", result.wasm_size))[0]
    # The window sized to the file against the binding's default window (22).
    result.sizes["br window"] = br.window
    if br.window != 22:
        result.sizes["br lgwin 22"] = bench.codec(wasm, Settings(**{**vars(br), "window": 22}))[1]
    gzip_n = subprocess.run(["gzip", "-9", "-n", "-c", str(wasm)], capture_output=True, check=True)
    result.sizes["gzip -9 -n"] = len(gzip_n.stdout)
