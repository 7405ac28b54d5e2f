"""`wasmship dev --backend CMD`: the app's own Go server started beside dev, reached through
--proxy, restarted when its package's Go files change, stopped with dev."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Go, base_env
from tests.serving import read_first_line, request
from tests.test_dev import run_dev
from wasmship.dev.backend import GoRun, command_line, go_run, module_go_files, watch_set_of
from wasmship.errors import UsageError

WAIT = 180.0  # seconds go run may take to build on a busy machine (a bound)

API = """package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
)

const version = "VERSION"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	flag.Parse()
	http.HandleFunc("/api/version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"version": version, "pid": os.Getpid()})
	})
	fmt.Println("api", version, "listening on", *addr)
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app(tmp_path: Path) -> Path:
    """The hello front end, with its API server in cmd/api of the same module."""
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    (project / "cmd" / "api").mkdir(parents=True)
    (project / "cmd" / "api" / "main.go").write_text(API.replace("VERSION", "one"))
    return project


def answer_until(port: int, wanted: str) -> dict[str, object]:
    """The API's answer through dev's proxy, once it says version WANTED (bounded by WAIT)."""
    deadline = time.monotonic() + WAIT
    last: object = None
    while time.monotonic() < deadline:
        try:
            got = request(port, "/api/version")
        except OSError as exc:
            last = exc
        else:
            last = got.status, got.body[:200]
            if got.status == 200:
                seen: dict[str, object] = json.loads(got.body)
                if seen["version"] == wanted:
                    return seen
        time.sleep(0.2)
    raise AssertionError(f"no version {wanted!r} within {WAIT} s; last: {last!r}")


def test_dev_backend_restarts_on_a_change_to_its_package(go: Go, tmp_path: Path) -> None:
    project = app(tmp_path)
    api = free_port()
    proc = run_dev(
        project,
        "--port", "0",
        "--proxy", f"/api=http://127.0.0.1:{api}",
        "--backend", f"go run ./cmd/api -addr 127.0.0.1:{api}",
    )  # fmt: skip
    try:
        url = read_first_line(proc, WAIT)
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        first = answer_until(port, "one")
        (project / "cmd" / "api" / "main.go").write_text(API.replace("VERSION", "two"))
        second = answer_until(port, "two")
        assert second["pid"] != first["pid"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    stderr = err.decode()
    assert proc.returncode == 0, stderr
    assert f"[backend] api one listening on 127.0.0.1:{api}" in stderr
    assert "[backend] its sources changed: restarting" in stderr
    assert f"[backend] api two listening on 127.0.0.1:{api}" in stderr
    # Stopped with dev: nothing listens on the API's port any more.
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", api))


def test_the_backend_watches_the_package_go_run_builds(go: Go, tmp_path: Path) -> None:
    project = app(tmp_path)
    (project / "cmd" / "api" / "main_test.go").write_text("package main\n")
    run = go_run(command_line("go run -tags dev ./cmd/api -addr x", shell=False), project)
    assert run == GoRun(("./cmd/api",), project, ("dev",))
    watching = watch_set_of(run, project, go.binary, base_env())
    assert watching.packages == {(project / "cmd" / "api").resolve()}
    assert (project / "go.mod").resolve() in watching.files
    assert watching.counts((project / "cmd" / "api" / "main.go").resolve())
    assert not watching.counts((project / "cmd" / "api" / "main_test.go").resolve())
    assert not watching.counts((project / "main.go").resolve())  # the front end: not its source
    # Any other command: every Go folder of the module.
    every = module_go_files(project / "cmd")
    assert every.packages == {project.resolve(), (project / "cmd" / "api").resolve()}


def test_backend_commands_are_split_not_run_through_a_shell() -> None:
    assert command_line("./api --name 'a b' $HOME", shell=False) == [
        "./api", "--name", "a b", "$HOME",
    ]  # fmt: skip
    assert command_line("a | b", shell=True) == ["/bin/sh", "-c", "a | b"]
    assert go_run(["go", "run", "main.go", "util.go", "-x"], Path("/p")) == GoRun(
        ("main.go", "util.go"), Path("/p")
    )
    assert go_run(["go", "build", "."], Path("/p")) is None
    assert go_run(["./server"], Path("/p")) is None
    for bad in ("", "   ", "'unclosed"):
        with pytest.raises(UsageError, match="--backend"):
            command_line(bad, shell=False)
