"""`--proxy PREFIX=URL` and `[[proxy]]`: serve and dev forward a real backend's JSON, event
stream and WebSocket; a backend that is down is a 502 naming it; a prefix over the page's own
files is refused at start."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Go, Run, base_env
from tests.proxy_backend import (
    WAIT,
    Backend,
    raw_request,
    read_until,
    running_backend,
    websocket_echo,
)
from tests.serving import read_first_line, request, wasmship_serve
from tests.test_dev import run_dev
from wasmship.delivery.proxy_routes import BadRoute, make_route, merged, parse_route, route_for
from wasmship.errors import UsageError
from wasmship.preview import ServeConfig, start
from wasmship.settings import ConfigError, load_config


@pytest.fixture
def backend() -> Iterator[Backend]:
    with running_backend() as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_proxying(port: int, backend: Backend) -> None:
    """JSON, a POST body, the event stream and a WebSocket through the server at PORT."""
    answer = request(port, "/api/hello?x=1", {"Host": f"127.0.0.1:{port}", "Keep-Alive": "9"})
    assert answer.status == 200, answer.body
    seen = json.loads(answer.body)
    assert seen["path"] == "/api/hello?x=1"  # Vite's rule: the whole path, kept
    assert seen["host"] == backend.url.removeprefix("http://")
    assert seen["forwarded_for"] == "127.0.0.1"
    assert seen["forwarded_proto"] == "http"
    assert seen["forwarded_host"] == f"127.0.0.1:{port}"
    assert seen["keep_alive"] is None  # hop-by-hop: never forwarded, either way
    assert answer.header("Keep-Alive") is None
    assert answer.header("Content-Type") == "application/json"

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("POST", "/api/echo", body=b"ping")
    posted = connection.getresponse()
    assert posted.status == 200 and json.loads(posted.read())["body"] == "ping"
    connection.close()

    # A chunked body goes on as chunks; a Content-Length beside it never reaches the backend.
    with raw_request(
        port,
        "POST /api/echo HTTP/1.1\nHost: x\nContent-Length: 999\n"
        "Transfer-Encoding: chunked\nConnection: close\n\n2\npi\n2\nng\n0\n\n",
    ) as sock:
        got = read_until(sock, b"}")
    echoed = json.loads(got.split(b"\r\n\r\n", 1)[1])
    assert (echoed["body"], echoed["length"]) == ("ping", None)

    # The first event arrives while the backend still holds the response open.
    with raw_request(port, f"GET /api/events HTTP/1.1\nHost: 127.0.0.1:{port}\n\n") as sock:
        first = read_until(sock, b"data: first\n\n")
        assert first.startswith(b"HTTP/1.1 200"), first
        assert b"text/event-stream" in first
        backend.second_event.set()
        assert b"data: second\n\n" in read_until(sock, b"data: second\n\n")

    head, echoed = websocket_echo(port, "/api/ws")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert echoed == b"echo: hello"

    # The dist's own files are still the dist's.
    page = request(port, "/")
    assert page.status == 200 and b"<html" in page.body.lower()
    assert request(port, "/apix").status == 404  # under /api means by whole segments


def test_serve_proxies_json_events_and_a_websocket(
    built_hello: Path, backend: Backend, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with wasmship_serve(built_hello, "--proxy", f"/api={backend.url}", stderr=log) as served:
        check_proxying(served.port, backend)
    assert f"/api -> {backend.url}" in log.read_text()


def test_a_backend_that_is_down_is_a_502_naming_it(built_hello: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "serve.log"
    with wasmship_serve(built_hello, "--proxy", f"/api={url}", stderr=log) as served:
        answer = request(served.port, "/api/users")
        again = request(served.port, "/api/users", method="POST")
    assert answer.status == 502 and again.status == 502
    text = answer.body.decode()
    assert url in text and "/api" in text and "connection refused" in text, text
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"


def test_a_prefix_that_shadows_a_dist_file_is_refused(
    built_hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    for prefix in ("/", "/index.html"):
        proc = wasmship(
            "serve",
            str(built_hello),
            "--port",
            "0",
            "--proxy",
            f"{prefix}=http://127.0.0.1:9",
            cwd=tmp_path,
        )
        assert proc.returncode == 2, proc.stderr
        shadowed = "/index.html" if prefix == "/index.html" else "/"  # "/": any file first
        assert f"would shadow {shadowed}" in proc.stderr and "of the dist" in proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    bad = wasmship("serve", str(built_hello), "--proxy", "api=http://x:1", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--proxy 'api=http://x:1': the prefix 'api' must be a path" in bad.stderr


def test_proxy_tables_in_wasmship_toml(built_hello: Path, backend: Backend, tmp_path: Path) -> None:
    (tmp_path / "wasmship.toml").write_text(
        f'[[proxy]]\nprefix = "/api"\nbackend = "{backend.url}"\n'
    )
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wasmship", "serve", str(built_hello), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
        env=base_env(),
    )
    try:
        url = read_first_line(proc, 60)
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        assert json.loads(request(port, "/api/x").body)["path"] == "/api/x"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_dev_proxies_json_events_and_a_websocket(go: Go, backend: Backend, tmp_path: Path) -> None:
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    proc = run_dev(project, "--port", "0", "--proxy", f"/api={backend.url}")
    try:
        url = read_first_line(proc, 120)
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        check_proxying(port, backend)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert f"/api -> {backend.url}" in err.decode()


def test_dev_refuses_a_prefix_over_a_static_file(wasmship: Run, tmp_path: Path) -> None:
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    page = wasmship("dev", "--port", "0", "--proxy", "/index.html=http://h:9", cwd=project)
    assert page.returncode == 2 and "would shadow /index.html" in page.stderr, page.stderr
    (project / "web" / "api").mkdir(parents=True)
    (project / "web" / "api" / "data.json").write_text("{}\n")
    (project / "wasmship.toml").write_text('static = "web"\n')
    proc = wasmship("dev", "--port", "0", "--proxy", "/api=http://127.0.0.1:9", cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert "--proxy /api=http://127.0.0.1:9 would shadow /api/data.json" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("/api", "is not PREFIX=URL"),
        ("api=http://h:1", "must be a path starting with /"),
        ("/a/../b=http://h:1", "must not have . or .. segments"),
        ("/api=ftp://h:1", "must be http://host:port"),
        ("/api=http://u:p@h:1", "must have no user, query or fragment"),
        ("/api=http://h:1/?q", "must have no user, query or fragment"),
        ("/api=http://h:1/\r\nX: y", "no spaces or control characters"),
        ("/a\x00=http://h:1", "must be a path starting with /"),
        ("/api=http://h:99999", "is not a URL"),
        ("/api=http:///x", "must be http://host:port"),
    ],
)
def test_bad_routes_are_refused(text: str, problem: str) -> None:
    with pytest.raises(BadRoute, match=problem.replace(".", r"\.").replace("/", "/")):
        parse_route(text)


def test_routes_match_by_whole_segments_and_the_longest_prefix() -> None:
    api = parse_route("/api/=http://127.0.0.1:8080/v1/")
    ws = parse_route("/api/ws=https://[::1]")
    assert (api.prefix, api.base, api.port, ws.port, ws.host) == ("/api", "/v1", 8080, 443, "[::1]")
    routes = merged([ws], [api])
    assert route_for(routes, "/api/ws/x?y") is ws
    assert route_for(routes, "/api?y") is api
    assert route_for(routes, "/apix") is None
    assert route_for(routes, "http://evil/api") is None
    assert api.target("/api/users?x=1") == "/v1/api/users?x=1"
    # A flag's route replaces the file's of the same prefix.
    assert merged([make_route("/api", "http://h:2")], [api])[0].port == 2
    with pytest.raises(UsageError, match="at most 64"):
        merged([make_route(f"/p{i}", "http://h:1") for i in range(65)], [])


def test_proxy_tables_are_checked_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "wasmship.toml"
    path.write_text('[[proxy]]\nprefix = "/api"\nbackend = "http://127.0.0.1:8080"\n')
    assert [r.url for r in load_config(path).proxies] == ["http://127.0.0.1:8080"]
    for text, problem in [
        ('[[proxy]]\nprefix = "/api"\nbakend = "http://h:1"\n', ":3: unknown key 'bakend' in "),
        ('[[proxy]]\nprefix = "/api"\n', ":1: [[proxy]] needs prefix and backend"),
        ('[[proxy]]\nprefix = "api"\nbackend = "http://h:1"\n', ":1: [[proxy]]: the prefix"),
        ('proxy = "x"\n', ":1: proxy must be an array of tables"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigError, match=problem.replace("[", r"\[").replace("]", r"\]")):
            load_config(path)


def test_a_backend_that_never_answers_is_a_504_in_bounded_time(
    built_hello: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wasmship.delivery.proxy.READ_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        route = make_route("/api", url)
        server = start(ServeConfig(dist=built_hello, port=0, quiet=True, proxies=(route,)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            started = time.monotonic()
            answer = request(server.server_address[1], "/api/slow")
            took = time.monotonic() - started
        finally:
            server.shutdown()
            server.server_close()
    assert answer.status == 504 and url in answer.body.decode(), answer.body
    assert "no answer within" in answer.body.decode() and took < 5
