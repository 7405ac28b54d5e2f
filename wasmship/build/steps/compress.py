"""Step: precompress every file that benefits; keep a variant only when it saves enough.

One rule for every encoding: a variant is kept only when it saves MIN_SAVING_PERCENT of its
file (encoders.saves_enough). A file whose type is compressed already (PNG, JPEG, WOFF2, MP4,
zip, ...) is not even tried unless a cheap probe says it would (encoders.worth_compressing).

Work runs on threads: every codec releases the GIL while it compresses (benchmarks/gil.py
measures it), so threads use every core without copying files between processes. Each
variant comes from the compression cache when an equal input was compressed with equal
settings before, in any build and any dist folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wasmship.build.cache import CacheStats, CompressionCache, cache_key, default_cache_dir
from wasmship.build.config import BuildConfig
from wasmship.build.context import BuildContext
from wasmship.dist.digests import sha256_hex
from wasmship.dist.manifest import FileEntry, Variant
from wasmship.dist.names import variant_path
from wasmship.encodings.encoders import Encoder, encoders, saves_enough, worth_compressing
from wasmship.encodings.encoders import compress as run_codec


@dataclass(frozen=True)
class Compressed:
    """One compressed variant of one file, wherever it came from."""

    file: FileEntry
    encoder: Encoder
    data: bytes
    cached: bool


def open_cache(config: BuildConfig) -> CompressionCache | None:
    """The cache this build uses, or None with --no-cache."""
    if not config.cache:
        return None
    root = config.cache_dir or default_cache_dir(config.environ)
    return CompressionCache(root=root, max_size=config.cache_max_size)


def compress_files(
    folder: Path,
    entries: Sequence[FileEntry],
    chosen: Sequence[Encoder],
    cache: CompressionCache | None,
    jobs: int,
) -> list[Compressed]:
    """Every (file, encoder) variant worth trying, in a stable order, cached or compressed now."""
    inputs = {f.logical: (folder / f.path).read_bytes() for f in entries}
    files = [f for f in entries if worth_compressing(inputs[f.logical], f.content_type)]
    work = [(entry, encoder) for entry in files for encoder in chosen]

    def run(item: tuple[FileEntry, Encoder]) -> Compressed:
        entry, encoder = item
        data = inputs[entry.logical]
        settings = encoder.settings_for(len(data), entry.content_type)
        key = cache_key(entry.sha256, settings)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return Compressed(entry, encoder, hit, cached=True)
        packed = run_codec(data, settings)
        if cache is not None:
            cache.put(key, packed)
        return Compressed(entry, encoder, packed, cached=False)

    # Largest file and slowest codec first, so the longest job starts at once.
    order = sorted(
        range(len(work)), key=lambda i: (-len(inputs[work[i][0].logical]), work[i][1].rank)
    )
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = dict(zip(order, pool.map(run, [work[i] for i in order]), strict=True))
    if cache is not None and cache.stats.written:
        cache.evict()
    return [done[i] for i in range(len(work))]


def compress(ctx: BuildContext) -> None:
    """Write .br, .gz (and .zst) siblings for every file they make enough smaller."""
    config = ctx.config
    chosen = encoders(config.profile, config.gzip, config.zstd)
    cache = open_cache(config)
    # A carried target's files came with their variants; they are not compressed again.
    fresh = [f for f in ctx.files.values() if f.logical not in ctx.carried_files]
    variants = compress_files(ctx.staging, fresh, chosen, cache, max(1, config.jobs))
    for variant in variants:
        entry, packed = ctx.files[variant.file.logical], variant.data
        if not saves_enough(entry.size, len(packed)):
            continue
        coding = variant.encoder.encoding
        path = variant_path(entry.path, coding)
        (ctx.staging / path).write_bytes(packed)
        ctx.files[entry.logical] = entry.with_variant(
            Variant(
                key=coding, path=path, size=len(packed), sha256=sha256_hex(packed), coding=coding
            )
        )
    tried = {v.file.logical for v in variants}
    skipped = sum(1 for f in fresh if f.logical not in tried)
    ctx.notes["compress"] = describe(variants, ctx.files.values(), cache, skipped)


def describe(
    variants: list[Compressed],
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
