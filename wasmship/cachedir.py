"""wasmship's cache folder: one root, named buckets, and one bound over all of them.

Every tenant takes its folder from a Bucket here; no other module spells a bucket's folder name.
An entry is what goes or stays as a whole (a compression entry, one dist's go build outputs, one
dev session, one size record, one runner, one runner's compiled modules). Its last use is the
newest modification time in it: writing counts as use, and a tenant that only reads an entry
touches it. The bound drops the least recently used entries of every bounded bucket (all but
tls/: a few KiB, never dropped) until the folder fits, never an entry in use: used since the
running command started, or held by another process (hold(): a shared lock on a marker file
in the entry, which eviction tries to take).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "WASMSHIP_CACHE_DIR"
DEFAULT_MAX_SIZE = 1 << 30  # 1 GiB
IN_USE = ".in-use"  # the marker a holder locks, inside a folder entry
TEMP_PREFIX = ".tmp-"  # a file being written; it becomes an entry by a rename
_STALE_TEMP_SECONDS = 3600.0  # a temp file this old belongs to a command that died
# File times come from the kernel's coarse clock (one tick: 4-10 ms): an entry used just after
# the command started may carry a time a little before it. More slack would keep the entries of
# a command that ended just before this one started (builds in a row, as in CI).
_CLOCK_SLACK = 0.05


def cache_root(environ: Mapping[str, str], explicit: Path | None = None) -> Path:
    """EXPLICIT (--cache-dir), else WASMSHIP_CACHE_DIR, else $XDG_CACHE_HOME/wasmship, else
    ~/.cache/wasmship."""
    if explicit is not None:
        return explicit
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "wasmship"
    home = environ.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".cache" / "wasmship"


@dataclass(frozen=True)
class Bucket:
    """One tenant's folder in the cache, and how deep its entries sit in it."""

    name: str  # what the user reads in `wasmship clean --cache`
    folder: str  # relative to the cache root
    depth: int = 1  # 2: entries are grouped in shard folders (v1/<key[:2]>/<key>)
    bounded: bool = True  # False: the size bound never drops its entries (clean --cache does)

    def path(self, root: Path) -> Path:
        """The bucket's folder under ROOT."""
        return root / self.folder


COMPRESSION = Bucket("compression", "v1", depth=2)  # builder/cache.py
OUTPUTS = Bucket("out", "out")  # go build's persistent outputs, one folder per dist
DEV = Bucket("dev", "dev")  # one folder per dev session (project and package)
SIZE = Bucket("size", "size/v1")  # one record per module, for size diffs
RUNNERS = Bucket("runners", "runners")  # one wazero runner per sources and Go version
WAZERO_COMPILED = Bucket("wazero-compiled", "wazero-compiled")  # one folder per runner
# serve/dev --https: this machine's self-signed certificate. A few KiB; dropping it would make
# the user trust a new one, so only `clean --cache` removes it.
TLS = Bucket("tls", "tls", bounded=False)
BUCKETS = (COMPRESSION, OUTPUTS, DEV, SIZE, RUNNERS, WAZERO_COMPILED, TLS)


@dataclass(frozen=True)
class Entry:
    """One entry of a bucket: it goes or stays as a whole."""

    bucket: Bucket
    path: Path
    size: int  # the bytes of its files
    last_use: float  # the newest modification time in it


def touch(path: Path) -> None:
    """Record a use of the entry at PATH (nothing happens when it is gone or read-only)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def entries(root: Path, bucket: Bucket) -> list[Entry]:
    """Every entry of BUCKET under ROOT; stale temp files are removed on the way."""
    found: list[Entry] = []
    for path in _entry_paths(bucket.path(root), bucket.depth):
        measured = _measure(path)
        if measured is not None:
            found.append(Entry(bucket, path, *measured))
    return found


def folder_bytes(root: Path) -> int:
    """The bytes of every file under ROOT, whatever bucket it is in."""
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


class Hold:
    """A shared lock on a folder entry: while held, no bound or clean of another process
    removes the entry."""

    def __init__(self, entry: Path) -> None:
        self._fd: int | None = None
        for _ in range(10):  # an eviction removed the entry under us: make it again
            try:
                entry.mkdir(parents=True, exist_ok=True)
                fd = os.open(entry / IN_USE, os.O_RDWR | os.O_CREAT, 0o600)
            except FileNotFoundError:
                continue
            except OSError:
                return  # an unwritable cache: nothing can evict from it either
            fcntl.flock(fd, fcntl.LOCK_SH)
            with contextlib.suppress(OSError):
                if os.fstat(fd).st_ino == os.stat(entry / IN_USE).st_ino:
                    self._fd = fd
                    touch(entry)
                    return
            os.close(fd)

    def release(self) -> None:
        """Let the entry go (it stays; it can now be evicted)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold(entry: Path) -> Hold:
    """Hold ENTRY (a folder entry) in use until released."""
    return Hold(entry)


def remove(entry: Entry) -> bool:
    """Remove ENTRY unless another process holds it (False); an OSError says why it cannot."""
    if not entry.path.is_dir() or entry.path.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
        return True
    try:
        fd = os.open(entry.path / IN_USE, os.O_RDWR)
    except FileNotFoundError:
        _remove_tree(entry.path)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    try:  # the lock stays ours while the marker goes with the folder
        _remove_tree(entry.path)
    finally:
        os.close(fd)
    return True


def _remove_tree(path: Path) -> None:
    """Remove the folder PATH; what another command removed first is no error."""

    def gone_already(
        function: object, name: str, error: tuple[type, BaseException, object]
    ) -> None:
        if not isinstance(error[1], FileNotFoundError):
            raise error[1]

    shutil.rmtree(path, onerror=gone_already)  # Python 3.11: no onexc yet


def bound(
    root: Path,
    max_size: int,
    *,
    since: float | None = None,
    keep: Collection[Path] = (),
) -> list[Entry]:
    """Drop the least recently used entries of every bucket until the cache fits MAX_SIZE;
    never an entry used since SINCE (the running command's start), in KEEP, or held."""
    every = [entry for bucket in BUCKETS if bucket.bounded for entry in entries(root, bucket)]
    total = sum(entry.size for entry in every)
    kept = {Path(os.path.abspath(path)) for path in keep}
    dropped: list[Entry] = []
    for entry in sorted(every, key=lambda e: e.last_use):
        if total <= max_size:
            break
        if since is not None and entry.last_use >= since - _CLOCK_SLACK:
            continue
        if Path(os.path.abspath(entry.path)) in kept:
            continue
        with contextlib.suppress(OSError):
            if remove(entry):
                total -= entry.size
                dropped.append(entry)
    return dropped  # empty folders stay: another build may be about to write in them


def empty(root: Path, bucket: Bucket, *, dry_run: bool = False) -> tuple[list[Entry], list[Entry]]:
    """Remove every entry of BUCKET (none with DRY_RUN); return (removed or would be, held).

    An entry that cannot be removed raises its OSError."""
    gone: list[Entry] = []
    held: list[Entry] = []
    for entry in entries(root, bucket):
        if dry_run:
            (held if _is_held(entry.path) else gone).append(entry)
        else:
            (gone if remove(entry) else held).append(entry)
    if not dry_run:
        _prune_empty_folders(root)
    return gone, held


def _is_held(path: Path) -> bool:
    """Whether another process holds the folder entry at PATH."""
    try:
        fd = os.open(path / IN_USE, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we got
    return False


def _entry_paths(folder: Path, depth: int) -> Iterator[Path]:
    """The paths DEPTH levels below FOLDER, fresh temp files aside (a write under way)."""
    try:
        children = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for child in children:
        if depth > 1:
            if child.is_dir(follow_symlinks=False):
                yield from _entry_paths(Path(child.path), depth - 1)
            continue
        if child.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                if now - child.stat(follow_symlinks=False).st_mtime > _STALE_TEMP_SECONDS:
                    Path(child.path).unlink(missing_ok=True)
            continue
        yield Path(child.path)


def _measure(path: Path) -> tuple[int, float] | None:
    """The bytes of PATH's files and the newest modification time in it; None when gone."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size, info.st_mtime
    size, last = 0, info.st_mtime
    for folder, folders, names in os.walk(path):
        for name in (*folders, *names):
            with contextlib.suppress(OSError):
                found = os.lstat(os.path.join(folder, name))
                last = max(last, found.st_mtime)
                if not stat.S_ISDIR(found.st_mode):
                    size += found.st_size
    return size, last


def _prune_empty_folders(root: Path) -> None:
    """Remove the bucket folders (and their shard folders) that nothing is left in."""
    for bucket in BUCKETS:
        folder = bucket.path(root)
        if bucket.depth > 1:
            with contextlib.suppress(OSError):
                for shard in os.scandir(folder):
                    with contextlib.suppress(OSError):
                        os.rmdir(shard.path)  # only when empty
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
