"""Make `dcz` deltas: each browser module (and a changed shim) against each kept earlier version.

Every js target of the dist gets them, a carried one (--target left it out) too: its old
deltas were not carried, as their dictionaries may have been pruned since.

A returning visitor whose browser holds the previous module downloads only the delta. A delta
is kept only when it is smaller than the file's br variant; a file too large for the window
a client must accept (RFC 9842) gets no delta and is served br.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from wasmship.build.cache import CompressionCache, cache_key
from wasmship.build.context import BuildContext, module_name
from wasmship.build.steps.compress import open_cache
from wasmship.dist.digests import sha256_hex
from wasmship.dist.manifest import FileEntry, Variant
from wasmship.dist.names import DELTA_KEY_PREFIX, SHIM, delta_path
from wasmship.encodings import dcz, encoders


@dataclass(frozen=True)
class DeltaJob:
    """One delta to make: a new file against the bytes of one kept earlier version."""

    file: FileEntry
    dictionary: FileEntry


def delta_jobs(ctx: BuildContext) -> tuple[list[DeltaJob], list[str]]:
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


def make_deltas(
    ctx: BuildContext, jobs: list[DeltaJob], cache: CompressionCache | None
) -> list[tuple[DeltaJob, bytes, bool]]:
    """(job, delta, from cache) for every job, in parallel (zstd frees the GIL).

    Deltas go through the compression cache like every variant; the key holds the
    dictionary's hash, so a delta is made once per (file, dictionary, settings).
    """

    def run(job: DeltaJob) -> tuple[DeltaJob, bytes, bool]:
        settings = encoders.delta_settings(ctx.config.profile, job.file.size, job.dictionary.sha256)
        key = cache_key(job.file.sha256, settings)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return job, hit, True
        data = (ctx.staging / job.file.path).read_bytes()
        dictionary = (ctx.staging / job.dictionary.path).read_bytes()
        body = encoders.compress(data, settings, dictionary)
        if cache is not None:
            cache.put(key, body)
        return job, body, False

    ordered = sorted(jobs, key=lambda j: -j.file.size)  # the longest job starts first
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
    for job, body, _ in sorted(made, key=lambda item: (item[0].file.path, item[0].dictionary.path)):
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
        f"{kept} of {len(jobs)} kept, {from_cache} from cache"
        if jobs
        else "none (nothing earlier kept)"
    )
