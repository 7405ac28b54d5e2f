"""`wasmship check URL --timeout 2` against hostile servers: each ends within the timeout plus
2 s, under 100 MB of memory, with one line and its exit code (issue 24 §1, §5, §15).

Each server is real, on 127.0.0.1 in a thread of this process; each check is a real process,
measured with os.wait4 (its own peak RSS) and killed if it outlives GIVE_UP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import brotli
import pytest

from tests.conftest import base_env, manifest_of

TIMEOUT = 2
SLACK = 2.0  # the bound: --timeout plus 2 s, start-up included
PEAK_RSS = 100 * 1024**2
GIVE_UP = 30.0
# A check that read without bound fails fast here instead of taking the machine's memory.
ADDRESS_SPACE = 1024**3
HUGE = 10**12  # the size a hostile manifest claims for every file
ZEROS = bytes(1024**2)

Behaviour = Callable[["Handler", str], None]


@dataclass(frozen=True)
class Finished:
    returncode: int
    stderr: str
    seconds: float
    peak_rss: int


# Linux keeps a process's peak RSS across fork and exec, so a check forked from this (large)
# test process would report this process's peak. A small launcher starts the check instead
# and writes the check's own peak (os.wait4, KiB) to the pipe whose fd is its first argument;
# SIGINT is passed on to the check, and a check ended by a signal exits as a shell says (128+N).
LAUNCHER = (
    "import os, signal, subprocess, sys\n"
    "check = subprocess.Popen([sys.executable, '-c', *sys.argv[2:]])\n"
    "signal.signal(signal.SIGINT, lambda *_: check.send_signal(signal.SIGINT))\n"
    "_, status, usage = os.wait4(check.pid, 0)\n"
    "os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


def run_check(*args: str, prelude: str = "", interrupt_after: float | None = None) -> Finished:
    """`wasmship check ARGS` (after PRELUDE, Python run first in the child), measured."""
    child = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
        f"{prelude}\n"
        "sys.argv = ['wasmship', 'check', *sys.argv[1:]]\n"
        "runpy.run_module('wasmship', run_name='__main__')\n"
    )
    peak_read, peak_write = os.pipe()
    with tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(peak_write), child, *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=base_env(),
            pass_fds=(peak_write,),
            start_new_session=True,  # one group: giving up kills the check with its launcher
        )
        os.close(peak_write)
        interrupted = False
        while True:
            if proc.poll() is not None:
                break
            elapsed = time.monotonic() - start
            if interrupt_after is not None and not interrupted and elapsed > interrupt_after:
                proc.send_signal(signal.SIGINT)
                interrupted = True
            if elapsed > GIVE_UP:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        with os.fdopen(peak_read, "rb") as peak:
            kib = int(peak.read() or b"0")
        err.seek(0)
        return Finished(
            proc.returncode,
            err.read().decode(errors="replace"),
            seconds,
            kib * 1024,
        )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[dict[str, Behaviour]] = {}
    stop = threading.Event()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0].lstrip("/")
        behaviour = self.routes.get(path, not_found)
        with contextlib.suppress(OSError):  # the check went away, as it should
            behaviour(self, path)
        self.close_connection = True

    def head(self, *lines: str) -> None:
        self.wfile.write(("HTTP/1.1 200 OK\r\n" + "".join(f"{x}\r\n" for x in lines)).encode())
        self.wfile.write(b"\r\n")


def not_found(handler: Handler, path: str) -> None:
    handler.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@contextmanager
def server(routes: dict[str, Behaviour]) -> Iterator[str]:
    """A server on a free port of 127.0.0.1 answering ROUTES (path -> behaviour); its URL."""
    stop = threading.Event()
    handler = type("Routes", (Handler,), {"routes": routes, "stop": stop})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


def sends(body: bytes, *headers: str) -> Behaviour:
    def behave(handler: Handler, path: str) -> None:
        handler.head(f"Content-Length: {len(body)}", *headers)
        handler.wfile.write(body)

    return behave


def endless(*headers: str, chunks: Callable[[], Iterator[bytes]] | None = None) -> Behaviour:
    """A body that never ends (sent until the check hangs up)."""

    def behave(handler: Handler, path: str) -> None:
        handler.head("Content-Type: application/wasm", *headers)
        for chunk in (chunks or zeros)():
            if handler.stop.is_set():
                return
            handler.wfile.write(chunk)

    return behave


def zeros() -> Iterator[bytes]:
    while True:
        yield ZEROS


def gzip_bomb() -> Iterator[bytes]:
    encoder = zlib.compressobj(9, zlib.DEFLATED, 31)
    while True:
        yield encoder.compress(ZEROS) or encoder.flush(zlib.Z_SYNC_FLUSH)


def brotli_bomb() -> Iterator[bytes]:
    encoder = brotli.Compressor(quality=1)
    while True:
        yield encoder.process(ZEROS) + encoder.flush()


def trickle(head: bytes, then: bytes = b"") -> Behaviour:
    """HEAD at once, then THEN a byte a second (1 byte/s), forever."""

    def behave(handler: Handler, path: str) -> None:
        handler.wfile.write(head)
        handler.wfile.flush()
        while True:
            for one in then or b"a":
                if handler.stop.wait(1.0):
                    return
                handler.wfile.write(bytes([one]))
                handler.wfile.flush()

    return behave


def redirect(to: str, delay: float = 0.0) -> Behaviour:
    def behave(handler: Handler, path: str) -> None:
        if handler.stop.wait(delay):
            return
        handler.wfile.write(
            f"HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n".encode()
        )

    return behave


def claiming_huge(dist: Path) -> tuple[bytes, str]:
    """DIST's manifest, every file claimed to be 10^12 bytes (variants too); the module's path."""
    document: Any = manifest_of(dist)
    module = ""
    for target in document["targets"]:
        for logical, entry in target["files"].items():
            entry["size"] = HUGE
            for variant in entry.get("variants", {}).values():
                variant["size"] = HUGE
            if logical == "main.wasm":
                module = entry["path"]
    return json.dumps(document).encode(), module


def module_path(dist: Path) -> str:
    path: str = manifest_of(dist)["targets"][0]["files"]["main.wasm"]["path"]
    return path


def assert_bounded(done: Finished, code: int, message: str) -> None:
    """One line saying MESSAGE, exit CODE, within the timeout plus 2 s and under 100 MB."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done
    assert lines[0].startswith("wasmship: error: "), done
    assert done.returncode == code, done
    assert done.seconds < TIMEOUT + SLACK, done
    assert done.peak_rss < PEAK_RSS, done


def manifest_json(dist: Path) -> Behaviour:
    return sends((dist / "manifest.json").read_bytes(), "Content-Type: application/json")


# -- §1: bodies are capped by a fixed ceiling, requests by --timeout ----------------------------


def test_an_endless_module_body_ends_at_the_timeout_or_the_ceiling(built_hello: Path) -> None:
    routes = {"manifest.json": manifest_json(built_hello), module_path(built_hello): endless()}
    with server(routes) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"GET {url}{module_path(built_hello)}: ")


@pytest.mark.parametrize(
    "framing",
    [f"Content-Length: {HUGE}", "Connection: close"],
    ids=["a huge Content-Length", "a body sent until close"],
)
def test_a_manifest_claiming_a_huge_size_cannot_raise_the_cap(
    built_hello: Path, framing: str
) -> None:
    manifest, module = claiming_huge(built_hello)
    routes = {
        "manifest.json": sends(manifest, "Content-Type: application/json"),
        module: endless(framing),
    }
    with server(routes) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"GET {url}{module}: ")


@pytest.mark.parametrize(
    ("coding", "bomb"), [("gzip", gzip_bomb), ("br", brotli_bomb)], ids=["gzip", "br"]
)
def test_a_decompression_bomb_is_cut_off(
    built_hello: Path, coding: str, bomb: Callable[[], Iterator[bytes]]
) -> None:
    manifest, module = claiming_huge(built_hello)

    def behave(handler: Handler, path: str) -> None:
        asked = handler.headers.get("Accept-Encoding", "")
        if asked == coding:
            endless(f"Content-Encoding: {coding}", chunks=bomb)(handler, path)
        else:
            sends(b"\0asm", "Content-Type: application/wasm")(handler, path)

    routes = {"manifest.json": sends(manifest, "Content-Type: application/json"), module: behave}
    with server(routes) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"GET {url}{module}: ")


def test_headers_sent_a_byte_a_second_end_at_the_timeout() -> None:
    routes = {"manifest.json": trickle(b"HTTP/1.1 200 OK\r\n", b"X-Slow: aaaaaaaaaaaaaaaaaaaa")}
    with server(routes) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"no answer from {url[7:-1]} within {TIMEOUT} s")
    assert done.seconds >= TIMEOUT


def test_a_body_sent_a_byte_a_second_ends_at_the_timeout() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    with server({"manifest.json": trickle(head, b"{" * 1000)}) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"did not arrive within {TIMEOUT} s")
    assert done.seconds >= TIMEOUT


def test_a_redirect_loop_is_refused() -> None:
    with server({"manifest.json": redirect("/manifest.json")}) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, "more than 5 redirects")


def test_slow_redirects_share_one_timeout() -> None:
    # Six hops of 0.6 s each: the timeout bounds finding the manifest, not each hop.
    with server({"manifest.json": redirect("/manifest.json", delay=0.6)}) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"within {TIMEOUT} s")


# -- §5: a deeply nested manifest is a bad manifest, not a traceback ----------------------------


@pytest.mark.parametrize("shape", ["[", '{"a":'])
def test_a_deeply_nested_manifest_is_one_line(shape: str) -> None:
    body = (shape * 200_000).encode()
    with server({"manifest.json": sends(body, "Content-Type: application/json")}) as url:
        done = run_check("--timeout", str(TIMEOUT), url)
    assert_bounded(done, 1, f"{url}manifest.json: nested deeper than 32 levels")
    assert "Traceback" not in done.stderr


# -- §15: the DNS lookup is inside --timeout ----------------------------------------------------

SLOW_DNS = (
    "import socket, time\n"
    "def _slow(*args, **kwargs):\n"
    "    time.sleep(60)\n"
    "socket.getaddrinfo = _slow\n"
)


def test_a_dns_lookup_that_never_answers_ends_at_the_timeout() -> None:
    done = run_check("--timeout", str(TIMEOUT), "http://slow-dns.example/", prelude=SLOW_DNS)
    assert_bounded(done, 1, f"no answer from slow-dns.example within {TIMEOUT} s")
    assert done.seconds >= TIMEOUT


# -- An interrupted check says what it is: there is no dist to speak of -------------------------


def test_an_interrupted_check_says_interrupted_only() -> None:
    with server({"manifest.json": trickle(b"")}) as url:
        done = run_check("--timeout", "20", url, interrupt_after=1.5)
    assert done.returncode == 130, done
    assert done.stderr.strip().splitlines() == ["wasmship: error: interrupted"], done
