"""The lock of a dist: one build at a time writes it.

The lock is a file in wasmship's runtime folder named after the dist's real path, never a file
in the user's tree; the kernel drops it when its holder dies, so a killed build never blocks
the next one. Light on purpose: the command line reads its default before anything else.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wasmship.errors import PublishError

DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a build waits for another on the same dist
LOCKS_ENV = "WASMSHIP_RUNTIME_DIR"


def runtime_dir() -> Path:
    """wasmship's own folder for locks: $WASMSHIP_RUNTIME_DIR, $XDG_RUNTIME_DIR/wasmship, or
    wasmship-<uid> in the temporary folder; created private to this user."""
    if os.environ.get(LOCKS_ENV):
        folder = Path(os.environ[LOCKS_ENV])
    elif os.environ.get("XDG_RUNTIME_DIR"):
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "wasmship"
    else:
        folder = Path(tempfile.gettempdir()) / f"wasmship-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        why = exc.strerror or exc
        raise PublishError(f"cannot create the lock folder {folder}: {why}") from exc
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
        raise PublishError(
            f"the lock folder {folder} is not a folder of this user's; "
            f"remove it or set {LOCKS_ENV} to another folder"
        )
    return folder


def lock_path(dist: Path) -> Path:
    """The lock of DIST: in the runtime folder, named by the hash of the dist's real path."""
    real = dist.parent.resolve() / dist.name
    return runtime_dir() / (hashlib.sha256(os.fsencode(real)).hexdigest()[:32] + ".lock")


@contextmanager
def dist_lock(
    dist: Path, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on DIST; wait up to TIMEOUT seconds for another build to finish."""
    path = lock_path(dist)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                if time.monotonic() >= deadline:
                    raise PublishError(
                        f"another wasmship build (pid {holder}) is writing {dist}; "
                        f"gave up after {timeout:g}s (set --lock-timeout to wait longer)"
                    ) from None
                if not waited and on_wait is not None:
                    on_wait(f"waiting for another build (pid {holder}) to finish with {dist}")
                waited = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
