"""Step 6: precompress every file that benefits; keep a variant only when it is smaller.

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

from wasmship.cache import CacheStats, CompressionCache, cache_key, default_cache_dir
from wasmship.codecs import Encoder, encoders
from wasmship.codecs import compress as run_codec
from wasmship.config import BuildConfig
from wasmship.context import Artifact, BuildContext, Encoding
from wasmship.steps.fingerprint import sha256_hex


@dataclass(frozen=True)
class Variant:
    """One compressed variant of one file, wherever it came from."""

    artifact: Artifact
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
    artifacts: Iterable[Artifact],
    chosen: Sequence[Encoder],
    cache: CompressionCache | None,
    jobs: int,
) -> list[Variant]:
    """Every (file, encoder) variant, in a stable order, from the cache or freshly compressed."""
    files = list(artifacts)
    inputs = {a.logical: (folder / a.path).read_bytes() for a in files}
    # The fingerprint step hashed every file already; a file added without a hash is hashed here.
    digests = {a.logical: a.sha256 or sha256_hex(inputs[a.logical]) for a in files}
    work = [(artifact, encoder) for artifact in files for encoder in chosen]

    def run(item: tuple[Artifact, Encoder]) -> Variant:
        artifact, encoder = item
        data = inputs[artifact.logical]
        settings = encoder.settings_for(len(data), artifact.content_type)
        key = cache_key(digests[artifact.logical], settings)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return Variant(artifact, encoder, hit, cached=True)
        packed = run_codec(data, settings)
        if cache is not None:
            cache.put(key, packed)
        return Variant(artifact, encoder, packed, cached=False)

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
    variants = compress_files(
        ctx.staging, ctx.artifacts.values(), chosen, cache, max(1, config.jobs)
    )
    for variant in variants:
        artifact, packed = variant.artifact, variant.data
        if len(packed) >= artifact.size:
            continue
        path = artifact.path + variant.encoder.suffix
        (ctx.staging / path).write_bytes(packed)
        artifact.encodings[variant.encoder.encoding] = Encoding(
            path=path, size=len(packed), sha256=sha256_hex(packed)
        )
    ctx.notes["compress"] = describe(variants, ctx.artifacts.values(), cache)


def describe(
    variants: list[Variant], artifacts: Iterable[Artifact], cache: CompressionCache | None
) -> str:
    """The step's one-line note: variants kept, and how many came from the cache."""
    kept = sum(len(a.encodings) for a in artifacts)
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
