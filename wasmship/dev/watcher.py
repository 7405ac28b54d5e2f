"""Watching folders for changes with watchfiles (Rust notify: inotify on Linux, FSEvents on
macOS), and polling where native watching is unavailable or fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

# watchfiles groups a burst of changes (an editor's save, a git checkout): once a change is
# seen it waits until STEP_MS pass with no new one, for at most DEBOUNCE_MS.
STEP_MS = 50
DEBOUNCE_MS = 1600
POLL_MS = 300

OnChanges = Callable[[set[Path]], None]
OnWarning = Callable[[str], None]


class FolderWatcher:
    """Watches a set of folders (each on its own, not recursively) in a thread of its own and
    calls ON_CHANGES with the changed paths; the set can be replaced while it runs."""

    def __init__(
        self, on_changes: OnChanges, on_warning: OnWarning, *, poll: bool | None = None
    ) -> None:
        self._on_changes = on_changes
        self._on_warning = on_warning
        self.poll = poll  # None: native, unless WATCHFILES_FORCE_POLLING is set or on WSL
        self._folders: frozenset[Path] = frozenset()
        self._lock = threading.Lock()
        self._restart = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="wasmship-dev-watch", daemon=True)

    def start(self, folders: frozenset[Path]) -> None:
        """Start watching FOLDERS."""
        self._folders = folders
        self._thread.start()

    def update(self, folders: frozenset[Path]) -> None:
        """Watch FOLDERS from now on (restarts the watch only if they differ)."""
        with self._lock:
            if folders == self._folders:
                return
            self._folders = folders
        self._restart.set()

    def stop(self) -> None:
        """Stop watching and wait for the thread."""
        self._stopped = True
        self._restart.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped:
            with self._lock:
                folders = sorted(str(f) for f in self._folders if f.is_dir())
                self._restart.clear()
            if not folders:
                self._restart.wait()  # nothing to watch until the set is replaced
                continue
            try:
                for changes in watch(
                    *folders,
                    watch_filter=None,
                    debounce=DEBOUNCE_MS,
                    step=STEP_MS,
                    stop_event=self._restart,
                    raise_interrupt=False,
                    force_polling=self.poll,
                    poll_delay_ms=POLL_MS,
                    recursive=False,
                ):
                    self._on_changes({Path(path) for _, path in changes})
            except (OSError, RuntimeError) as exc:
                if self.poll or self._stopped:
                    self._on_warning(f"cannot watch for changes: {exc}; rebuilds stop")
                    return
                # Out of inotify watches or instances, or an unsupported file system.
                self._on_warning(f"file watching failed ({exc}); polling every {POLL_MS} ms")
                self.poll = True
