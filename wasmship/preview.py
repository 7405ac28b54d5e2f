"""`wasmship serve`: a preview server for a dist that behaves like a correct production server."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

from wasmship import __version__
from wasmship.delivery.connections import (
    HEAD_TIMEOUT,
    MAX_CONNECTIONS,
    ConnectionGuard,
    is_header_safe,
    log_safe,
    log_time,
)
from wasmship.delivery.dist_index import DistIndex
from wasmship.delivery.negotiation import (
    NOSNIFF,
    REVALIDATE_CACHE,
    NotAcceptable,
    cache_control,
    choose_variant,
    negotiable,
    none_match,
    parse_accept_encoding,
    response_vary,
    use_as_dictionary,
)
from wasmship.delivery.proxy_routes import ProxyRoute, refuse_shadowing, route_for
from wasmship.delivery.request import ByteRange, Unsatisfiable, parse_range, request_path
from wasmship.delivery.tls import Certificate, context, handshake, wrap
from wasmship.distformat.digests import parse_available_dictionary
from wasmship.distformat.names import content_type
from wasmship.errors import UsageError

Log = Callable[[str], None]


@dataclass(frozen=True)
class ServeConfig:
    """What `wasmship serve` serves and where it listens."""

    dist: Path
    host: str = "127.0.0.1"
    port: int = 8000
    quiet: bool = False
    proxies: tuple[ProxyRoute, ...] = ()  # --proxy and [[proxy]], longest prefix first
    certificate: Certificate | None = None  # HTTPS with it (delivery.tls); None: plain HTTP


class DistServer(ThreadingHTTPServer):
    """A thread per connection; a deep listen queue so bursts of connections are not refused."""

    daemon_threads = True
    request_queue_size = 1024
    head_timeout = HEAD_TIMEOUT  # seconds for a request's line and headers
    max_connections = MAX_CONNECTIONS
    proxies: tuple[ProxyRoute, ...] = ()  # paths answered by backends (delivery/proxy.py)

    def __init__(
        self,
        address: tuple[str, int],
        index: DistIndex,
        log: Log | None,
        handler: type[DistHandler] | None = None,  # wasmship dev answers some paths itself
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.index = index
        self.tls = tls
        self.log = log
        self.guard = ConnectionGuard(self.head_timeout, self.max_connections)
        super().__init__(address, handler or DistHandler)  # on failure: server_close()

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        if self.tls is not None:  # the handshake is the handler's, within the head's deadline
            connection = wrap(self.tls, connection)
        return connection, address

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.guard.admit(request):
            return super().process_request(request, client_address)
        # Every connection is busy answering: this one is told so rather than queued (under
        # TLS it is only closed: writing would mean a handshake in the accepting thread).
        with contextlib.suppress(OSError):
            if self.tls is None:
                request.sendall(_TOO_MANY)
        self.shutdown_request(request)
        return None

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        self.guard.closed(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        self.guard.stop()
        super().server_close()

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # the client went away; nothing to report
        if self.log:
            self.log(f"error serving {client_address}: {exc!r}")


_TOO_MANY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class UnsafeHeader(Exception):
    """A header name or value with a control character: it is never written."""


class DistHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the dist by the manifest's rules."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: a response's head and body are separate writes; with Nagle the body would
    # wait for the client's delayed ACK (40 ms) on every kept-alive request after the first.
    disable_nagle_algorithm = True
    server_version = f"wasmship/{__version__}"
    sys_version = ""
    timeout = 120  # a stalled read or write (the server's guard bounds a request's head)
    server: DistServer
    secured = False  # under TLS: whether this connection's handshake is done

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        # The common log format: who, when, then the request line, status and size.
        if self.server.log:
            when = log_time()
            self.server.log(f"{self.address_string()} - - [{when}] {log_safe(format % args)}")

    def handle_one_request(self) -> None:
        self.server.guard.waiting(self.connection)  # the request head's deadline starts
        if self.server.tls is not None and not self.secured:
            self.secured = handshake(self.connection)
            if not self.secured:
                self.close_connection = True
                return
        super().handle_one_request()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if not self.server.guard.answering(self.connection):
            self.close_connection = True  # its head came too late: the guard cut it off
            return False
        return True

    def send_header(self, keyword: str, value: str) -> None:
        # The last guard: data must never end a header line and start another.
        if not (is_header_safe(keyword) and is_header_safe(value)):
            raise UnsafeHeader(f"refused to send header {keyword!r}: {value!r}")
        super().send_header(keyword, value)

    def do_GET(self) -> None:
        if not self.proxied():
            self.respond(send_body=True)

    def do_HEAD(self) -> None:
        if not self.proxied():
            self.respond(send_body=False)

    def refuse_method(self) -> None:
        if not self.proxied():
            self.send_plain(405, "method not allowed", [("Allow", "GET, HEAD")])

    def proxied(self) -> bool:
        """Whether a --proxy route took this request (and answered it)."""
        route = route_for(self.server.proxies, self.path) if self.server.proxies else None
        if route is None:
            return False
        from wasmship.delivery.proxy import forward  # http.client, ssl: only when proxying

        forward(self, route)
        return True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method

    def send_plain(self, status: int, message: str, headers: list[tuple[str, str]]) -> None:
        body = f"{status} {message}\n".encode()
        self.send_response(status)
        for name, value in [
            *headers,
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", REVALIDATE_CACHE),
            ("X-Content-Type-Options", NOSNIFF),
            ("Content-Length", str(len(body))),
        ]:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond(self, *, send_body: bool) -> None:
        relative = request_path(self.path)
        if relative is None:
            return self.send_plain(404, "not found", [])
        index = self.server.index
        entry = index.files().get(relative) or index.route_page(relative)
        headers: list[tuple[str, str]] = []
        variant = None
        if entry is not None:
            vary = response_vary(entry)
            if vary:
                headers.append(("Vary", vary))
            # Relative, as the server configs send it: the browser resolves it against this URL.
            pattern = entry.dictionary_pattern
            if pattern is not None:
                headers.append(("Use-As-Dictionary", use_as_dictionary(pattern)))
            try:
                variant = choose_variant(
                    parse_accept_encoding(self.headers.get("Accept-Encoding")),
                    negotiable(entry),
                    parse_available_dictionary(self.headers.get("Available-Dictionary")),
                )
            except NotAcceptable:
                return self.send_plain(406, "no acceptable content coding", headers)
        opened = index.open(variant.path if variant else entry.path if entry else relative)
        if opened is None:
            return self.send_plain(404, "not found", [])
        file, info = opened
        owner = entry or index.owner_of(relative)
        if entry is not None:
            headers += index.headers_for(entry)  # [headers]: checked, never the dist's own
        with file:
            if variant is not None:
                etag = variant.etag
            elif entry is not None:
                etag = entry.etag
            else:
                etag = index.etag_of(file, info)
            headers += [
                ("ETag", etag),
                ("Cache-Control", cache_control(owner.immutable) if owner else REVALIDATE_CACHE),
                ("X-Content-Type-Options", NOSNIFF),
            ]
            if none_match(self.headers.get("If-None-Match"), etag):
                return self.send_head(304, headers, 0)
            headers.append(
                ("Content-Type", entry.content_type if entry else content_type(relative))
            )
            if variant is not None:
                headers.append(("Content-Encoding", variant.coding))
                return self.send_file(200, headers, file, ByteRange(0, info.st_size - 1), send_body)
            headers.append(("Accept-Ranges", "bytes"))
            whole = ByteRange(0, info.st_size - 1)
            if_range = self.headers.get("If-Range")
            if if_range is not None and if_range.strip() != etag:
                return self.send_file(200, headers, file, whole, send_body)
            try:
                part = parse_range(self.headers.get("Range"), info.st_size)
            except Unsatisfiable:
                unsatisfied = [("Content-Range", f"bytes */{info.st_size}"), ("ETag", etag)]
                return self.send_plain(416, "range not satisfiable", unsatisfied)
            if part is None:
                return self.send_file(200, headers, file, whole, send_body)
            headers.append(("Content-Range", part.content_range(info.st_size)))
            return self.send_file(206, headers, file, part, send_body)

    def send_head(self, status: int, headers: list[tuple[str, str]], length: int) -> None:
        unsafe = [name for name, value in headers if not is_header_safe(f"{name}{value}")]
        if unsafe:
            self.log_message("refused: %s would carry a control character", ", ".join(unsafe))
            return self.send_plain(500, "the manifest has a value no header can carry", [])
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_file(
        self,
        status: int,
        headers: list[tuple[str, str]],
        file: BinaryIO,
        part: ByteRange,
        send_body: bool,
    ) -> None:
        self.send_head(status, headers, part.length)
        if send_body and part.length > 0:
            # Under TLS sendfile reads from the file's position (seeking only to a nonzero
            # offset), and an ETag may have been read from it: start where the part starts.
            file.seek(part.start)
            self.connection.sendfile(file, part.start, part.length)


def url_of(server: DistServer) -> str:
    """The URL a browser opens for SERVER (IPv6 hosts in brackets)."""
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if server.tls is not None else "http"
    return f"{scheme}://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    """Whether HOST is this machine only (localhost or a loopback address)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reach_warning(host: str) -> str | None:
    """What to warn about when other machines can reach HOST; None for this machine only."""
    if is_loopback(host):
        return None
    if host in ("", "0.0.0.0", "::"):
        return f"--host {host!r} listens on every network interface: other machines can reach it"
    return f"{host} is reachable from other machines"


def listen(
    host: str,
    port: int,
    index: DistIndex,
    log: Log | None,
    handler: type[DistHandler] | None = None,
    certificate: Certificate | None = None,
) -> DistServer:
    """A server for INDEX bound to HOST:PORT (HTTPS with CERTIFICATE); a clear error when the
    port is taken."""
    tls = context(certificate) if certificate is not None else None
    try:
        return DistServer((host, port), index, log, handler, tls)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one) or --host"
        ) from exc


def start(config: ServeConfig, log: Log | None = None) -> DistServer:
    """Read the dist and listen; the caller runs serve_forever()."""
    index = DistIndex(config.dist)
    refuse_shadowing(config.proxies, index.files(), f"the dist {config.dist}")
    log = None if config.quiet else log
    server = listen(config.host, config.port, index, log, certificate=config.certificate)
    server.proxies = config.proxies
    return server


def serve(config: ServeConfig, announce: Callable[[str], None], log: Log | None = None) -> None:
    """Serve CONFIG.dist until Ctrl-C or SIGTERM (raised as KeyboardInterrupt), then stop."""
    server = start(config, log)
    try:
        announce(url_of(server))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
