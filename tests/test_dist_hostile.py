"""A dist someone tampered with (issue 24): what verify says of it and what serve sends from it.

Data never becomes a header, a path outside the dist or a traceback; serve bounds its clients.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, base_env, files_of, manifest_of
from tests.serving import read_first_line, request, wasmship_serve
from wasmship.delivery.dist_index import DistIndex
from wasmship.distformat.model import FileEntry
from wasmship.preview import DistServer, reach_warning

INJECTED = "text/html\r\nSet-Cookie: pwned=1"


@pytest.fixture
def dist(built_hello: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "dist"
    shutil.copytree(built_hello, copy)
    return copy


def edit_manifest(dist: Path, edit: Any) -> None:
    manifest = manifest_of(dist)
    edit(manifest)
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=2))


def page(manifest: Any) -> Any:
    return manifest["targets"][0]["files"]["index.html"]


def test_verify_refuses_a_header_smuggled_in_a_content_type(wasmship: Run, dist: Path) -> None:
    edit_manifest(dist, lambda m: page(m).update(content_type=INJECTED))
    proc = wasmship("verify", str(dist), cwd=dist.parent)
    assert proc.returncode == 1, proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if "content_type" in line]
    assert line.startswith("error: manifest.json: ")
    assert "\r" not in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("content_type", INJECTED, "has a control character"),
        ("content_type", "text/html; x=\x1b[2J", "has a control character"),
        ("content_type", "text html", "expected a media type"),
        ("sha256", "a" * 63 + "\n", "has a control character"),
        ("sha256", '"; Set-Cookie: x=1', "expected a lowercase hex SHA-256"),
    ],
)
def test_serve_refuses_a_manifest_whose_values_would_break_a_header(
    wasmship: Run, dist: Path, field: str, value: str, message: str
) -> None:
    edit_manifest(dist, lambda m: page(m).update({field: value}))
    proc = wasmship("serve", str(dist), "--port", "0", cwd=dist.parent, timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert message in proc.stderr and f"files.index.html.{field}" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_an_encoding_name_that_is_no_token_is_refused(wasmship: Run, dist: Path) -> None:
    def rename(manifest: Any) -> None:
        encodings = page(manifest)["encodings"]
        encodings["br\r\nX-Evil: 1"] = encodings.pop("br")

    edit_manifest(dist, rename)
    proc = wasmship("serve", str(dist), "--port", "0", cwd=dist.parent, timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert "control character" in proc.stderr and "Traceback" not in proc.stderr


class TamperedIndex(DistIndex):
    """A dist index whose entries were changed after the reader checked them."""

    def __init__(self, dist: Path, **changes: str) -> None:
        super().__init__(dist)
        self.changed = {path: replace(e, **changes) for path, e in super().files().items()}  # type: ignore[arg-type]

    def files(self) -> Mapping[str, FileEntry]:
        return self.changed


@contextmanager
def running(server: DistServer) -> Iterator[DistServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def raw_head(port: int, path: str = "/") -> bytes:
    """The raw bytes of a response's status line and headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def test_serve_never_writes_a_control_character_into_a_header(dist: Path) -> None:
    # The reader refuses such a manifest; this is serve's own guard behind it.
    index = TamperedIndex(dist, content_type=INJECTED)
    with running(DistServer(("127.0.0.1", 0), index, None)) as server:
        head = raw_head(server.server_address[1])
    assert head.startswith(b"HTTP/1.1 500 "), head
    assert b"Set-Cookie" not in head and b"pwned" not in head


def test_verify_refuses_a_module_linked_outside_the_dist(
    wasmship: Run, dist: Path, tmp_path: Path
) -> None:
    module = dist / files_of(dist)["main.wasm"]["path"]
    outside = tmp_path / "elsewhere.wasm"
    module.rename(outside)
    module.symlink_to(outside)
    (dist / "extra.txt").symlink_to("/etc/hostname")  # not listed: an error too, not strict only
    for args in (("--strict",), ()):
        proc = wasmship("verify", *args, str(dist), cwd=dist.parent)
        assert proc.returncode == 1, proc.stdout
        errors = [line for line in proc.stdout.splitlines() if "resolves outside the dist" in line]
        assert [e.split(":")[1].strip() for e in errors] == [module.name, "extra.txt"]
    with wasmship_serve(dist, stderr=tmp_path / "stderr.log") as served:
        assert request(served.port, "/" + module.name).status == 404
        assert request(served.port, "/extra.txt").status == 404


@pytest.mark.parametrize("command", ["verify", "serve"])
def test_a_manifest_nested_100000_deep_is_one_error_line(
    wasmship: Run, tmp_path: Path, command: str
) -> None:
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    proc = wasmship(command, "deep", cwd=tmp_path, timeout=60)
    assert proc.returncode == 4
    assert proc.stderr == (
        f"wasmship: error: {'deep/' if command == 'verify' else str(tmp_path / 'deep') + '/'}"
        "manifest.json: nested deeper than 32 levels: not a wasmship manifest\n"
    )


def test_a_manifest_nested_deep_inside_a_real_one_is_refused(wasmship: Run, dist: Path) -> None:
    deep: Any = "x"
    for _ in range(900):  # under json's own limit, over what the schema checker can recurse
        deep = [deep]
    edit_manifest(dist, lambda m: m.update(note=deep))
    proc = wasmship("verify", str(dist), cwd=dist.parent)
    assert proc.returncode == 4
    assert "nested deeper than 32 levels" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("size", [10**400, 2**41, -1, 1.5])
def test_a_size_no_dist_can_hold_is_a_problem_not_an_overflow(
    wasmship: Run, dist: Path, size: float
) -> None:
    def grow(manifest: Any) -> None:
        manifest["targets"][0]["files"]["main.wasm"]["size"] = size

    edit_manifest(dist, grow)
    proc = wasmship("verify", str(dist), cwd=dist.parent)
    assert proc.returncode == 1
    assert "Overflow" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert "files.main.wasm.size" in proc.stdout or "['main.wasm'].size" in proc.stdout
    serve = wasmship("serve", str(dist), "--port", "0", cwd=dist.parent, timeout=60)
    assert serve.returncode == 4 and "files.main.wasm.size" in serve.stderr, serve.stderr


class SmallServer(DistServer):
    head_timeout = 0.5
    max_connections = 8


def test_serve_closes_connections_that_never_finish_their_headers(dist: Path) -> None:
    with running(SmallServer(("127.0.0.1", 0), DistIndex(dist), None)) as server:
        port = server.server_address[1]
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        try:
            assert server.guard.open_count() <= SmallServer.max_connections + 1
            assert request(port, "/").status == 200  # an idle one made room
            time.sleep(2)  # four head timeouts
            assert server.guard.open_count() == 0
            for sock in [*silent, slow]:
                data = b""
                with contextlib.suppress(OSError):
                    while chunk := sock.recv(65536):
                        data += chunk
                assert b"200 OK" not in data
        finally:
            for sock in [*silent, slow]:
                sock.close()


def test_the_access_log_says_when(dist: Path) -> None:
    lines: list[str] = []
    with running(DistServer(("127.0.0.1", 0), DistIndex(dist), lines.append)) as server:
        assert request(server.server_address[1], "/%1b[2J").status == 404
    when = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"
    assert re.fullmatch(rf'127\.0\.0\.1 - - {when} "GET /%1b\[2J HTTP/1\.1" 404 -', lines[0])


def test_a_request_cannot_write_control_characters_to_the_log(dist: Path) -> None:
    lines: list[str] = []
    server = DistServer(("127.0.0.1", 0), DistIndex(dist), lines.append)
    with running(server), socket.create_connection(("127.0.0.1", server.server_address[1])) as sock:
        sock.sendall(b"GET /\x1b[2J HTTP/1.1\r\nConnection: close\r\n\r\n")
        sock.recv(65536)
    assert lines and "\x1b" not in "".join(lines) and "\\x1b[2J" in lines[0]


def test_host_empty_is_named_as_every_interface() -> None:
    assert reach_warning("") == (
        "--host '' listens on every network interface: other machines can reach it"
    )
    assert reach_warning("127.0.0.1") is None
    assert reach_warning("192.0.2.1") == "192.0.2.1 is reachable from other machines"


def test_serve_started_in_the_background_stops_on_sigint(dist: Path, tmp_path: Path) -> None:
    # A script's `wasmship serve &` starts with SIGINT ignored; serve must still stop on it.
    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with (tmp_path / "stderr.log").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wasmship", "serve", str(dist), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            env=base_env(),
            preexec_fn=ignore_sigint,
        )
        try:
            assert read_first_line(proc, 60).startswith("http://127.0.0.1:")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
    assert "stopped" in (tmp_path / "stderr.log").read_text()
