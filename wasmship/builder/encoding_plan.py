"""What a build encodes, as jobs for its one pool (builder/jobs.py): a variant per file and
encoder worth trying, and a dcz delta per browser file and kept earlier version.

The compress and deltas steps plan them here; a step that must know a file's variants before
compress runs (the loader, for --hosting static) asks for them here too, on the same pool,
and compress then takes those finished jobs instead of encoding the file again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmship.builder.cache import CompressionCache
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext, module_name
from wasmship.builder.jobs import Job, open_cache
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import FileEntry, Variant
from wasmship.distformat.names import SHIM, variant_path
from wasmship.encodings import dcz
from wasmship.encodings.encoders import (
    Encoder,
    delta_settings,
    encoders,
    saves_enough,
    worth_compressing,
)


def precompressed(config: BuildConfig, entries: Iterable[FileEntry]) -> list[FileEntry]:
    """The ENTRIES that get variants: all but the modules of targets whose `compress` is off
    (by default a wasip1 target's: no browser downloads a plugin, and br costs seconds)."""
    plain = {module_name(s.name) for s in config.configured_specs() if not s.precompressed}
    return [entry for entry in entries if entry.logical not in plain]


def variant_jobs(
    folder: Path,
    entries: Sequence[FileEntry],
    chosen: Sequence[Encoder],
    cache: CompressionCache | None,
) -> list[tuple[FileEntry, Encoder, Job]]:
    """A job per (file, encoder) worth trying, in a stable order: files, then encoders."""
    files = [
        f for f in entries if worth_compressing((folder / f.path).read_bytes(), f.content_type)
    ]
    return [
        (
            entry,
            encoder,
            Job(
                name=f"{entry.path} {encoder.encoding}",
                source=folder / entry.path,
                sha256=entry.sha256,
                size=entry.size,
                settings=encoder.settings_for(entry.size, entry.content_type),
                cache=cache,
            ),
        )
        for entry in files
        for encoder in chosen
    ]


def variant_of(entry: FileEntry, coding: str, packed: bytes) -> Variant | None:
    """The variant PACKED makes of ENTRY in CODING, or None when it does not save enough."""
    if not saves_enough(entry.size, len(packed)):
        return None
    path, sha256 = variant_path(entry.path, coding), sha256_hex(packed)
    return Variant(key=coding, path=path, size=len(packed), sha256=sha256, coding=coding)


def variants_now(ctx: BuildContext, entry: FileEntry) -> FileEntry:
    """ENTRY with the variants the compress step will write for it, known before it runs: their
    jobs run now on the build's pool, and compress takes their results (nothing is written)."""
    config = ctx.config
    chosen = encoders(config.profile, config.gzip, config.zstd)
    planned = variant_jobs(ctx.staging, precompressed(config, [entry]), chosen, open_cache(config))
    results = ctx.pool.results([job for _, _, job in planned])
    for (_, encoder, _), result in zip(planned, results, strict=True):
        variant = variant_of(entry, encoder.encoding, result.data)
        if variant is not None:
            entry = entry.with_variant(variant)
    return entry


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
        settings=delta_settings(ctx.config.profile, file.size, dictionary.sha256),
        dictionary=ctx.staging / dictionary.path,
        cache=cache,
    )


def delta_jobs(ctx: BuildContext) -> list[Job]:
    """The jobs of every delta this build makes (the kept files must be in staging)."""
    cache = open_cache(ctx.config)
    return [encoding_job(ctx, delta, cache) for delta in planned_deltas(ctx)[0]]
