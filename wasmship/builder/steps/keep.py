"""Step: keep the hashed files of the dist being replaced in the new one (`--keep N` builds).

A tab opened before a deploy still asks for the old hashed names, and the old modules are the
dictionaries the deltas are made from. Every kept file is checked against the manifest it
came from first: a missing or corrupt one is dropped with a warning and never used again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from wasmship.builder.checked_copy import copy_checked
from wasmship.builder.context import BuildContext
from wasmship.distformat.model import KeptFile, Manifest
from wasmship.distformat.names import PLAIN_CODINGS, variant_path
from wasmship.distformat.reader import manifest_or_none


def candidates(manifest: Manifest) -> Iterator[KeptFile]:
    """The old dist's hashed files as generation 1, its own kept files one generation older."""
    for target in manifest.targets:
        for entry in target.files.values():
            if entry.immutable:
                yield KeptFile(generation=1, target=target.name, file=entry)
    for kept in manifest.kept:
        yield replace(kept, generation=kept.generation + 1)


def carry(ctx: BuildContext, old_dist: Path, candidate: KeptFile) -> KeptFile | None:
    """Copy one checked file and its checked variants into staging; None if it was dropped."""

    def drop_variant(why: str) -> None:
        ctx.warnings.append(f"not keeping an old variant: {why}; dropped")

    copied = copy_checked(ctx, old_dist, candidate.file, drop_variant)
    if isinstance(copied, str):
        ctx.warnings.append(f"not keeping an old file: {copied}; dropped, not used for deltas")
        return None
    return replace(candidate, file=copied)


def keep_files(ctx: BuildContext) -> None:
    """Keep up to `keep` generations of the old dist's hashed files; older ones are pruned."""
    keep = ctx.config.keep
    old_dist = ctx.config.out_path
    old = manifest_or_none(old_dist) if keep > 0 else None
    if old is None:
        ctx.notes["keep"] = "none kept" if keep > 0 else "off (--keep 0)"
        return
    # Runs before compress: the new build's variants are not written yet, but their names are
    # known (and a carried target's are there), so no kept file can take one's place.
    taken = {f.path for f in ctx.files.values()}
    taken |= {v.path for f in ctx.files.values() for v in f.encodings.values()}
    taken |= {variant_path(f.path, coding) for f in ctx.files.values() for coding in PLAIN_CODINGS}
    pruned = 0
    for candidate in sorted(candidates(old), key=lambda c: c.generation):
        if candidate.file.path in taken:
            continue  # unchanged since then (or already kept): the new build's own file
        if candidate.generation > keep:
            pruned += 1
            continue
        kept = carry(ctx, old_dist, candidate)
        if kept is None:
            continue
        taken.add(kept.file.path)
        taken.update(v.path for v in kept.file.encodings.values())
        ctx.kept.append(kept)
    ctx.kept.sort(key=lambda k: (k.generation, k.target, k.file.logical, k.file.path))
    files, builds = len(ctx.kept), len({k.generation for k in ctx.kept})
    note = f"{_count(files, 'file')} kept from {_count(builds, 'earlier build')}"
    ctx.notes["keep"] = note + (f", {pruned} pruned" if pruned else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
