"""Step: precompress every file that benefits; keep a variant only when it saves enough.

A module is precompressed when its target says `compress = true`, which is the default of js
targets only: no browser downloads a wasip1 plugin (builder/encoding_plan.precompressed).

One rule for every encoding: a variant is kept only when it saves MIN_SAVING_PERCENT of its
file (encoders.saves_enough). A file whose type is compressed already (PNG, JPEG, WOFF2, MP4,
zip, ...) is not even tried unless a cheap probe says it would (encoders.worth_compressing).

It runs after every step that writes a file, once over all of them. It starts all the build's
encoding work on the pipeline's one pool (builder/jobs.py, planned in builder/encoding_plan.py):
its variants and the deltas step's dcz deltas, the longest first, so a delta runs beside brotli
instead of after it. It waits only for the variants. A variant the loader asked for earlier
(--hosting static) is that job's result, not encoded again. Each comes from the compression
cache when an equal input was compressed with equal settings before, in any build and any dist
folder.
"""

from __future__ import annotations

from collections.abc import Iterable

from wasmship.builder.cache import CacheStats, CompressionCache
from wasmship.builder.context import BuildContext
from wasmship.builder.encoding_plan import delta_jobs, precompressed, variant_jobs, variant_of
from wasmship.builder.jobs import Encoded, open_cache
from wasmship.distformat.model import FileEntry
from wasmship.encodings.encoders import encoders


def compress(ctx: BuildContext) -> None:
    """Write .br, .gz (and .zst) siblings for every file they make enough smaller."""
    config = ctx.config
    chosen = encoders(config.profile, config.gzip, config.zstd)
    cache = open_cache(config)
    # A carried target's files came with their variants; they are not compressed again.
    fresh = [f for f in ctx.files.values() if f.logical not in ctx.carried_files]
    asked = precompressed(config, fresh)
    planned = variant_jobs(ctx.staging, asked, chosen, cache)
    jobs = [job for _, _, job in planned]
    ctx.pool.start([*jobs, *delta_jobs(ctx)])  # the deltas need only the kept files: start them
    variants = ctx.pool.results(jobs)
    for (entry, encoder, _), variant in zip(planned, variants, strict=True):
        write_variant(ctx, ctx.files[entry.logical], encoder.encoding, variant.data)
    skipped = len(asked) - len({entry.logical for entry, _, _ in planned})
    note = describe(variants, ctx.files.values(), cache, skipped)
    shared = ctx.pool.shared
    if shared is not None:  # the shared cache's entries are among those "from cache"
        note += f", {shared.stats.hits} from the shared cache"
    if len(fresh) > len(asked):
        note += f", {len(fresh) - len(asked)} modules left plain (compress = false)"
    ctx.notes["compress"] = note


def write_variant(ctx: BuildContext, entry: FileEntry, coding: str, packed: bytes) -> None:
    """Write PACKED beside ENTRY's file and list it, if it saves enough."""
    variant = variant_of(entry, coding, packed)
    if variant is None:
        return
    (ctx.staging / variant.path).write_bytes(packed)
    ctx.files[entry.logical] = entry.with_variant(variant)


def describe(
    variants: list[Encoded],
    entries: Iterable[FileEntry],
    cache: CompressionCache | None,
    skipped: int = 0,
) -> str:
    """The step's one-line note: variants kept, how many came from the cache, files skipped."""
    kept = sum(len(f.encodings) for f in entries)
    note = f"{kept} variants"
    if skipped:
        note += f", {skipped} files already compressed"
    if cache is None:
        return note + ", cache off"
    from_cache = sum(1 for v in variants if v.cached)
    stats: CacheStats = cache.stats
    note += f", {from_cache} of {len(variants)} from cache"
    if stats.repaired:
        note += f", {stats.repaired} corrupt cache entries replaced"
    if stats.errors:
        note += f", {stats.errors} could not be cached ({cache.root} not writable?)"
    return note
