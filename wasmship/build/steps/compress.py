"""Step: precompress every file that benefits; keep a variant only when it is smaller.

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
from wasmship.encodings.encoders import Encoder, encoders
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
    entries: Iterable[FileEntry],
    chosen: Sequence[Encoder],
    cache: CompressionCache | None,
    jobs: int,
) -> list[Compressed]:
    """Every (file, encoder) variant, in a stable order, from the cache or freshly compressed."""
    files = list(entries)
    inputs = {f.logical: (folder / f.path).read_bytes() for f in files}
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
    """Write .br, .gz (and .zst) siblings for every artifact that they make smaller."""
    config = ctx.config
    chosen = encoders(config.profile, config.gzip, config.zstd)
    cache = open_cache(config)
    # A carried target's files came with their variants; they are not compressed again.
    fresh = [f for f in ctx.files.values() if f.logical not in ctx.carried_files]
    variants = compress_files(ctx.staging, fresh, chosen, cache, max(1, config.jobs))
    for variant in variants:
        entry, packed = ctx.files[variant.file.logical], variant.data
        if len(packed) >= entry.size:
            continue
        path = entry.path + variant.encoder.suffix
        (ctx.staging / path).write_bytes(packed)
        coding = variant.encoder.encoding
        ctx.files[entry.logical] = entry.with_variant(
            Variant(
                key=coding, path=path, size=len(packed), sha256=sha256_hex(packed), coding=coding
            )
        )
    ctx.notes["compress"] = describe(variants, ctx.files.values(), cache)


def describe(
    variants: list[Compressed], entries: Iterable[FileEntry], cache: CompressionCache | None
) -> str:
    """The step's one-line note: variants kept, and how many came from the cache."""
    kept = sum(len(f.encodings) for f in entries)
    if cache is None:
        return f"{kept} variants, cache off"
    from_cache = sum(1 for v in variants if v.cached)
    stats: CacheStats = cache.stats
    note = f"{kept} variants, {from_cache} of {len(variants)} from cache"
    if stats.repaired:
        note += f", {stats.repaired} corrupt cache entries replaced"
    if stats.errors:
        note += f", {stats.errors} could not be cached ({cache.root} not writable?)"
    return note
