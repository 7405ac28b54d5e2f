"""`wasmship check` against `wasmship serve`, against deliberately wrong servers, and failures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, base_env, build_fixture, files_of, manifest_of
from tests.serving import Served, request, wasmship_serve
from wasmship.check import cache_ok
from wasmship.delivery.negotiation import cache_control
from wasmship.dist.manifest import FileEntry
from wasmship.dist.reader import parse_manifest
from wasmship.encodings.decoders import DecodeError, decode


def dist_files(document: Any) -> dict[str, FileEntry]:
    """Every file of the dist a manifest document describes, by path."""
    return parse_manifest(document).files_by_path()


def run_check(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", "check", *args],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def served(built_hello: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with wasmship_serve(built_hello, "--quiet", stderr=log) as server:
        yield server


def wasm_path(dist: Path) -> str:
    targets: Any = manifest_of(dist)["targets"]
    path: str = targets[0]["files"]["main.wasm"]["path"]
    return path


def test_check_passes_against_wasmship_serve(served: Served, built_hello: Path) -> None:
    proc = run_check(served.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert wasm_path(built_hello) in proc.stdout
    assert "0 failed" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_json_result_lists_every_file_and_encoding(served: Served, built_hello: Path) -> None:
    proc = run_check("--json", served.url + "index.html")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["ok"] is True
    assert document["failures"] == 0
    assert document["manifest"] == served.url + "manifest.json"
    seen = {(r["file"], r["request"]) for r in document["results"] if r["check"] == "body"}
    files = dist_files(manifest_of(built_hello))
    expected = {
        (entry.path, f"Accept-Encoding: {coding}")
        for entry in files.values()
        for coding in ("identity", *(v.coding for v in entry.variants))
    }
    assert seen == expected
    assert {r["outcome"] for r in document["results"]} == {"ok"}


class Faults:
    """What a deliberately wrong server gets wrong."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def __contains__(self, name: str) -> bool:
        return name in self.names


def wrong_server_handler(dist: Path, faults: Faults, prefix: str) -> type[BaseHTTPRequestHandler]:
    files = dist_files(manifest_of(dist))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/" and prefix:
                page = (dist / "index.html").read_text()
                body = page.replace('src="', f'src="{prefix.strip("/")}/').encode()
                return self.reply(200, body, [("Content-Type", "text/html")])
            if not path.startswith(prefix + "/"):
                return self.reply(404, b"not found", [])
            name = path[len(prefix) + 1 :] or "index.html"
            if name == "manifest.json" and "no manifest" not in faults:
                body = (dist / name).read_bytes()
                return self.reply(200, body, [("Content-Type", "application/json")])
            entry = files.get(name)
            if entry is None:
                return self.reply(404, b"not found", [])
            accept = self.headers.get("Accept-Encoding", "")
            variant = next((v for v in entry.variants if v.coding == accept), None)
            if "ignore encodings" in faults:
                variant = None
            headers = [("Content-Type", entry.content_type), ("X-Content-Type-Options", "nosniff")]
            if name.endswith(".wasm") and "wasm as text" in faults:
                headers[0] = ("Content-Type", "text/plain")
            if "no nosniff" in faults:
                headers.pop()
            if "no vary" not in faults:
                headers.append(("Vary", "Accept-Encoding"))
            if entry.immutable:
                short = "short cache" in faults
                cache = "public, max-age=3600" if short else cache_control(entry.immutable)
            else:
                year = "index cached a year" in faults
                cache = "public, max-age=31536000" if year else cache_control(entry.immutable)
            headers.append(("Cache-Control", cache))
            body = (dist / (variant.path if variant else entry.path)).read_bytes()
            if variant:
                headers.append(("Content-Encoding", variant.coding))
                if "corrupt br" in faults and variant.coding == "br":
                    body = body[:-8]
            self.reply(200, body, headers)

        def reply(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def wrong_server(dist: Path, faults: Faults, prefix: str = "") -> Iterator[str]:
    """A small server in this process that gets FAULTS wrong; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), wrong_server_handler(dist, faults, prefix))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_correct_server_written_here_passes(built_hello: Path) -> None:
    # The baseline for the faults below: with no fault, this server is right.
    with wrong_server(built_hello, Faults()) as url:
        proc = run_check(url)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("fault", "file", "line"),
    [
        (
            "wasm as text",
            "main.wasm",
            "Content-Type: expected application/wasm, got text/plain "
            "(Accept-Encoding: identity / br / gzip)",
        ),
        ("no vary", "main.wasm", "Vary: expected Accept-Encoding, got (none)"),
        (
            "index cached a year",
            "index.html",
            "Cache-Control: expected no-cache (or max-age<=600, or must-revalidate), "
            "got public, max-age=31536000",
        ),
        (
            "short cache",
            "wasm_exec.js",
            "Cache-Control: expected public, max-age=31536000, immutable, got public, max-age=3600",
        ),
        ("ignore encodings", "main.wasm", "Content-Encoding: expected br, got (none)"),
        ("no nosniff", "loader.js", "X-Content-Type-Options: expected nosniff, got (none)"),
        ("corrupt br", "main.wasm", "body: expected sha256 "),
    ],
)
def test_check_fails_against_a_wrong_server_naming_file_and_header(
    built_hello: Path, fault: str, file: str, line: str
) -> None:
    path = dist_files(manifest_of(built_hello))
    entry = next(e for e in path.values() if e.logical == file)
    with wrong_server(built_hello, Faults(fault)) as url:
        proc = run_check(url)
        as_json = run_check("--json", url)
    assert proc.returncode == 1, proc.stdout
    assert f"FAIL: {entry.path}: {line}" in proc.stdout
    assert "checks failed at" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["ok"] is False
    failed = [r for r in document["results"] if r["outcome"] == "fail"]
    assert failed and all(r["file"] for r in failed)
    assert any(r["file"] == entry.path for r in failed)


def test_wasm_as_text_fails_on_content_type_only(built_hello: Path) -> None:
    with wrong_server(built_hello, Faults("wasm as text")) as url:
        document = json.loads(run_check("--json", url).stdout)
    failed = {(r["file"], r["check"]) for r in document["results"] if r["outcome"] == "fail"}
    assert failed == {(wasm_path(built_hello), "Content-Type")}


def test_manifest_is_found_from_the_page(built_hello: Path) -> None:
    # The page at / loads its scripts from /static/, where the dist (and its manifest) lives.
    with wrong_server(built_hello, Faults(), prefix="/static") as url:
        document = json.loads(run_check("--json", url).stdout)
    assert document["ok"] is True, document
    assert document["manifest"] == url + "static/manifest.json"


def test_no_manifest_is_a_clear_failure(built_hello: Path) -> None:
    with wrong_server(built_hello, Faults("no manifest")) as url:
        proc = run_check(url)
    assert proc.returncode == 1
    assert f"no manifest.json at {url}manifest.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_closed_port_is_a_clear_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = run_check(f"http://127.0.0.1:{port}/")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"wasmship: error: GET http://127.0.0.1:{port}/manifest.json: connection refused by "
        f"127.0.0.1:{port}; is the server running on that port?"
    ]


def test_a_server_that_never_answers_times_out_clearly() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; nobody ever answers
        port = silent.getsockname()[1]
        proc = run_check("--timeout", "1", f"http://127.0.0.1:{port}/")
        as_json = run_check("--json", "--timeout", "0.5", f"http://127.0.0.1:{port}/")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"wasmship: error: GET http://127.0.0.1:{port}/manifest.json: no answer from "
        f"127.0.0.1:{port} within 1 s (raise --timeout?)"
    )
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"].endswith("within 0.5 s (raise --timeout?)")


def test_plain_http_off_loopback_is_a_warning(served: Served) -> None:
    # On Linux, 0.0.0.0 reaches this machine, yet it is not a loopback name: a warning only.
    proc = run_check(served.url.replace("127.0.0.1", "0.0.0.0"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: http://0.0.0.0:" in proc.stdout
    assert "scheme: expected https://, got http://" in proc.stdout


def test_not_a_url_is_a_clear_error() -> None:
    proc = run_check("ftp://example.org/")
    assert proc.returncode == 1
    assert "not an http:// or https:// URL" in proc.stderr


@pytest.mark.parametrize(
    ("immutable", "header", "ok"),
    [
        (True, "public, max-age=31536000, immutable", True),
        (True, "max-age=63072000, immutable", True),
        (True, "public, max-age=31536000", False),
        (True, "public, max-age=3600, immutable", False),
        (True, None, False),
        (False, "no-cache", True),
        (False, "no-store", True),
        (False, "public, max-age=0, must-revalidate", True),
        (False, "max-age=600", True),
        (False, "must-revalidate", True),
        (False, "max-age=601", False),
        (False, "max-age=3600, must-revalidate", False),
        (False, "public, max-age=31536000, immutable", False),
        (False, None, False),
    ],
)
def test_cache_control_rules(
    built_hello: Path, immutable: bool, header: str | None, ok: bool
) -> None:
    entry = next(
        e for e in dist_files(manifest_of(built_hello)).values() if e.immutable == immutable
    )
    assert cache_ok(entry, header)[0] is ok


def test_decode_each_coding() -> None:
    import gzip

    import brotli

    data = b"wasm" * 1000
    assert decode(brotli.compress(data), "br") == data
    assert decode(gzip.compress(data), "gzip") == data
    assert decode(data, "identity") == data
    with pytest.raises(DecodeError, match="not valid br"):
        decode(b"garbage", "br")
    with pytest.raises(DecodeError, match="no decoder"):
        decode(data, "compress")


def test_zstd_decodes_or_says_what_to_install() -> None:
    try:
        import zstandard
    except ImportError:
        with pytest.raises(DecodeError, match="install the zstandard package"):
            decode(b"\x28\xb5\x2f\xfd", "zstd")
    else:
        data = b"wasm" * 1000
        assert decode(zstandard.ZstdCompressor().compress(data), "zstd") == data


def test_a_zstd_dist_is_served_checked_and_verified(go: Go, tmp_path: Path) -> None:
    """--zstd end to end: serve negotiates it (after br), check decodes it, verify passes."""
    import zstandard

    dist = build_fixture(tmp_path, go, "hello", "--zstd", "--profile", "fast") / "dist"
    module = files_of(dist)["main.wasm"]
    assert set(module["encodings"]) == {"br", "gzip", "zstd"}
    original = (dist / module["path"]).read_bytes()
    with wasmship_serve(dist, "--quiet", stderr=tmp_path / "serve.log") as server:
        only = request(server.port, "/" + module["path"], {"Accept-Encoding": "zstd"})
        assert only.header("Content-Encoding") == "zstd"
        assert zstandard.ZstdDecompressor().decompress(only.body) == original
        both = request(server.port, "/" + module["path"], {"Accept-Encoding": "gzip, zstd"})
        assert both.header("Content-Encoding") == "zstd"
        everything = request(server.port, "/" + module["path"], {"Accept-Encoding": "zstd, br"})
        assert everything.header("Content-Encoding") == "br"
        checked = run_check("--json", server.url)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "zstd" in checked.stdout
    verified = subprocess.run(
        [sys.executable, "-m", "wasmship", "verify", "--strict", str(dist)],
        env=base_env(),
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
