"""`wasmship clean`: remove a dist that wasmship wrote, and stale staging folders beside it;
with --cache, empty wasmship's cache folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from wasmship import cachedir
from wasmship.distformat.lock import DEFAULT_LOCK_TIMEOUT, dist_lock
from wasmship.distformat.publish import recover
from wasmship.distformat.reader import is_wasmship_dist
from wasmship.errors import UsageError, WasmshipError


@dataclass(frozen=True)
class CleanResult:
    """What was removed."""

    removed: list[Path] = field(default_factory=list)


def clean(dist: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> CleanResult:
    """Remove DIST if its manifest says wasmship wrote it; never anything else."""
    dist = dist.resolve()
    if dist.exists() and not dist.is_dir():
        raise UsageError(f"{dist} is not a folder")
    if dist.is_dir() and any(dist.iterdir()) and not is_wasmship_dist(dist):
        raise UsageError(
            f"refusing to remove {dist}: it has no wasmship manifest.json, so wasmship did not "
            "write it"
        )
    removed: list[Path] = []
    if not dist.parent.is_dir():
        return CleanResult(removed)
    with dist_lock(dist, lock_timeout):
        stale = [p for p in dist.parent.glob(f".{dist.name}.wasmship-*") if p.is_dir()]
        recover(dist)
        removed += stale
        if dist.is_dir():
            shutil.rmtree(dist)
            removed.append(dist)
    return CleanResult(removed)


@dataclass(frozen=True)
class BucketClean:
    """One cache bucket under `wasmship clean --cache`: what it held, what went (or would)."""

    name: str
    folder: Path
    entries: int
    bytes: int
    removed: int
    removed_bytes: int
    in_use: int  # held by a running command (a dev session, a runner): left in place

    def as_dict(self) -> dict[str, object]:
        """The bucket as `--json` prints it."""
        return {
            "name": self.name,
            "folder": str(self.folder),
            "entries": self.entries,
            "bytes": self.bytes,
            "removed": self.removed,
            "removed_bytes": self.removed_bytes,
            "in_use": self.in_use,
        }


@dataclass(frozen=True)
class CacheClean:
    """What `wasmship clean --cache` found in the cache folder, and what went (or would)."""

    root: Path
    dry_run: bool
    buckets: tuple[BucketClean, ...]

    def as_dict(self) -> dict[str, object]:
        """The whole run as `--json` prints it."""
        return {
            "cache": str(self.root),
            "dry_run": self.dry_run,
            "entries": sum(b.entries for b in self.buckets),
            "bytes": sum(b.bytes for b in self.buckets),
            "removed": sum(b.removed for b in self.buckets),
            "removed_bytes": sum(b.removed_bytes for b in self.buckets),
            "buckets": [b.as_dict() for b in self.buckets],
        }


def clean_cache(root: Path, *, dry_run: bool = False) -> CacheClean:
    """Empty every bucket of the cache folder ROOT (with DRY_RUN, only say what would go);
    entries a running command holds stay."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"the cache folder {root} is not a folder")
    buckets: list[BucketClean] = []
    for bucket in cachedir.BUCKETS:
        try:
            gone, held = cachedir.empty(root, bucket, dry_run=dry_run)
        except OSError as exc:
            where = exc.filename or bucket.path(root)
            raise WasmshipError(f"cannot empty the cache: {where}: {exc.strerror or exc}") from exc
        every = gone + held
        buckets.append(
            BucketClean(
                name=bucket.name,
                folder=bucket.path(root),
                entries=len(every),
                bytes=sum(e.size for e in every),
                removed=len(gone),
                removed_bytes=sum(e.size for e in gone),
                in_use=len(held),
            )
        )
    return CacheClean(root, dry_run, tuple(buckets))
