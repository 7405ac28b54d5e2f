"""Make `dcz` deltas: each browser module (and a changed shim) against each kept earlier version.

Every js target of the dist gets them, a carried one (--target left it out) too: its old
deltas were not carried, as their dictionaries may have been pruned since.

A returning visitor whose browser holds the previous module downloads only the delta. A delta
is kept only when it is smaller than the file's br variant; a file too large for the window
a client must accept (RFC 9842) gets no delta and is served br.

The compress step has started the deltas on the build's one encoding pool (build/jobs.py),
beside its variants; this step waits for them and decides, now that br's sizes are known.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from wasmship.builder.cache import CompressionCache
from wasmship.builder.context import BuildContext, module_name
from wasmship.builder.jobs import EncodingJobs, Job, open_cache
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import FileEntry, Variant
from wasmship.distformat.names import DELTA_KEY_PREFIX, SHIM, delta_path
from wasmship.encodings import dcz, encoders


@dataclass(frozen=True)
class DeltaJob:
    """One delta to make: a new file against the bytes of one kept earlier version."""

    file: FileEntry
    dictionary: FileEntry


def planned_deltas(ctx: BuildContext) -> tuple[list[DeltaJob], list[str]]:
    """Every (new file, kept dictionary) pair, and the pairs skipped as too large (why)."""
    jobs: list[DeltaJob] = []
    skipped: list[str] = []
    for target in ctx.dist_targets:
        if target.goos != "js":
            continue  # a wasip1 plugin is never fetched by a browser
        for logical in (module_name(target.name), SHIM):
            entry = ctx.files.get(logical)
            if entry is None or not entry.immutable:
                continue
            seen = {entry.sha256}
            for kept in ctx.kept:
                old = kept.file
                same_file = old.logical == logical and (
                    logical == SHIM or kept.target == target.name
                )
                if not same_file or old.sha256 in seen:
                    continue
                seen.add(old.sha256)
                if not dcz.fits(entry.size, old.size):
                    skipped.append(f"{entry.path} from {old.path}")
                    continue
                jobs.append(DeltaJob(entry, old))
    return jobs, skipped


def encoding_job(ctx: BuildContext, delta: DeltaJob, cache: CompressionCache | None) -> Job:
    """DELTA as a job of the encoding pool; its cache key holds the dictionary's hash, so a
    delta is made once per (file, dictionary, settings)."""
    file, dictionary = delta.file, delta.dictionary
    return Job(
        name=f"{file.path} dcz from {dictionary.path}",
        source=ctx.staging / file.path,
        sha256=file.sha256,
        size=file.size,
        settings=encoders.delta_settings(ctx.config.profile, file.size, dictionary.sha256),
        dictionary=ctx.staging / dictionary.path,
        cache=cache,
    )


def delta_jobs(ctx: BuildContext) -> list[Job]:
    """The jobs of every delta this build makes (the kept files must be in staging)."""
    cache = open_cache(ctx.config)
    return [encoding_job(ctx, delta, cache) for delta in planned_deltas(ctx)[0]]


@contextmanager
def encoding(ctx: BuildContext) -> Iterator[EncodingJobs]:
    """The build's encoding pool, made by the first step that needs it; stopped if a step fails."""
    if ctx.encoding is None:
        ctx.encoding = EncodingJobs(ctx.config.jobs, ctx.progress)
    try:
        yield ctx.encoding
    except BaseException:
        ctx.encoding.close(failed=True)
        ctx.encoding = None
        raise


def write_deltas(ctx: BuildContext) -> None:
    """Write `<path>.<dictionary hash prefix>.dcz` for every delta smaller than br."""
    deltas, skipped = planned_deltas(ctx)
    cache = open_cache(ctx.config)
    with encoding(ctx) as pool:
        made = pool.results([encoding_job(ctx, delta, cache) for delta in deltas])
        pool.close()  # the last encoding of the build
    ctx.encoding = None
    kept = 0
    from_cache = sum(1 for result in made if result.cached)
    pairs = sorted(
        zip(deltas, made, strict=True), key=lambda p: (p[0].file.path, p[0].dictionary.path)
    )
    for job, result in pairs:
        body = result.data
        entry = ctx.files[job.file.logical]
        br = entry.encodings.get("br")
        if len(body) >= (br.size if br is not None else entry.size):
            continue  # br is smaller: nothing gained by a delta
        path = delta_path(entry.path, job.dictionary.sha256)
        (ctx.staging / path).write_bytes(body)
        ctx.files[entry.logical] = entry.with_variant(
            Variant(
                key=DELTA_KEY_PREFIX + job.dictionary.sha256,
                path=path,
                size=len(body),
                sha256=sha256_hex(body),
                coding="dcz",
                dictionary=job.dictionary.sha256,
            )
        )
        kept += 1
    if skipped:
        ctx.warnings.append(
            "no dcz delta (larger than the window a browser must accept; served br): "
            + ", ".join(skipped)
        )
    ctx.notes["deltas"] = (
        f"{kept} of {len(deltas)} kept, {from_cache} from cache"
        if deltas
        else "none (nothing earlier kept)"
    )
