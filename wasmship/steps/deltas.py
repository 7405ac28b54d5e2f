"""Make `dcz` deltas: each browser module (and a changed shim) against each kept earlier version.

A returning visitor whose browser holds the previous module downloads only the delta. A delta
is kept only when it is smaller than the file's br variant; a file too large for the window
a client must accept (RFC 9842) gets no delta and is served br.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from wasmship import dcz
from wasmship.context import SHIM, Artifact, BuildContext, Encoding
from wasmship.steps.fingerprint import sha256_hex

# Measured on the benchmark programs (docs/performance.md): level 19 gives deltas of 5-8 %
# of br in a fraction of brotli q11's time; 12 is faster but up to a quarter larger.
DELTA_LEVEL = 19
ENCODING_PREFIX = "dcz-"  # manifest key: dcz-<dictionary sha256>, a schema 1 encoding name


@dataclass(frozen=True)
class DeltaJob:
    """One delta to make: a new file against the bytes of one kept earlier version."""

    artifact: Artifact
    dictionary: Artifact


def delta_jobs(ctx: BuildContext) -> tuple[list[DeltaJob], list[str]]:
    """Every (new file, kept dictionary) pair, and the pairs skipped as too large (why)."""
    jobs: list[DeltaJob] = []
    skipped: list[str] = []
    for target in ctx.targets:
        if target.goos != "js":
            continue  # a wasip1 plugin is never fetched by a browser
        for logical in (target.module, SHIM):
            artifact = ctx.artifacts.get(logical)
            if artifact is None or not artifact.immutable:
                continue
            seen = {artifact.sha256}
            for kept in ctx.previous:
                old = kept.artifact
                same_file = old.logical == logical and (
                    logical == SHIM or kept.target == target.name
                )
                if not same_file or old.sha256 in seen:
                    continue
                seen.add(old.sha256)
                if not dcz.fits(artifact.size, old.size):
                    skipped.append(f"{artifact.path} from {old.path}")
                    continue
                jobs.append(DeltaJob(artifact, old))
    return jobs, skipped


def make_deltas(
    ctx: BuildContext, jobs: list[DeltaJob], make: Callable[[bytes, bytes], bytes]
) -> list[tuple[DeltaJob, bytes]]:
    """Run MAKE(new bytes, dictionary bytes) for every job, in parallel (zstd frees the GIL)."""

    def run(job: DeltaJob) -> tuple[DeltaJob, bytes]:
        data = (ctx.staging / job.artifact.path).read_bytes()
        dictionary = (ctx.staging / job.dictionary.path).read_bytes()
        return job, make(data, dictionary)

    ordered = sorted(jobs, key=lambda j: -j.artifact.size)  # the longest job starts first
    with ThreadPoolExecutor(max_workers=max(1, ctx.config.jobs)) as pool:
        return list(pool.map(run, ordered))


def write_deltas(ctx: BuildContext) -> None:
    """Write `<path>.<dictionary hash prefix>.dcz` for every delta smaller than br."""
    jobs, skipped = delta_jobs(ctx)
    made = make_deltas(
        ctx, jobs, lambda data, dictionary: dcz.compress(data, dictionary, DELTA_LEVEL)
    )
    kept = 0
    for job, body in sorted(
        made, key=lambda item: (item[0].artifact.path, item[0].dictionary.path)
    ):
        artifact = job.artifact
        br = artifact.encodings.get("br")
        if len(body) >= (br.size if br is not None else artifact.size):
            continue  # br is smaller: nothing gained by a delta
        path = dcz.delta_path(artifact.path, job.dictionary.sha256)
        (ctx.staging / path).write_bytes(body)
        artifact.encodings[ENCODING_PREFIX + job.dictionary.sha256] = Encoding(
            path=path,
            size=len(body),
            sha256=sha256_hex(body),
            coding="dcz",
            dictionary=job.dictionary.sha256,
        )
        kept += 1
    if skipped:
        ctx.warnings.append(
            "no dcz delta (larger than the window a browser must accept; served br): "
            + ", ".join(skipped)
        )
    ctx.notes["deltas"] = f"{kept} of {len(jobs)} kept" if jobs else "none (nothing earlier kept)"
