"""A dev session: build (fast profile, private folder), serve, watch, rebuild, reload pages.

One thread builds, one at a time: a change during a build queues exactly one more build, which
takes every change seen meanwhile. After each build the open pages are told over the event
stream: a good build reloads them, a failed one shows Go's messages over the last good build.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.builder.pipeline import BuildResult, Reporter, SilentReporter, preflight
from wasmship.builder.pipeline import build as pipeline_build
from wasmship.cachedir import Hold, hold
from wasmship.delivery.dist_index import DistIndex
from wasmship.delivery.proxy_routes import ProxyRoute, refuse_shadowing
from wasmship.delivery.tls import Certificate
from wasmship.dev.folder import dev_config, dev_folder
from wasmship.dev.goerrors import go_messages
from wasmship.dev.inject import EVENTS_PATH, SCRIPT_PATH
from wasmship.dev.server import EventHub, handler_for
from wasmship.dev.sources import WatchSet, static_selection, watch_set
from wasmship.dev.watcher import FolderWatcher
from wasmship.distformat.names import MANIFEST, PAGE
from wasmship.errors import WasmshipError
from wasmship.preview import DistServer, listen, url_of

Configure = Callable[[], BuildConfig]  # the project's settings, read again for every build
Build = Callable[[BuildConfig, Reporter], BuildResult]


@dataclass(frozen=True)
class DevOptions:
    """Where the dev server listens and how changes are watched."""

    host: str = "127.0.0.1"
    port: int = 8000
    poll: bool | None = None  # True: poll; None: native watching (polling where unavailable)
    folder: Path | None = None  # where builds go; None: dev_folder(config), in the cache
    proxies: tuple[ProxyRoute, ...] = ()  # --proxy and [[proxy]]: paths backends answer
    certificate: Certificate | None = None  # HTTPS with it (delivery.tls); None: plain HTTP


@dataclass(frozen=True)
class Failure:
    """Why a build failed: wasmship's message and Go's own ("" when Go did not fail)."""

    message: str
    output: str = ""


@dataclass(frozen=True)
class Built:
    """A build finished (number 1 is the session's first)."""

    number: int
    changes: tuple[Path, ...]  # what changed since the build before
    seconds: float
    failure: Failure | None = None


@dataclass(frozen=True)
class Notice:
    """Something to tell the user that stops nothing (a build warning, a watching fallback)."""

    message: str


DevEvent = Built | Notice


class _Reporter(SilentReporter):
    """The pipeline's reporter in a dev session: steps are timed, warnings become Notices."""

    def __init__(self, emit: Callable[[DevEvent], None]) -> None:
        super().__init__()
        self._emit = emit

    def warn(self, message: str) -> None:
        self._emit(Notice(message))


@dataclass
class _Queue:
    """The builds asked for: at most one waiting, holding every change seen since."""

    wanted: bool = False
    changes: set[Path] = field(default_factory=set)


class DevSession:
    """`wasmship dev` as a library: start() builds and serves, stop() ends it all."""

    def __init__(
        self,
        configure: Configure,
        options: DevOptions | None = None,
        on_event: Callable[[DevEvent], None] | None = None,
        build: Build = pipeline_build,
    ) -> None:
        self._configure = configure
        self.options = options or DevOptions()
        self._on_event = on_event
        self._build = build
        self.hub = EventHub()
        self._nonce = secrets.token_hex(4)  # a restarted server's builds are new to open pages
        self._queue = _Queue()
        self._stopping = False
        self._cond = threading.Condition()
        self._number = 0
        self._stopped = threading.Event()
        self._watch = WatchSet(frozenset(), frozenset())
        self._watcher = FolderWatcher(self._changed_on_disk, self._warn, poll=self.options.poll)
        self._builder = threading.Thread(
            target=self._build_loop, name="wasmship-dev-build", daemon=True
        )
        self._server: DistServer | None = None
        self._held: Hold | None = None  # the session's folder in the cache, while it runs
        self.url = ""

    def start(self) -> str:
        """Check the project, listen, start watching and the first build; return the URL.

        What the user must fix first (no Go package, no Go, a port in use) raises here; a
        failed build later is shown in the page and the terminal, and the session goes on.
        """
        self._config = config = self._dev_config()
        toolchain, self._targets = preflight(config)
        watching = watch_set(config, toolchain, self._targets)
        index = DistIndex(config.out_path, until_built=True)
        self._refuse_shadowing(index.files())
        handler = handler_for(self.hub)
        self._server = listen(
            self.options.host, self.options.port, index, None, handler, self.options.certificate
        )
        self._server.proxies = self.options.proxies
        threading.Thread(
            target=self._server.serve_forever, name="wasmship-dev-serve", daemon=True
        ).start()
        self.url = url_of(self._server)
        self._watch = watching
        self._watcher.start(watching.folders)
        if self.options.folder is None:
            self._held = hold(config.out_path.parent)  # dev_folder: no cache bound removes it
        self._builder.start()
        self.changed(())
        return self.url

    @property
    def dist(self) -> Path:
        """The private folder the session builds into."""
        return self._config.out_path

    def changed(self, paths: Iterable[Path]) -> None:
        """Ask for a build because PATHS changed (the watcher calls this; so may a caller)."""
        with self._cond:
            self._queue.wanted = True
            self._queue.changes.update(paths)
            self._cond.notify()

    def wait(self) -> None:
        """Block until stop() (the CLI waits here for Ctrl-C)."""
        # In short waits: a signal the kernel gives another thread (watchfiles' or go's waiter)
        # leaves a blocked main thread asleep; Python runs its handler when the wait returns.
        while not self._stopped.wait(0.25):
            pass

    def stop(self, *, wait: bool = True) -> None:
        """Stop watching, end the event streams and the server; with WAIT, wait for a build
        under way (without, it ends with the process: go's watcher then kills go)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._watcher.stop()
        self.hub.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if wait and self._builder.is_alive():
            self._builder.join()
        if self._held is not None:
            self._held.release()
        self._stopped.set()

    def __enter__(self) -> DevSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dev_config(self) -> BuildConfig:
        config = self._configure()
        return dev_config(config, self.options.folder or dev_folder(config))

    def _refuse_shadowing(self, built: Iterable[str]) -> None:
        """A UsageError when a proxy route would take a file of the page: the dev server's
        own paths, index.html and manifest.json, the static files, the files of the dist built."""
        config = self._config
        root = config.static.resolve() if config.static is not None else Path()
        copied = [p.relative_to(root).as_posix() for p in static_selection(config)]
        page = [SCRIPT_PATH, EVENTS_PATH, PAGE, MANIFEST, *copied, *built]
        refuse_shadowing(self.options.proxies, page, f"the dist {config.out_path}")

    def _emit(self, event: DevEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _warn(self, message: str) -> None:
        self._emit(Notice(message))

    def _changed_on_disk(self, paths: set[Path]) -> None:
        """The watcher saw PATHS change: build if any of them is a source of the build."""
        resolved = {Path(os.path.realpath(p.parent)) / p.name for p in paths}
        watching, now = self._watch, None
        static = watching.static
        if static is not None and any(p.is_relative_to(static) for p in resolved):
            with contextlib.suppress(WasmshipError, OSError):
                now = WatchSet(frozenset(), frozenset(), static, static_selection(self._config))
        counted = {p for p in resolved if watching.counts(p, now)}
        if counted:
            self.changed(counted)

    def _build_loop(self) -> None:
        while True:
            with self._cond:
                while not (self._queue.wanted or self._stopping):
                    self._cond.wait()
                if self._stopping:
                    return
                changes = tuple(sorted(self._queue.changes))
                self._queue = _Queue()
            self._build_once(changes)

    def _build_once(self, changes: tuple[Path, ...]) -> None:
        """One build and what follows it: the pages told, the event emitted, the watch set."""
        self._number += 1
        self.hub.publish(building=True)
        started = time.perf_counter()
        failure = None
        try:
            self._config = self._dev_config()  # wasmship.toml may have changed
            result = self._build(self._config, _Reporter(self._emit))
            self._refuse_shadowing(result.manifest.files_by_path())
        except WasmshipError as exc:
            failure = Failure(str(exc), go_messages(exc, self._config, self._targets))
        except OSError as exc:  # the system refused (a full disk): the session goes on
            failure = Failure(f"{exc.strerror or exc}: {exc.filename or self._config.out_path}")
        except Exception as exc:  # a bug: shown with its traceback, and the session goes on
            traceback.print_exc()
            failure = Failure(f"internal error: {exc!r}; please report it")
        seconds = time.perf_counter() - started
        if failure is None:
            self.hub.publish(build=f"{self._nonce}.{self._number}", building=False, error=None)
        else:
            error = {"message": failure.message, "output": failure.output}
            self.hub.publish(building=False, error=error)
        self._emit(Built(self._number, changes, seconds, failure))
        self._refresh_watch()

    def _refresh_watch(self) -> None:
        """Watch what the sources are now (an import added, a static file, another target)."""
        try:
            toolchain, self._targets = preflight(self._config)
            self._watch = watch_set(self._config, toolchain, self._targets)
        except (WasmshipError, OSError):
            return  # sources go can not read yet: keep watching what was watched
        self._watcher.update(self._watch.folders)
