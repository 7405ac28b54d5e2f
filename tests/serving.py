"""Running `wasmship serve` as a real process, and raw HTTP requests against it."""

from __future__ import annotations

import http.client
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import base_env


@dataclass
class Served:
    """A running `wasmship serve`: its process, URL and where its stderr goes."""

    proc: subprocess.Popen[bytes]
    url: str
    stderr: Path

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None
        return port

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send SIG and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()


def read_first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """The first stdout line of PROC, without blocking forever if it never comes."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no URL on stdout within {timeout} s")
    return proc.stdout.readline().decode().strip()


@contextmanager
def wasmship_serve(dist: Path, *args: str, stderr: Path) -> Iterator[Served]:
    """Start `wasmship serve DIST --port 0 ARGS` and stop it (SIGINT) afterwards."""
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wasmship", "serve", str(dist), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            env=base_env(),
        )
    served = Served(proc, "", stderr)
    try:
        served.url = read_first_line(proc, 60)
        assert served.url.startswith("http://127.0.0.1:"), (served.url, stderr.read_text())
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def request(
    port: int, path: str, headers: Mapping[str, str] | None = None, method: str = "GET"
) -> Response:
    """One raw request: PATH goes on the wire exactly as given, nothing is decoded."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # skip_accept_encoding: send only the Accept-Encoding the test names (none by default).
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Response(response.status, response.msg, response.read())
    finally:
        connection.close()


def swap_in(site: Path, dist: Path) -> None:
    """Deploy DIST at SITE the way a build does: the folder is replaced by a whole new one.

    Copied as `cp -r` does, with new mtimes: nginx's and Caddy's ETags are the mtime (in
    seconds) and the size, and v1's and v2's pages have one size; with the build times kept, two
    builds within one second (a warm compression cache makes them that fast) would answer the
    reload 304 and leave v1's page running."""
    retired = site.with_name(site.name + "-old")
    site.rename(retired)
    shutil.copytree(dist, site, copy_function=shutil.copy)
    shutil.rmtree(retired)
