"""`wasmship check` against `wasmship serve`, against deliberately wrong servers, and failures."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, base_env, build_fixture, files_of, manifest_of, need
from tests.serving import Served, request, wasmship_serve
from wasmship.check import cache_ok
from wasmship.delivery.negotiation import cache_control
from wasmship.distformat.model import FileEntry
from wasmship.distformat.reader import parse_manifest
from wasmship.encodings.decoders import DecodeError, decode
from wasmship.units import human_size


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
    assert proc.stderr == ""
    # A line per file, the manifest's first, then the count.
    lines = proc.stdout.splitlines()
    paths = list(dist_files(manifest_of(built_hello)))
    # ... and the client routes' line (a made-up route and .js are 404 here: no --spa).
    assert len(lines) == len(paths) + 3, proc.stdout
    assert re.fullmatch(rf"ok +manifest\.json +found at {served.url}manifest\.json", lines[0])
    shown = {line.split()[1]: line for line in lines[1:-1]}
    assert sorted(shown) == sorted([*paths, "(routes)"])
    assert all(line.startswith("ok  ") for line in shown.values())
    assert shown["(routes)"].endswith("  unknown path: 404, missing file: 404")
    assert shown[wasm_path(built_hello)].endswith(
        "  application/wasm, br/gzip/identity decode to the manifest's sha256, immutable, "
        'Use-As-Dictionary: match="main.*.wasm"'
    )
    assert shown["index.html"].endswith(
        "  text/html, br/gzip/identity decode to the manifest's sha256, no-cache"
    )
    assert re.fullmatch(
        rf"\d+ checks at {served.url}manifest\.json: 0 failed, 0 warnings", lines[-1]
    )


def test_quiet_prints_nothing_when_every_check_passes(served: Served) -> None:
    proc = run_check("--quiet", served.url)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    warned = run_check("-q", served.url.replace("127.0.0.1", "0.0.0.0"))
    assert (warned.returncode, warned.stdout, warned.stderr) == (0, "", "")


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


def test_a_failing_file_shows_its_problems_and_the_others_one_line_each(
    built_hello: Path,
) -> None:
    files = {e.logical: e.path for e in dist_files(manifest_of(built_hello)).values()}
    module, shim = files["main.wasm"], files["wasm_exec.js"]
    with wrong_server(built_hello, Faults("wasm as text")) as url:
        proc = run_check(url)
        quiet = run_check("--quiet", url)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    # This server sends no Use-As-Dictionary: a warning on the module and the shim.
    # Nor the dist's Content-Security-Policy (issue 27): a warning on the page.
    policy = next(
        r["set"]["Content-Security-Policy"]
        for r in manifest_of(built_hello)["headers"]
        if r["pattern"] == "/*.html"
    )
    problems = [
        f"warning: index.html: [headers] Content-Security-Policy: expected {policy}, got (none) "
        "(only the pages' <meta> policy applies) (Accept-Encoding: identity / br / gzip)",
        f"FAIL: {module}: Content-Type: expected application/wasm, got text/plain "
        "(Accept-Encoding: identity / br / gzip)",
        f'warning: {module}: Use-As-Dictionary: expected match="main.*.wasm" (any later hash), '
        "got (none)",
        f'warning: {shim}: Use-As-Dictionary: expected match="wasm_exec.*.js" '
        "(any later hash), got (none)",
    ]
    # A type is the host's setting, not the dist's bytes: a note after the count says so.
    assert lines[-1].startswith("note: every file is there with the manifest's bytes; what ")
    lines = lines[:-1]
    assert [line for line in lines if not line.startswith("ok  ")][:-1] == problems
    passed = {line.split()[1] for line in lines if line.startswith("ok  ")}
    assert passed == {"manifest.json", "(routes)", *files.values()} - {module, shim, "index.html"}
    assert re.fullmatch(rf"\d+ checks at {url}manifest\.json: 3 failed, 5 warnings", lines[-1])
    assert proc.stderr == (
        f"wasmship: error: 3 checks failed at {url}, all of them headers the host's settings "
        "send (the dist's files are intact)\n"
    )
    # --quiet: the problems only.
    assert quiet.returncode == 1
    assert quiet.stdout.splitlines() == problems
    assert quiet.stderr == proc.stderr


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


# -- Hostile servers: every body is capped, every request bounded by --timeout ------------------

GIB = 1024**3
# The check process's address space: a check that read without a cap would fail fast here
# instead of taking the machine's memory (the bound asserted is far lower: PEAK_RSS).
ADDRESS_SPACE = 2 * GIB
PEAK_RSS = 200 * 1024**2
SLACK = 2.5  # seconds for starting Python and importing wasmship, on a busy machine


@dataclass(frozen=True)
class Finished:
    """A check process that ended: its exit code, output, seconds and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes (ru_maxrss of that one process)


def run_check_measured(*args: str, give_up: float, **env: str) -> Finished:
    """`wasmship check ARGS` with a bounded address space, killed after GIVE_UP seconds."""
    limited = (
        "import os, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'wasmship', 'check', *sys.argv[1:]])\n"
    )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", limited, *args], stdout=out, stderr=err, env=base_env(**env)
        )
        while True:
            # wait4: the resource usage of this one child, not of every child the tests ran.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > give_up:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Finished(
            proc.returncode,
            out.read().decode(),
            err.read().decode(),
            seconds,
            usage.ru_maxrss * 1024,
        )


def hostile_handler(
    dist: Path, behaviour: str, target: str, stop: threading.Event
) -> type[BaseHTTPRequestHandler]:
    """Serves DIST's manifest.json (unless TARGET is the page) and misbehaves on TARGET."""
    manifest = (dist / "manifest.json").read_bytes()
    entries = {e.path: e for e in dist_files(manifest_of(dist)).values()}
    chunk = bytes(64 * 1024)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0].lstrip("/") or "index.html"
            try:
                if path == target:
                    self.misbehave(path)
                elif path == "manifest.json" and target != "index.html":
                    self.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    self.raw(f"Content-Length: {len(manifest)}\r\n\r\n".encode() + manifest)
                else:
                    self.raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                self.close_connection = True  # the check went away, as it should

        def raw(self, data: bytes) -> None:
            self.wfile.write(data)

        def misbehave(self, path: str) -> None:
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            if behaviour in ("trickle status", "trickle headers"):
                if behaviour == "trickle headers":  # a status line at once: only the rest is slow
                    self.raw(b"HTTP/1.1 200 OK\r\n")
                    head = head.removeprefix(b"HTTP/1.1 200 OK\r\n")
                for byte in head + b"X-Slow: " + b"a" * 60_000:
                    if stop.wait(0.5):
                        return
                    self.raw(bytes([byte]))
            elif behaviour == "trickle body":
                size = entries[path].size if path in entries else 100_000
                self.raw(head + f"Content-Length: {size}\r\n\r\n".encode())
                while not stop.wait(0.5):
                    self.raw(b"\0")
            elif behaviour == "huge length":
                self.raw(head + f"Content-Length: {10 * GIB}\r\n\r\n".encode())
                while not stop.is_set():
                    self.raw(chunk)
            elif behaviour == "chunked forever":
                self.raw(head + b"Transfer-Encoding: chunked\r\n\r\n")
                while not stop.is_set():
                    self.raw(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            elif behaviour == "until close":
                self.raw(head + b"Connection: close\r\n\r\n")
                while not stop.is_set():
                    self.raw(chunk)
            else:
                raise AssertionError(behaviour)
            self.close_connection = True

    return Handler


@contextmanager
def hostile_server(
    dist: Path, behaviour: str, target: str, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """A server on 127.0.0.1 (HTTPS with TLS) that misbehaves on TARGET; yields its URL."""
    stop = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), hostile_handler(dist, behaviour, target, stop))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http{'s' if tls else ''}://127.0.0.1:{server.server_address[1]}/"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("behaviour", "target"),
    [
        ("huge length", "main.wasm"),
        ("chunked forever", "main.wasm"),
        ("until close", "main.wasm"),
        ("chunked forever", "manifest.json"),
        ("until close", "index.html"),
    ],
)
def test_a_body_larger_than_the_manifest_allows_is_cut_off(
    built_hello: Path, behaviour: str, target: str
) -> None:
    from wasmship.delivery.client import MANIFEST_LIMIT, PAGE_LIMIT, body_limit

    files = dist_files(manifest_of(built_hello))
    # index.html: no manifest.json where the URL says, so check reads the page for one.
    entry = next((e for e in files.values() if e.logical == target != "index.html"), None)
    path = entry.path if entry else target
    with hostile_server(built_hello, behaviour, path) as url:
        done = run_check_measured("--timeout", "5", url, give_up=60)
    if entry is not None:
        limit = body_limit(entry)
        what = f"{entry.path} ({human_size(entry.size)} in the manifest)"
    elif target == "manifest.json":
        limit, what = MANIFEST_LIMIT, "a manifest.json"
    else:
        limit, what = PAGE_LIMIT, "an HTML page"
    where = f"GET {url}{'' if target == 'index.html' else path}: "
    over = f"over {human_size(limit)}, more than {what} can be"
    if behaviour == "huge length":
        said = f"Content-Length {10 * GIB} is {over}; not read"
    else:
        said = f"the body is {over}; stopped reading"
    assert done.returncode == 1, done
    assert done.stderr.strip().splitlines() == [
        f"wasmship: error: {where}{said} (is this server sending the dist?)"
    ], done
    assert done.seconds < 5 + SLACK, done
    assert done.peak_rss < PEAK_RSS, done


@pytest.mark.parametrize(
    ("behaviour", "target"),
    [
        ("trickle status", "manifest.json"),
        ("trickle headers", "manifest.json"),
        ("trickle body", "main.wasm"),
    ],
)
def test_a_trickling_server_is_cut_off_at_the_timeout(
    built_hello: Path, behaviour: str, target: str
) -> None:
    files = dist_files(manifest_of(built_hello))
    entry = next((e for e in files.values() if e.logical == target), None)
    path = entry.path if entry else target
    with hostile_server(built_hello, behaviour, path) as url:
        done = run_check_measured("--timeout", "3", url, give_up=60)
    netloc = url.removeprefix("http://").rstrip("/")
    if behaviour in ("trickle status", "trickle headers"):
        said = f"no answer from {netloc} within 3 s (raise --timeout?)"
    else:
        assert entry is not None
        said = f"the body from {netloc} did not arrive within 3 s ("
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wasmship: error: GET {url}{path}: {said}"), (
        done
    )
    if behaviour == "trickle body":
        assert entry is not None
        assert re.search(rf"\(\d of {entry.size} bytes; raise --timeout\?\)$", lines[0]), lines
    assert 3 <= done.seconds < 3 + SLACK, done
    assert done.peak_rss < PEAK_RSS, done


def test_a_trickling_https_server_is_cut_off_at_the_timeout(
    built_hello: Path, tmp_path: Path
) -> None:
    # Under TLS the cut-off shuts the socket beneath the TLS layer: the same bound must hold.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = [need("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    openssl += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    openssl += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(openssl, check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    module = dist_files(manifest_of(built_hello))[wasm_path(built_hello)]
    with hostile_server(built_hello, "trickle body", module.path, tls) as url:
        done = run_check_measured("--timeout", "3", url, give_up=60, SSL_CERT_FILE=str(cert))
    netloc = url.removeprefix("https://").rstrip("/")
    assert done.returncode == 1, done
    assert re.fullmatch(
        rf"wasmship: error: GET {re.escape(url + module.path)}: the body from {netloc} did not "
        rf"arrive within 3 s \(\d of {module.size} bytes; raise --timeout\?\)\n",
        done.stderr,
    ), done
    assert 3 <= done.seconds < 3 + SLACK, done
    assert done.peak_rss < PEAK_RSS, done


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:abc/", "the port 'abc' is not a number from 1 to 65535"),
        ("http://127.0.0.1:70000/", "the port '70000' is not a number from 1 to 65535"),
        ("http://127.0.0.1:0/", "the port '0' is not a number from 1 to 65535"),
        ("http://[::1/", "the host '[::1' is not a host name or address"),
        ("http://[not-an-address]/", "the host '[not-an-address]' is not a host name or address"),
        ("http://a..b/", "the host 'a..b' is not a host name or address"),
        ("http:///app/", "it names no host"),
        ("http://:8000/", "it names no host"),
        ("ftp://example.org/", "only http:// and https:// URLs can be checked"),
        ("example.org", "only http:// and https:// URLs can be checked"),
        ("http://exa mple.org/", "it contains a space or a control character"),
        ("http://user:secret@example.org/", "a user name or password in the URL is not supported"),
    ],
)
def test_an_unusable_url_is_a_usage_error(url: str, problem: str) -> None:
    proc = run_check(url)
    as_json = run_check("--json", url)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"wasmship: error: cannot check {url}: {problem}; "
        "give the address of the deployed dist, e.g. https://example.org/app/"
    ]
    assert as_json.returncode == 2
    document = json.loads(as_json.stdout)
    assert document["exit_code"] == 2 and document["error"].startswith(f"cannot check {url}: ")


def test_a_redirect_to_an_unusable_url_is_a_check_failure(built_hello: Path) -> None:
    class Redirect(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:abc/manifest.json")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        proc = run_check(url)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        f"wasmship: error: GET {url}manifest.json: redirected to "
        "http://127.0.0.1:abc/manifest.json, which cannot be fetched: "
        "the port 'abc' is not a number from 1 to 65535"
    ]
