"""`wasmship dev --backend CMD`: the app's own server beside the dev server, its output lines
prefixed, restarted when the Go files it is built from change, stopped with dev.

CMD is split as a shell would split it (shlex) and run directly, never through a shell unless
the user asks (--backend-shell: `sh -c CMD`). For `go run PKG` (or `go run a.go b.go`), Go says
which packages PKG is built from (`go list -deps`, through the toolchain) and the project's
ones are watched, as for the front end; for any other command, every Go package of the module
the working directory is in.
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.dev.sources import MODULE_FILES, WatchSet, package_sources
from wasmship.dev.watcher import FolderWatcher
from wasmship.errors import UsageError, WasmshipError
from wasmship.toolchain.golist import go_list
from wasmship.toolchain.locate import locate_go
from wasmship.toolchain.program import Program

PREFIX = "[backend] "
SETTLE = 0.2  # seconds after a change before the restart: a save of several files is one
MAX_COMMAND = 4096
MAX_FOLDERS = 4096  # the module's Go folders watched for a command that is not `go run`
SKIPPED = ("vendor", "testdata", "node_modules")
# go build's flags that take the next argument as their value (`-tags x`, not `-tags=x`).
VALUE_FLAGS = frozenset(
    {"C", "tags", "ldflags", "gcflags", "asmflags", "mod", "modfile", "p", "pkgdir", "toolexec"}
    | {"overlay", "pgo", "exec", "covermode", "coverpkg", "installsuffix", "compiler"}
    | {"gccgoflags", "buildmode", "o"}
)

Output = Callable[[str], None]


@dataclass(frozen=True)
class GoRun:
    """What `go run` builds: its package pattern (or .go files), the folder, the tags."""

    patterns: tuple[str, ...]
    run_dir: Path
    tags: tuple[str, ...] = ()


def command_line(command: str, *, shell: bool) -> list[str]:
    """CMD as the argument list to run; a UsageError when it is empty or cannot be split."""
    if len(command) > MAX_COMMAND or "\x00" in command:
        raise UsageError(f"--backend: the command must be under {MAX_COMMAND} characters")
    if shell:
        return ["/bin/sh", "-c", command]
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--backend {command!r}: {exc} (quote as a shell would)") from None
    if not argv:
        raise UsageError("--backend needs a command, e.g. --backend 'go run ./cmd/api'")
    return argv


def go_run(argv: list[str], cwd: Path) -> GoRun | None:
    """The package `go run …` in ARGV builds, or None for any other command."""
    if len(argv) < 3 or os.path.basename(argv[0]) != "go" or argv[1] != "run":
        return None
    run_dir, tags, index, args = cwd, "", 2, argv
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        name, equals, value = args[index].lstrip("-").partition("=")
        if not equals and name in VALUE_FLAGS and index + 1 < len(args):
            index += 1
            value = args[index]
        if name == "C":
            run_dir = (cwd / value).resolve()
        elif name == "tags":
            tags = value
        index += 1
    rest = args[index:]
    files: list[str] = []
    for arg in rest:  # `go run a.go b.go args…`: the .go files first
        if not arg.endswith(".go"):
            break
        files.append(arg)
    patterns = tuple(files) or tuple(rest[:1])
    if not patterns:
        return None
    split = tuple(t for t in tags.replace(",", " ").split() if t)
    return GoRun(patterns, run_dir, split)


def watch_set_of(run: GoRun | None, cwd: Path, go: str, environ: Mapping[str, str]) -> WatchSet:
    """What the backend is built from: go list's packages for RUN, else the module's Go files."""
    if run is None:
        return module_go_files(cwd)
    proc, packages = go_list(
        go,
        list(run.patterns),
        run.run_dir,
        dict(environ),
        fields="Dir,Standard,Module,EmbedFiles",
        deps=True,
        tags=run.tags,
    )
    if not proc.ok:
        raise proc.error(UsageError, f"--backend: cannot list the packages of {run.patterns[0]!r}")
    return package_sources(packages)


def module_go_files(cwd: Path) -> WatchSet:
    """Every folder with .go files in the module CWD is in (not vendor, testdata, hidden ones
    or nested modules), with its go.mod and go.sum; CWD alone outside a module."""
    root = next((d for d in (cwd, *cwd.parents) if (d / "go.mod").is_file()), None)
    if root is None:
        return WatchSet(frozenset({cwd.resolve()}), frozenset())
    folders: set[Path] = set()
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        subfolders[:] = [
            s
            for s in subfolders
            if s not in SKIPPED and s[0] not in "._" and not (here / s / "go.mod").exists()
        ]
        if any(n.endswith(".go") for n in names):
            folders.add(here.resolve())
        if len(folders) >= MAX_FOLDERS:
            break
    files = frozenset(root.resolve() / name for name in MODULE_FILES)
    return WatchSet(frozenset(folders), files)


class Backend:
    """The backend command: started, restarted on a change to its sources, stopped."""

    def __init__(
        self,
        command: str,
        output: Output,
        *,
        shell: bool = False,
        cwd: Path | None = None,
        go: str | None = None,
        environ: Mapping[str, str] | None = None,
        poll: bool | None = None,
    ) -> None:
        self.cwd = (cwd or Path.cwd()).absolute()
        self.argv = command_line(command, shell=shell)
        self.environ = dict(os.environ if environ is None else environ)
        self._run = None if shell else go_run(self.argv, self.cwd)
        self._go = go
        self._output = output
        self._watch = WatchSet(frozenset(), frozenset())
        self._watcher = FolderWatcher(self._changed_on_disk, output, poll=poll)
        self._wanted = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()
        self._program: Program | None = None
        self._restarter = threading.Thread(target=self._restarts, name="wasmship-backend")

    @property
    def pid(self) -> int | None:
        """The running command's process id."""
        program = self._program
        return program.pid if program is not None else None

    def start(self) -> None:
        """Find what to watch, start the command and the watching."""
        self._watch = self._sources()
        self._launch()
        self._watcher.start(self._watch.folders)
        self._restarter.start()

    def stop(self) -> None:
        """Stop watching and end the command's whole process group."""
        with self._lock:
            self._stopping = True
        self._wanted.set()
        self._watcher.stop()
        if self._restarter.is_alive():
            self._restarter.join()
        if self._program is not None:
            self._program.stop()

    def _sources(self) -> WatchSet:
        go = locate_go(self._go, self.environ) if self._run is not None else ""
        return watch_set_of(self._run, self.cwd, go, self.environ)

    def _launch(self) -> None:
        program = Program(self.argv, self.cwd, self.environ)
        self._program = program
        threading.Thread(
            target=self._relay, args=(program,), name="wasmship-backend-output", daemon=True
        ).start()

    def _relay(self, program: Program) -> None:
        for line in program.lines():
            self._output(PREFIX + line)
        status = program.wait(1.0)
        with self._lock:
            if self._stopping or program is not self._program or status is None:
                return
        self._output(
            f"{PREFIX}exited with status {status}; it starts again when its sources change"
        )

    def _changed_on_disk(self, paths: set[Path]) -> None:
        resolved = {Path(os.path.realpath(p.parent)) / p.name for p in paths}
        if any(self._watch.counts(p) for p in resolved):
            self._wanted.set()

    def _restarts(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping:
                return
            self._wanted.clear()
            time.sleep(SETTLE)  # the other files of the same save join this restart
            self._wanted.clear()
            with self._lock:
                if self._stopping:
                    return
                old, self._program = self._program, None
            self._output(f"{PREFIX}its sources changed: restarting")
            if old is not None:
                old.stop()
            try:
                self._watch = self._sources()  # an import added or removed
                self._watcher.update(self._watch.folders)
            except (WasmshipError, OSError) as exc:
                self._output(f"{PREFIX}cannot list its sources ({exc}); watching as before")
            with self._lock:
                if self._stopping:
                    return
                try:
                    self._launch()
                except WasmshipError as exc:
                    self._output(f"{PREFIX}{exc}")
