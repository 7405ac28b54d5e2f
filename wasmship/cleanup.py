"""`wasmship clean`: remove a dist that wasmship wrote, and stale staging folders beside it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.distformat.publish import DEFAULT_LOCK_TIMEOUT, dist_lock, recover
from wasmship.distformat.reader import is_wasmship_dist
from wasmship.errors import UsageError


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
