"""Real nginx, Caddy and Apache serving a dist with the server configs wasmship wrote.

Loaded as a pytest plugin by tests/conftest.py: `configured` is the one dist built with every
server config, shared by the config tests and the end-to-end browser tests; `real_server`
starts nginx (with Debian's brotli static module), Caddy or Apache (reading the .htaccess)
over it on a free loopback port.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Go, base_env, build_fixture, missing, need

NGINX_BROTLI = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
REAL_SERVERS = ("nginx", "caddy", "apache")


@pytest.fixture(scope="session")
def configured(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """One build of the hello fixture with every server config (two flags, to test both forms)."""
    return (
        build_fixture(
            tmp_path_factory.mktemp("configured"),
            go,
            "hello",
            *("--server-config", "nginx,caddy", "--server-config", "netlify,apache"),
        )
        / "dist"
    )


@dataclass(frozen=True)
class Server:
    """A running nginx, Caddy or Apache on 127.0.0.1."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server never listened on {port}:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def nginx_config(dist: Path, prefix: Path, port: int) -> Path:
    """A minimal main config: the brotli module, temp paths in PREFIX, our snippet included."""
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / kind};" for kind in ("proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"load_module {NGINX_BROTLI};\n"
        "daemon off;\n"
        "master_process off;\n"  # one process, as the test's user: it can read the tmp dist
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "  access_log off;\n"
        f"  client_body_temp_path {prefix / 'body'};\n"
        f"{temp}\n"
        "  server {\n"
        f"    listen 127.0.0.1:{port};\n"
        f"    root {dist};\n"
        f"    include {dist / 'nginx.conf'};\n"
        "  }\n"
        "}\n"
    )
    return conf


def nginx_command(nginx: str, conf: Path, prefix: Path, *args: str) -> list[str]:
    """nginx with CONF, its prefix and early error log in PREFIX (never the system's)."""
    return [nginx, *args, "-c", str(conf), "-p", f"{prefix}/", "-e", str(prefix / "error.log")]


def need_nginx() -> str:
    nginx = need("nginx")
    if not NGINX_BROTLI.is_file():
        missing(f"{NGINX_BROTLI} is missing (libnginx-mod-http-brotli-static)")
    return nginx


def caddy_config(dist: Path, home: Path, port: int) -> Path:
    """A site on loopback that imports the generated Caddyfile; no admin endpoint.

    The site answers as 127.0.0.1 and as localhost (where Chromium uses dictionaries); the
    host in a site address does not bind, so `bind` keeps Caddy off the other interfaces.
    """
    conf = home / "Caddyfile"
    conf.write_text(
        "{\n\tadmin off\n}\n\n"
        f"http://127.0.0.1:{port}, http://localhost:{port} {{\n"
        "\tbind 127.0.0.1\n"
        f"\troot * {dist}\n"
        f"\timport {dist / 'Caddyfile'}\n"
        "}\n"
    )
    return conf


def caddy_env(home: Path) -> dict[str, str]:
    return base_env(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
    )


def apache_config(dist: Path, home: Path, port: int) -> Path:
    """A self-contained httpd.conf (not Debian's /etc/apache2): DIST as the root, .htaccess on.

    Only the modules the .htaccess needs, plus mod_dir for `/`; no mod_deflate, so what is
    tested is the .htaccess's own negotiation. Run with -X: one process that does not switch
    users (as root it logs an AH02155 alert about `User` and serves on), so it can read the
    test's private tmp dist.
    """
    modules = ("mpm_event", "authz_core", "mime", "rewrite", "headers", "dir")
    loads = "".join(f"LoadModule {m}_module {APACHE_MODULES / f'mod_{m}.so'}\n" for m in modules)
    conf = home / "httpd.conf"
    conf.write_text(
        f"ServerRoot {home}\n"
        f"{loads}"
        "ServerName 127.0.0.1\n"
        f"Listen 127.0.0.1:{port}\n"
        f"PidFile {home / 'httpd.pid'}\n"
        f"ErrorLog {home / 'error.log'}\n"
        f"DefaultRuntimeDir {home}\n"
        "TypesConfig /etc/mime.types\n"
        f"DocumentRoot {dist}\n"
        "<Directory />\n  AllowOverride None\n  Require all denied\n</Directory>\n"
        # The least the .htaccess asks for (docs/server-configs.md), not All.
        f"<Directory {dist}>\n  AllowOverride FileInfo AuthConfig\n"
        "  Require all granted\n</Directory>\n"
        "DirectoryIndex index.html\n"
    )
    return conf


def apache_command(apache: str, conf: Path) -> list[str]:
    return [apache, "-X", "-f", str(conf), "-DFOREGROUND"]


def server_command(
    name: str, dist: Path, home: Path, port: int
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run nginx, Caddy or Apache (NAME) over DIST."""
    if name == "nginx":
        return nginx_command(need_nginx(), nginx_config(dist, home, port), home), base_env()
    if name == "caddy":
        conf = caddy_config(dist, home, port)
        cmd = [need("caddy"), "run", "--config", str(conf), "--adapter", "caddyfile"]
        return cmd, caddy_env(home)
    if name == "apache":
        return apache_command(need("apache2"), apache_config(dist, home, port)), base_env()
    raise AssertionError(f"no real server called {name!r}")


@contextmanager
def real_server(name: str, dist: Path, home: Path) -> Iterator[Server]:
    """Run nginx, Caddy or Apache (NAME) over DIST with the config wasmship wrote, then stop it."""
    port = free_port()
    log = home / "server.log"
    cmd, env = server_command(name, dist, home, port)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_listening(proc, port, log)
        yield Server(name, port)
    finally:
        stop(proc)
