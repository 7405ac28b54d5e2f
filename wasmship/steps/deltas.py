"""Make `dcz` deltas: each browser module (and a changed shim) against each kept earlier version.

A returning visitor whose browser holds the previous module downloads only the delta. A delta
is kept only when it is smaller than the file's br variant; a file too large for the window
a client must accept (RFC 9842) gets no delta and is served br.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from wasmship import codecs, dcz
from wasmship.cache import CompressionCache, cache_key
from wasmship.codecs import delta_settings
from wasmship.context import SHIM, Artifact, BuildContext, Encoding
from wasmship.steps.compress import open_cache
from wasmship.steps.fingerprint import sha256_hex

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
    ctx: BuildContext, jobs: list[DeltaJob], cache: CompressionCache | None
) -> list[tuple[DeltaJob, bytes, bool]]:
    """(job, delta, from cache) for every job, in parallel (zstd frees the GIL).

    Deltas go through the compression cache like every variant; the key holds the
    dictionary's hash, so a delta is made once per (file, dictionary, settings).
    """

    def run(job: DeltaJob) -> tuple[DeltaJob, bytes, bool]:
        settings = delta_settings(ctx.config.profile, job.artifact.size, job.dictionary.sha256)
        key = cache_key(job.artifact.sha256, settings)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return job, hit, True
        data = (ctx.staging / job.artifact.path).read_bytes()
        dictionary = (ctx.staging / job.dictionary.path).read_bytes()
        body = codecs.compress(data, settings, dictionary)
        if cache is not None:
            cache.put(key, body)
        return job, body, False

    ordered = sorted(jobs, key=lambda j: -j.artifact.size)  # the longest job starts first
    with ThreadPoolExecutor(max_workers=max(1, ctx.config.jobs)) as pool:
        made = list(pool.map(run, ordered))
    if cache is not None and cache.stats.written:
        cache.evict()
    return made


def write_deltas(ctx: BuildContext) -> None:
    """Write `<path>.<dictionary hash prefix>.dcz` for every delta smaller than br."""
    jobs, skipped = delta_jobs(ctx)
    made = make_deltas(ctx, jobs, open_cache(ctx.config))
    kept = 0
    from_cache = sum(1 for _, _, cached in made if cached)
    for job, body, _ in sorted(
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
    ctx.notes["deltas"] = (
        f"{kept} of {len(jobs)} kept, {from_cache} from cache"
        if jobs
        else "none (nothing earlier kept)"
    )
