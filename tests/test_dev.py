"""wasmship dev with the real go: what it builds, where, when, and what it tells pages and users.

In-process sessions (DevSession) for the loop itself; the real CLI for what a user types. The
browser side (reload, overlay) is tests/test_dev_browser.py.
"""

from __future__ import annotations

import http.client
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO, Go, Run, base_env, snapshot
from tests.serving import read_first_line
from tests.test_startup import HEAVY, imported_by
from wasmship.builder.config import BuildConfig
from wasmship.builder.pipeline import BuildResult, Reporter, build, preflight
from wasmship.dev.server import reload_script
from wasmship.dev.session import Built, DevEvent, DevOptions, DevSession
from wasmship.dev.sources import watch_set

WAIT = 180.0  # seconds a build may take on a busy machine (a bound, never an assertion)


class Session:
    """A started DevSession over PROJECT and the events it emitted."""

    def __init__(self, session: DevSession, events: queue.Queue[DevEvent]) -> None:
        self.session = session
        self.events = events

    def built(self) -> Built:
        """The next build's event (notices are skipped)."""
        while True:
            event = self.events.get(timeout=WAIT)
            if isinstance(event, Built):
                return event

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(self.session.url)
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=WAIT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


StartSession = Callable[..., Session]


@pytest.fixture
def dev(go: Go, tmp_path: Path) -> Iterator[StartSession]:
    """Start a DevSession on a project (its builds in tmp_path/dev); stopped after the test."""
    started: list[DevSession] = []

    def start(
        project: Path, build: Callable[..., BuildResult] = build, poll: bool | None = None
    ) -> Session:
        events: queue.Queue[DevEvent] = queue.Queue()
        options = DevOptions(port=0, folder=tmp_path / "dev", poll=poll)
        session = DevSession(
            lambda: BuildConfig(workdir=project, go=go.binary), options, events.put, build
        )
        session.start()
        started.append(session)
        return Session(session, events)

    yield start
    for session in started:
        session.stop()


def test_changes_during_a_build_queue_exactly_one_more_build(
    dev: StartSession, hello: Path
) -> None:
    lock, held, release = threading.Lock(), threading.Event(), threading.Event()
    running, most, calls = [0], [0], []

    def held_build(config: BuildConfig, reporter: Reporter) -> BuildResult:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            calls.append(config)
        try:
            if len(calls) == 2:  # the first rebuild waits until the test has made its changes
                held.set()
                assert release.wait(WAIT)
            return build(config, reporter)
        finally:
            with lock:
                running[0] -= 1

    started = dev(hello, held_build)
    assert started.built().failure is None
    started.session.changed([hello / "main.go"])
    assert held.wait(WAIT)
    started.session.changed([hello / "tagged.go"])  # two changes during that build
    started.session.changed([hello / "go.mod"])
    release.set()
    second, third = started.built(), started.built()
    assert (second.number, second.changes) == (2, (hello / "main.go",))
    assert (third.number, third.changes) == (3, (hello / "go.mod", hello / "tagged.go"))
    started.session.stop()  # waits for any build under way: none was queued
    assert len(calls) == 3 and most[0] == 1  # one more build, never two at once
    assert all(not isinstance(e, Built) for e in list(started.events.queue))


def test_a_dev_build_is_a_fast_build_and_no_release_build_has_the_dev_script(
    dev: StartSession, hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    before = snapshot(hello)
    started = dev(hello)
    assert started.built().failure is None
    status, headers, page = started.get("/")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert b'<script defer src="/__wasmship/dev.js"' in page
    dev_files = snapshot(started.session.dist)
    started.session.stop()
    assert snapshot(hello) == before  # no dist, nothing at all written in the project

    fast = wasmship("build", "-q", "--profile", "fast", "--keep", "0", "-o", "../fast", cwd=hello)
    assert fast.returncode == 0, fast.stderr
    assert dev_files == snapshot(tmp_path / "fast")  # byte for byte, manifest included
    release = wasmship("build", "-q", "-o", "../release", cwd=hello)
    assert release.returncode == 0, release.stderr
    script = reload_script()
    for name, data in {**snapshot(tmp_path / "release"), **dev_files}.items():
        assert b"__wasmship" not in data and script not in data, name
        assert b"EventSource" not in data, name


def test_a_failed_first_build_serves_a_waiting_page_then_the_fix(
    dev: StartSession, hello: Path
) -> None:
    main = hello / "main.go"
    good = main.read_text()
    broken = good.replace("func main() {", "func main() {\n\tthis is not go")
    main.write_text(broken)
    line = broken.splitlines().index("\tthis is not go") + 1
    started = dev(hello)
    failed = started.built()
    assert failed.failure is not None
    assert "go build failed" in failed.failure.message
    assert f"main.go:{line}:" in failed.failure.output  # Go's own words, file:line, for the overlay
    status, _, page = started.get("/")
    assert status == 200 and b"wasmship dev: building" in page and b"/__wasmship/dev.js" in page
    assert started.get("/main.wasm")[0] == 404

    main.write_text(good)  # the watcher sees the fix
    fixed = started.built()
    assert fixed.failure is None and fixed.changes == (main.resolve(),)
    status, _, page = started.get("/")
    assert b"<title>hello</title>" in page and b"/__wasmship/dev.js" in page


def test_pages_hear_each_build_over_server_sent_events(dev: StartSession, hello: Path) -> None:
    started = dev(hello)
    assert started.built().failure is None
    url = urlsplit(started.session.url)
    with socket.create_connection((url.hostname or "", url.port or 0), timeout=WAIT) as sock:
        sock.sendall(b"GET /__wasmship/events HTTP/1.1\r\nHost: x\r\n\r\n")
        stream = sock.makefile("rb")
        head = b"".join(iter(stream.readline, b"\r\n"))
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"Content-Type: text/event-stream; charset=utf-8" in head
        assert b"Cache-Control: no-store" in head

        def state() -> bytes:
            lines = []
            for line in iter(stream.readline, b""):
                if line == b"\n" and lines and lines[0] == b"event: state\n":
                    return lines[1]
                if line == b"\n":
                    lines = []
                else:
                    lines.append(line)
            raise AssertionError("the stream ended")

        first = state()
        assert first.startswith(b'data: {"build": "') and b'"error": null' in first
        (hello / "main.go").write_text((hello / "main.go").read_text().replace("hello", "hi"))
        assert b'"building": true' in state()
        done = state()
        assert b'"building": false' in done and done != first
    assert started.built().changes == ((hello / "main.go").resolve(),)


def test_the_watch_set_is_the_projects_packages_of_each_target(go: Go, tmp_path: Path) -> None:
    app, lib = tmp_path / "app", tmp_path / "lib"
    for folder in (app / "inner", app / "unused", lib):
        folder.mkdir(parents=True)
    (app / "go.mod").write_text(
        "module example.com/app\n\ngo 1.21\n\nrequire example.com/lib v0.0.0\n\n"
        "replace example.com/lib => ../lib\n"
    )
    (app / "main.go").write_text(
        'package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n\n\t"example.com/app/inner"\n'
        '\t"example.com/lib"\n)\n\n//go:embed data.txt\nvar data string\n\n'
        "func main() { fmt.Println(inner.X, lib.Y, data) }\n"
    )
    (app / "data.txt").write_text("data\n")
    (app / "inner" / "inner.go").write_text("package inner\n\nconst X = 1\n")
    (app / "unused" / "unused.go").write_text("package unused\n")
    (lib / "go.mod").write_text("module example.com/lib\n\ngo 1.21\n")
    (lib / "lib.go").write_text("package lib\n\nconst Y = 2\n")
    config = BuildConfig(workdir=app, go=go.binary, out=tmp_path / "dist")
    toolchain, targets = preflight(config)
    watching = watch_set(config, toolchain, targets)
    assert watching.packages == {app, app / "inner", lib}  # no std, no unused package
    assert {app / "go.mod", app / "go.sum", lib / "go.mod", app / "data.txt"} <= watching.files
    assert app / "wasmship.toml" in watching.files
    assert watching.counts(app / "inner" / "inner.go") and watching.counts(lib / "lib.go")
    assert not watching.counts(app / "unused" / "unused.go")


def run_dev(
    cwd: Path, *args: str, stdout: int = subprocess.PIPE, background: bool = False
) -> subprocess.Popen[bytes]:
    """`wasmship dev ARGS`; BACKGROUND: started as a script's `&` job is, with SIGINT ignored."""

    def as_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "wasmship", "dev", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=base_env(),
        preexec_fn=as_background_job if background else None,
    )


def test_no_go_package_is_a_clear_error(wasmship: Run, tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/empty\n\ngo 1.21\n")
    proc = wasmship("dev", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 2
    assert "wasmship: error: cannot build package '.'" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_port_in_use_is_a_clear_error(wasmship: Run, hello: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = wasmship("dev", "--port", str(port), cwd=hello)
    assert proc.returncode == 2
    assert f"wasmship: error: cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "choose another --port" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("sig", "background"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT to a background job"],
)
def test_ctrl_c_stops_cleanly(
    hello: Path, tmp_path: Path, sig: signal.Signals, background: bool
) -> None:
    proc = run_dev(hello, "--port", "0", background=background)
    try:
        url = read_first_line(proc, WAIT)
        assert url.startswith("http://127.0.0.1:")
        assert proc.stdout is not None
        assert " built in " in proc.stdout.readline().decode()  # the first build's line
        proc.send_signal(sig)
        code = proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert stderr.rstrip().endswith("wasmship: stopped") and "Traceback" not in stderr
    assert sorted(p.name for p in hello.iterdir()) == ["go.mod", "main.go", "tagged.go"]


def test_dev_help_imports_nothing_heavy() -> None:
    names = imported_by("dev", "--help")
    assert sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY)) == []


def test_polling_sees_a_save_too(dev: StartSession, hello: Path) -> None:
    started = dev(hello, poll=True)  # what --poll and the fallback from inotify use
    assert started.built().failure is None
    main = hello / "main.go"
    main.write_text(main.read_text().replace("hello from", "polled from"))
    assert started.built().changes == (main.resolve(),)
    assert b"polled from" in next(started.session.dist.glob("main.*.wasm")).read_bytes()


def test_the_dev_benchmark_has_a_quick_help() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "dev.py"), "--help"],
        env=base_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and "--runs" in proc.stdout
