"""Step: keep the hashed files of the dist being replaced in the new one (`--keep N` builds).

A tab opened before a deploy still asks for the old hashed names, and the old modules are the
dictionaries the deltas are made from. Every kept file is checked against the manifest it
came from first: a missing or corrupt one is dropped with a warning and never used again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from wasmship.builder.context import BuildContext
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.model import FileEntry, KeptFile, Manifest
from wasmship.distformat.names import PLAIN_CODINGS, relative_path, variant_path
from wasmship.distformat.reader import manifest_or_none


def candidates(manifest: Manifest) -> Iterator[KeptFile]:
    """The old dist's hashed files as generation 1, its own kept files one generation older."""
    for target in manifest.targets:
        for entry in target.files.values():
            if entry.immutable:
                yield KeptFile(generation=1, target=target.name, file=entry)
    for kept in manifest.kept:
        yield replace(kept, generation=kept.generation + 1)


def checked_bytes(dist: Path, path: str, size: int, sha256: str) -> bytes | str:
    """The file's bytes when it is there and matches its entry; else why not."""
    safe = relative_path(path)
    if safe is None:
        return f"the manifest names an unsafe path {path!r}"
    try:
        data = (dist / safe).read_bytes()
    except OSError:
        return f"{path} is missing"
    if len(data) != size or sha256_hex(data) != sha256:
        return f"{path} does not match the manifest it came from (size or sha256 differs)"
    return data


def copy_checked(
    ctx: BuildContext, old_dist: Path, entry: FileEntry, variant_problem: Callable[[str], None]
) -> FileEntry | str:
    """Copy ENTRY's file and its br/gzip/zstd variants from OLD_DIST into staging, each checked
    against the entry first. A problem with the file is returned (nothing copied); one with a
    variant goes to VARIANT_PROBLEM (which may raise) and the variant is left out."""
    checked = checked_bytes(old_dist, entry.path, entry.size, entry.sha256)
    if isinstance(checked, str):
        return checked
    target = ctx.staging / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(checked)
    copied = replace(entry, integrity=integrity(checked), encodings={})
    for variant in entry.variants:
        if variant.key not in PLAIN_CODINGS:
            continue  # deltas are made again, against the files kept now
        found = checked_bytes(old_dist, variant.path, variant.size, variant.sha256)
        if isinstance(found, str):
            variant_problem(found)
            continue
        (ctx.staging / variant.path).parent.mkdir(parents=True, exist_ok=True)
        (ctx.staging / variant.path).write_bytes(found)
        copied = copied.with_variant(variant)
    return copied


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
