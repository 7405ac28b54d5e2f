"""Carry the hashed files of the dist being replaced into the new one (`--keep N` generations).

A tab opened before a deploy still asks for the old hashed names, and the old modules are the
dictionaries the deltas are made from. Every carried file is checked against the manifest it
came from first: a missing or corrupt one is dropped with a warning and never used again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wasmship.context import Artifact, BuildContext, Carried, Encoding
from wasmship.steps.fingerprint import integrity, sha256_hex
from wasmship.steps.manifest import manifest_or_none

PLAIN_CODINGS = frozenset({"br", "gzip", "zstd"})  # deltas of old files are not carried


@dataclass(frozen=True)
class Candidate:
    """A hashed file the old manifest lists, with the generation it would have in the new dist."""

    generation: int
    target: str
    logical: str
    entry: Mapping[str, Any]


def safe_relative(path: object) -> str | None:
    """PATH if it is a plain relative path inside a dist, else None."""
    if not isinstance(path, str) or not path or "\\" in path:
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        return None
    return path


def candidates(manifest: Mapping[str, Any]) -> Iterator[Candidate]:
    """The old dist's hashed files as generation 1, its own kept files one generation older."""
    for target in manifest.get("targets") or []:
        if not isinstance(target, Mapping) or not isinstance(target.get("files"), Mapping):
            continue
        for logical, entry in target["files"].items():
            if isinstance(entry, Mapping) and entry.get("immutable") is True:
                yield Candidate(1, str(target.get("name", "")), str(logical), entry)
    for entry in manifest.get("previous") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("generation"), int):
            yield Candidate(
                entry["generation"] + 1,
                str(entry.get("target", "")),
                str(entry.get("logical", "")),
                entry,
            )


def _verified(dist: Path, entry: Mapping[str, Any]) -> tuple[str, bytes] | str:
    """(path, bytes) when the file is there and matches ENTRY; else why not."""
    path = safe_relative(entry.get("path"))
    if path is None:
        return f"the manifest names an unsafe path {entry.get('path')!r}"
    try:
        data = (dist / path).read_bytes()
    except OSError:
        return f"{path} is missing"
    if len(data) != entry.get("size") or sha256_hex(data) != entry.get("sha256"):
        return f"{path} does not match the manifest it came from (size or sha256 differs)"
    return path, data


def carry(ctx: BuildContext, old_dist: Path, candidate: Candidate) -> Carried | None:
    """Copy one checked file and its checked variants into staging; None if it was dropped."""
    checked = _verified(old_dist, candidate.entry)
    if isinstance(checked, str):
        ctx.warnings.append(f"not keeping an old file: {checked}; dropped, not used for deltas")
        return None
    path, data = checked
    target = ctx.staging / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    encodings: dict[str, Encoding] = {}
    raw_encodings = candidate.entry.get("encodings")
    for name, variant in sorted((raw_encodings or {}).items()):
        if name not in PLAIN_CODINGS or not isinstance(variant, Mapping):
            continue
        found = _verified(old_dist, variant)
        if isinstance(found, str):
            ctx.warnings.append(f"not keeping an old variant: {found}; dropped")
            continue
        vpath, blob = found
        (ctx.staging / vpath).write_bytes(blob)
        encodings[name] = Encoding(path=vpath, size=len(blob), sha256=sha256_hex(blob))
    content_type = candidate.entry.get("content_type")
    artifact = Artifact(
        logical=candidate.logical,
        path=path,
        content_type=content_type if isinstance(content_type, str) else "application/octet-stream",
        immutable=True,
        size=len(data),
        sha256=sha256_hex(data),
        integrity=integrity(data),
        encodings=encodings,
    )
    return Carried(generation=candidate.generation, target=candidate.target, artifact=artifact)


def keep_generations(ctx: BuildContext) -> None:
    """Carry up to `keep` generations of the old dist's hashed files; older ones are pruned."""
    keep = ctx.config.keep
    old_dist = ctx.config.out_path
    old = manifest_or_none(old_dist) if keep > 0 else None
    if old is None:
        ctx.notes["generations"] = "none kept" if keep > 0 else "off (--keep 0)"
        return
    taken = {a.path for a in ctx.artifacts.values()}
    taken |= {e.path for a in ctx.artifacts.values() for e in a.encodings.values()}
    pruned = 0
    for candidate in sorted(candidates(old), key=lambda c: c.generation):
        path = candidate.entry.get("path")
        if path in taken:
            continue  # unchanged since then (or already kept): the new build's own file
        if candidate.generation > keep:
            pruned += 1
            continue
        kept = carry(ctx, old_dist, candidate)
        if kept is None:
            continue
        taken.add(kept.artifact.path)
        taken.update(e.path for e in kept.artifact.encodings.values())
        ctx.previous.append(kept)
    ctx.previous.sort(key=lambda c: (c.generation, c.target, c.artifact.logical, c.artifact.path))
    files, builds = len(ctx.previous), len({c.generation for c in ctx.previous})
    note = f"{_count(files, 'file')} kept from {_count(builds, 'earlier build')}"
    ctx.notes["generations"] = note + (f", {pruned} pruned" if pruned else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
