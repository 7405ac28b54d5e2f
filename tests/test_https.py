"""serve and dev --https: the certificate made once in the cache (or the user's), TLS within the
servers' bounds, a secure context in Chromium (the offline worker registers), and check over it."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import CHROMIUM_ARGS, assert_app_ran, open_app
from tests.conftest import FIXTURES, Go, base_env, build_fixture, manifest_of, missing, need
from tests.serving import read_first_line
from wasmship.errors import UsageError

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(autouse=True)
def _cryptography() -> None:
    """Making a certificate needs the https extra (in the test extra): never a skip in CI."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        missing("the cryptography package is not installed (pip install -e '.[test]')")


@dataclass
class Secure:
    """A running `wasmship serve --https` (or dev): its URL, its stderr so far, the cache."""

    proc: subprocess.Popen[bytes]
    url: str
    cache: Path
    stderr: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].strip("/"))

    @property
    def cert(self) -> Path:
        return self.cache / "tls" / "localhost" / "cert.pem"

    def log(self, waiting_for: str = "", timeout: float = 10) -> str:
        """Its stderr, once it holds WAITING_FOR (printed just after the URL) or TIMEOUT ends."""
        deadline = time.monotonic() + timeout
        while waiting_for not in (text := self.stderr.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return text


@contextmanager
def started(command: list[str], cwd: Path, cache: Path, log: Path, **env: str) -> Iterator[Secure]:
    """Run `wasmship COMMAND` with its cache in CACHE until the block ends."""
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wasmship", *command],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=err,
            env=base_env(WASMSHIP_CACHE_DIR=str(cache), **env),
        )
    try:
        url = read_first_line(proc, 120)
        yield Secure(proc, url, cache, log)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def fetch(
    served: Secure, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    """GET PATH over TLS, trusting only the certificate wasmship made (names are checked)."""
    trust = ssl.create_default_context(cafile=str(served.cert))
    connection = http.client.HTTPSConnection("127.0.0.1", served.port, context=trust, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert len(body) == int(response.getheader("Content-Length") or 0)  # the whole body came
    return response


@pytest.fixture(scope="module")
def offline_dist(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """hello built with the offline worker (a service worker needs a secure context)."""
    return build_fixture(tmp_path_factory.mktemp("https"), go, "hello", "--offline") / "dist"


@pytest.fixture
def secure(offline_dist: Path, tmp_path: Path) -> Iterator[Secure]:
    command = ["serve", str(offline_dist), "--port", "0", "--https"]
    with started(command, tmp_path, tmp_path / "cache", tmp_path / "serve.log") as served:
        yield served


def test_https_makes_a_certificate_once_in_the_cache_and_says_how_to_trust_it(
    secure: Secure, offline_dist: Path, tmp_path: Path
) -> None:
    assert secure.url.startswith("https://127.0.0.1:"), secure.log()
    assert f"self-signed certificate ({secure.cert})" in secure.log("certificate-errors")
    assert "--ignore-certificate-errors" in secure.log()
    server_pem = secure.cert.with_name("server.pem")
    assert stat.S_IMODE(server_pem.stat().st_mode) == 0o600  # the private key is the user's only
    assert b"PRIVATE KEY" not in secure.cert.read_bytes()
    page = fetch(secure, "/")
    assert page.status == 200 and page.getheader("Cache-Control") == "no-cache"
    made = secure.cert.read_bytes()
    # A second server uses the certificate made by the first: trusted once, trusted for good.
    command = ["serve", str(offline_dist), "--port", "0", "--https"]
    with started(command, tmp_path, secure.cache, tmp_path / "again.log") as again:
        assert fetch(again, "/").status == 200
    assert secure.cert.read_bytes() == made


def test_the_module_comes_compressed_over_tls(secure: Secure, offline_dist: Path) -> None:
    module = manifest_of(offline_dist)["targets"][0]["files"]["main.wasm"]["path"]
    response = fetch(secure, f"/{module}", {"Accept-Encoding": "br"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "br"
    assert response.getheader("Content-Type") == "application/wasm"


def test_plain_http_to_the_https_port_is_told_to_use_https(secure: Secure) -> None:
    with socket.create_connection(("127.0.0.1", secure.port), timeout=10) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = plain.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"use https://" in answer
    assert fetch(secure, "/").status == 200  # the server is still answering


def test_a_client_that_never_handshakes_is_cut_at_the_head_deadline(
    offline_dist: Path, tmp_path: Path
) -> None:
    from wasmship.delivery.dist_index import DistIndex
    from wasmship.delivery.tls import context, machine_certificate
    from wasmship.preview import DistServer

    class Quick(DistServer):
        head_timeout = 0.5

    certificate = machine_certificate(tmp_path / "cache", "127.0.0.1")
    server = Quick(("127.0.0.1", 0), DistIndex(offline_dist), None, None, context(certificate))

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(5)]
        began = time.monotonic()
        for connection in silent:
            assert connection.recv(1) == b""  # closed by the server, not by our timeout
            connection.close()
        assert time.monotonic() - began < 5
        assert server.guard.open_count() == 0 or _drains(server)
        # A real client still gets its answer.
        trust = ssl.create_default_context(cafile=str(certificate.cert))
        client = http.client.HTTPSConnection("127.0.0.1", port, context=trust, timeout=10)
        client.request("GET", "/index.html")
        assert client.getresponse().status == 200
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def _drains(server: object) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if server.guard.open_count() == 0:  # type: ignore[attr-defined]
            return True
        time.sleep(0.05)
    return False


# The state of the active worker once the registration has one; "timeout" after 20 s.
WORKER_READY = """Promise.race([
  navigator.serviceWorker.ready.then((r) => r.active ? r.active.state : null),
  new Promise((resolve) => setTimeout(() => resolve("timeout"), 20000)),
])"""


@pytest.fixture(scope="module")
def trusting_browser(browser: Browser) -> Iterator[Browser]:
    """Chromium told to accept the made certificate, as the trust line says (Playwright's
    ignore_https_errors alone lets the page load but not its service worker's script).
    Launched through the suite's Playwright: a second sync Playwright in one worker fails."""
    executable = need("chromium")
    args = [*CHROMIUM_ARGS, "--ignore-certificate-errors"]
    chromium = browser.browser_type.launch(executable_path=executable, headless=True, args=args)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.mark.browser
def test_chromium_gets_a_secure_context_and_the_offline_worker_registers(
    secure: Secure, offline_dist: Path, trusting_browser: Browser
) -> None:
    module = manifest_of(offline_dist)["targets"][0]["files"]["main.wasm"]["path"]
    context = trusting_browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        codings: dict[str, str | None] = {}
        page.on(
            "response",
            lambda r: codings.update({r.url: r.headers.get("content-encoding")}),
        )
        console = open_app(page, secure.url)
        assert_app_ran(page, console)
        assert page.evaluate("window.isSecureContext") is True
        assert page.evaluate(WORKER_READY) in ("activating", "activated"), console.messages
        assert codings.get(secure.url + module) == "br", codings
    finally:
        context.close()


def test_check_passes_over_https_trusting_the_made_certificate(secure: Secure) -> None:
    # check trusts what OpenSSL trusts: SSL_CERT_FILE adds the made certificate.
    env = base_env(SSL_CERT_FILE=str(secure.cert))
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "check", secure.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    untrusted = subprocess.run(
        [sys.executable, "-m", "wasmship", "check", secure.url],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert untrusted.returncode != 0
    assert "certificate" in (untrusted.stdout + untrusted.stderr).lower()


def test_dev_serves_over_https_and_plain_http_is_told_to_use_it(go: Go, tmp_path: Path) -> None:
    root = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    command = ["dev", "--port", "0", "--https"]
    with started(
        command, root, tmp_path / "cache", tmp_path / "dev.log", WASMSHIP_GO=go.binary
    ) as dev:
        assert dev.url.startswith("https://127.0.0.1:"), dev.log()
        assert "self-signed certificate" in dev.log("certificate-errors")
        assert fetch(dev, "/").getheader("Content-Type") == "text/html; charset=utf-8"
        with socket.create_connection(("127.0.0.1", dev.port), timeout=10) as plain:
            plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert plain.recv(4096).startswith(b"HTTP/1.1 400 ")


def test_wasmship_toml_can_ask_for_https_and_give_the_certificate(
    offline_dist: Path, tmp_path: Path
) -> None:
    from wasmship.delivery.tls import machine_certificate

    made = machine_certificate(tmp_path / "elsewhere", "127.0.0.1")  # as mkcert would give them
    (tmp_path / "wasmship.toml").write_text(f'cert = "{made.cert}"\nkey = "{made.key}"\n')
    command = ["serve", str(offline_dist), "--port", "0"]
    with started(command, tmp_path, tmp_path / "cache", tmp_path / "serve.log") as served:
        assert served.url.startswith("https://"), served.log()
        trust = ssl.create_default_context(cafile=str(made.cert))
        connection = http.client.HTTPSConnection("127.0.0.1", served.port, context=trust)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()
        assert "self-signed" not in served.log("Ctrl-C")  # the user's own: nothing to trust
    assert not (tmp_path / "cache" / "tls").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--cert", "{cert}"], "--cert needs --key too"),
        (["--key", "{key}"], "--key needs --cert too"),
        (["--cert", "{cert}", "--key", "{cert}"], "cannot use the certificate"),
        (["--cert", "{missing}", "--key", "{key}"], "does not exist"),
    ],
)
def test_a_wrong_certificate_is_a_usage_error(
    offline_dist: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    from wasmship.delivery.tls import machine_certificate

    made = machine_certificate(tmp_path / "elsewhere", "127.0.0.1")
    given = [a.format(cert=made.cert, key=made.key, missing=tmp_path / "nope.pem") for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "serve", str(offline_dist), "--port", "0", *given],
        cwd=tmp_path,
        env=base_env(WASMSHIP_CACHE_DIR=str(tmp_path / "cache")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert said in proc.stderr and "Traceback" not in proc.stderr


def test_the_certificate_is_made_again_for_a_new_host_or_near_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wasmship.delivery import tls

    first = tls.machine_certificate(tmp_path, "127.0.0.1")
    assert set(first.names) >= {"localhost", "127.0.0.1", "::1"}
    assert (
        tls.machine_certificate(tmp_path, "localhost").cert.read_bytes() == first.cert.read_bytes()
    )
    wider = tls.machine_certificate(tmp_path, "192.0.2.7")  # a LAN address: named too
    assert "192.0.2.7" in wider.names and "localhost" in wider.names
    monkeypatch.setattr(tls, "VALID_DAYS", 3)  # inside RENEW_DAYS: made again next time
    short = tls.machine_certificate(tmp_path, "192.0.2.8").cert.read_bytes()
    again = tls.machine_certificate(tmp_path, "::1")
    assert again.cert.read_bytes() != short
    assert set(again.names) == {"localhost", "127.0.0.1", "::1"}  # only what is asked now


def test_the_size_bound_never_drops_the_certificate_and_clean_cache_does(tmp_path: Path) -> None:
    from wasmship import cachedir
    from wasmship.cleanup import clean_cache
    from wasmship.delivery.tls import held, machine_certificate

    made = machine_certificate(tmp_path, "127.0.0.1")
    os.utime(made.cert.parent, (0, 0))  # the oldest entry of all
    assert cachedir.bound(tmp_path, 0) == []
    assert made.cert.exists()
    with held(made):
        clean_cache(tmp_path)
        assert made.cert.exists()  # a running server's certificate stays
    clean_cache(tmp_path)
    assert not made.cert.exists()


def test_https_resolves_from_the_file_the_environment_and_the_flag(tmp_path: Path) -> None:
    from wasmship.settings.serving import resolve_serve

    (tmp_path / "wasmship.toml").write_text('https = true\ncache-dir = "kept"\n')
    assert resolve_serve(tmp_path, environ={}).https is True
    assert resolve_serve(tmp_path, environ={}).cache_root == tmp_path / "kept"
    off = resolve_serve(tmp_path, environ={"WASMSHIP_HTTPS": "0"})
    assert off.https is False
    assert resolve_serve(tmp_path, {"https": True}, environ={"WASMSHIP_HTTPS": "0"}).https
    (tmp_path / "wasmship.toml").write_text("htps = true\n")
    with pytest.raises(UsageError, match="did you mean 'https'"):
        resolve_serve(tmp_path, environ={})
