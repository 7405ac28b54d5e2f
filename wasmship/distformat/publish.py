"""Publish a dist: build it in a staging folder beside it, then swap it in atomically, under
the dist's lock (distformat/lock.py)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wasmship.distformat.lock import dist_lock
from wasmship.distformat.names import MANIFEST
from wasmship.distformat.reader import is_wasmship_dist, load_document
from wasmship.errors import DistError, ManifestError, PublishError, UsageError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _scratch_prefix(dist: Path, kind: str) -> str:
    return f".{dist.name}.wasmship-{kind}-"


def _broken_link(path: Path) -> tuple[Path, str] | None:
    """The first symbolic link on PATH that cannot be followed, and why; None if there is none."""
    path = path.absolute()
    for candidate in (*reversed(path.parents), path):
        if not candidate.is_symlink():
            continue
        try:
            candidate.stat()
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return candidate, "does not exist"
            return candidate, f"cannot be followed ({exc.strerror})"
    return None


def _not_a_dist(dist: Path) -> str:
    """Why the non-empty folder DIST is not taken for a wasmship dist."""
    try:
        load_document(dist)
    except DistError as exc:
        cause, manifest = exc.__cause__, dist / MANIFEST
        if isinstance(exc, ManifestError):  # too large or too deep to be a manifest
            return f"{exc}; fix or remove it"
        if isinstance(cause, json.JSONDecodeError):
            where = f"line {cause.lineno}, column {cause.colno}"
            return f"its {manifest} is not valid JSON ({where}: {cause.msg}); fix or remove it"
        if cause is not None:
            detail = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
            return f"its {manifest} cannot be read ({detail}); fix or remove it"
        return f"it is not empty and has no wasmship {MANIFEST}; choose another --out"
    return f"its {MANIFEST} was not written by wasmship; choose another --out"


def check_target(dist: Path, sources: list[Path], *, force: bool) -> None:
    """Refuse a dist folder that would destroy something: /, home, sources, foreign folders,
    a path through a dangling symbolic link (following it would create the link's target)."""
    broken = _broken_link(dist)
    if broken is not None:
        link, why = broken
        through = "" if link == dist.absolute() else f" goes through {link}, which"
        raise UsageError(
            f"refusing to use {dist} as the dist folder: it{through} is a symbolic link to "
            f"{os.readlink(link)}, which {why}; point the link at a folder, remove it or pass "
            "another --out"
        )
    dist = dist.resolve()
    if dist == Path(dist.anchor):
        raise UsageError(f"refusing to use {dist} as the dist folder: it is the filesystem root")
    if dist == Path.home().resolve():
        raise UsageError(f"refusing to use {dist} as the dist folder: it is your home folder")
    for source in sources:
        source = source.resolve()
        if dist == source or dist in source.parents:
            raise UsageError(
                f"refusing to use {dist} as the dist folder: it holds the sources ({source}); "
                "pick an output folder of its own, e.g. --out dist"
            )
    if dist.exists() and not dist.is_dir():
        raise UsageError(f"the dist path {dist} exists and is not a folder")
    if dist.is_dir() and any(dist.iterdir()) and not is_wasmship_dist(dist) and not force:
        raise UsageError(
            f"refusing to replace {dist}: {_not_a_dist(dist)}, or pass --force to replace "
            "the folder"
        )


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def recover(dist: Path) -> None:
    """Finish a swap that a killed build left half done, then remove stale staging folders."""
    parent = dist.parent
    retired = sorted(parent.glob(_scratch_prefix(dist, "retired") + "*"))
    if not dist.exists() and retired:
        # Killed between the two renames of the fallback swap: the old dist is the retired one.
        retired[-1].rename(dist)
        retired = retired[:-1]
    for stale in [*retired, *parent.glob(_scratch_prefix(dist, "staging") + "*")]:
        shutil.rmtree(stale, ignore_errors=True)


def swap_in(staging: Path, dist: Path) -> None:
    """Make STAGING the dist; the old dist is removed only after the new one is in place."""
    if not dist.exists():
        staging.rename(dist)
        return
    retired = dist.parent / (_scratch_prefix(dist, "retired") + str(os.getpid()))
    if _exchange(staging, dist):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the old dist
        return
    dist.rename(retired)
    staging.rename(dist)
    shutil.rmtree(retired, ignore_errors=True)


def staging_path(dist: Path) -> Path:
    """The staging folder this process builds DIST in (beside it, so the swap is a rename)."""
    return dist.parent / (_scratch_prefix(dist, "staging") + str(os.getpid()))


@contextmanager
def locked(
    dist: Path, *, lock_timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold DIST's lock, with what a killed build left finished or removed; yield its real path.

    Nothing is written beside DIST yet: a build that finds its dist up to date leaves it alone.
    """
    dist = dist.resolve()
    try:
        dist.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {dist.parent}: {exc.strerror or exc}") from exc
    with dist_lock(dist, lock_timeout, on_wait):
        recover(dist)
        yield dist


@contextmanager
def staged(dist: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside DIST, whose lock the caller holds (`locked`); swap
    it in only if the block succeeds."""
    folder = staging_path(dist)
    try:
        # Inside the try: an interrupt right after mkdir must still remove the folder.
        folder.mkdir()
        yield folder
        swap_in(folder, dist)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
