"""Forwarding a preview server's request to a backend (`--proxy`), streamed both ways.

One connection to the backend per request. The request body is copied as it arrives (a
Content-Length body, or chunks re-sent as chunks); the response as the backend sends it, each
piece written as soon as it is read, so a server-sent event stream arrives event by event. A
WebSocket (any `Upgrade`) answered with 101 becomes a raw byte pipe both ways. Hop-by-hop
headers are dropped, Host is the backend's, and X-Forwarded-For/-Proto/-Host say who asked.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from typing import cast

from wasmship.delivery.connections import is_header_safe
from wasmship.delivery.proxy_routes import ProxyRoute

CONNECT_TIMEOUT = 5.0  # seconds to reach the backend
READ_TIMEOUT = 120.0  # seconds the backend may be silent (for its head, or within a body)
PIPE_IDLE = 3600.0  # seconds a WebSocket may be silent both ways before it is cut
CHUNK = 64 * 1024
MAX_CHUNK_LINE = 4096
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_SET_HERE = frozenset(
    {"host", "expect", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
)
_NO_BODY = frozenset({204, 304})


class ClientGone(Exception):
    """The client's request body ended early or was malformed."""


def forward(handler: BaseHTTPRequestHandler, route: ProxyRoute) -> None:
    """Answer HANDLER's request from ROUTE's backend; 502 (504 on a timeout) when it fails."""
    target = route.target(handler.path)
    if not (is_header_safe(handler.command) and is_header_safe(target)):
        return _send_page(handler, 400, "bad request")
    upgrade = _upgrade(handler)
    try:
        backend = _connect(route)
    except OSError as exc:
        return _unreachable(handler, route, exc)
    with backend:
        try:
            backend.sendall(_request_head(handler, route, target, upgrade))
            _copy_request_body(handler, backend)
        except ClientGone:
            handler.close_connection = True
            return None
        except OSError as exc:
            return _unreachable(handler, route, exc)
        response = http.client.HTTPResponse(backend, method=handler.command)
        try:
            response.begin()
        except (OSError, http.client.HTTPException) as exc:
            return _unreachable(handler, route, exc)
        if upgrade and response.status == 101:
            return _pipe(handler, response, backend)
        try:
            _relay_response(handler, response)
        except (OSError, http.client.HTTPException):
            handler.close_connection = True  # either side went away (or broke off) mid-body
    return None


def _connect(route: ProxyRoute) -> socket.socket:
    sock = socket.create_connection((route.host.strip("[]"), route.port), CONNECT_TIMEOUT)
    sock.settimeout(READ_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if route.scheme == "https":
        context = ssl.create_default_context()
        sock = context.wrap_socket(sock, server_hostname=route.host.strip("[]"))
    return sock


def _upgrade(handler: BaseHTTPRequestHandler) -> str | None:
    """The protocol the client asks to switch to (`websocket`), or None."""
    tokens = _connection_tokens(handler.headers.get_all("Connection") or [])
    value = handler.headers.get("Upgrade")
    return value if value and "upgrade" in tokens and is_header_safe(value) else None


def _connection_tokens(values: list[str]) -> set[str]:
    return {token.strip().lower() for value in values for token in value.split(",")}


def _request_head(
    handler: BaseHTTPRequestHandler, route: ProxyRoute, target: str, upgrade: str | None
) -> bytes:
    named = _connection_tokens(handler.headers.get_all("Connection") or [])
    chunked = _is_chunked(handler.headers.get("Transfer-Encoding"))
    lines = [f"{handler.command} {target} HTTP/1.1", f"Host: {route.netloc}"]
    for name, value in handler.headers.items():
        low = name.lower()
        if low in HOP_BY_HOP or low in named or low in _SET_HERE:
            continue
        if chunked and low == "content-length":
            continue  # both framings: chunked wins (RFC 9112 6.3), never both to the backend
        if is_header_safe(name) and is_header_safe(value):
            lines.append(f"{name}: {value}")
    client = handler.client_address[0] if handler.client_address else ""
    earlier = handler.headers.get("X-Forwarded-For")
    chain = f"{earlier}, {client}" if earlier and is_header_safe(earlier) else client
    lines.append(f"X-Forwarded-For: {chain}")
    secure = isinstance(handler.connection, ssl.SSLSocket)
    lines.append(f"X-Forwarded-Proto: {'https' if secure else 'http'}")
    host = handler.headers.get("Host")
    if host and is_header_safe(host):
        lines.append(f"X-Forwarded-Host: {host}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if upgrade:
        lines += ["Connection: Upgrade", f"Upgrade: {upgrade}"]
    else:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _is_chunked(value: str | None) -> bool:
    return bool(value) and "chunked" in (value or "").lower()


def _copy_request_body(handler: BaseHTTPRequestHandler, backend: socket.socket) -> None:
    """The client's body to the backend, piece by piece as it arrives."""
    rfile = handler.rfile
    if _is_chunked(handler.headers.get("Transfer-Encoding")):
        while True:
            line = rfile.readline(MAX_CHUNK_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ClientGone from None
            if size < 0:
                raise ClientGone
            if size == 0:
                while rfile.readline(MAX_CHUNK_LINE).strip():
                    pass  # trailers: dropped
                backend.sendall(b"0\r\n\r\n")
                return
            backend.sendall(f"{size:x}\r\n".encode())
            _copy_exactly(rfile, backend, size)
            if rfile.read(2) != b"\r\n":
                raise ClientGone
            backend.sendall(b"\r\n")
    length = handler.headers.get("Content-Length")
    if length is None:
        return
    if not length.strip().isdigit():
        raise ClientGone
    _copy_exactly(rfile, backend, int(length))


def _copy_exactly(source: io.BufferedIOBase, backend: socket.socket, size: int) -> None:
    while size > 0:
        data = source.read(min(size, CHUNK))
        if not data:
            raise ClientGone
        backend.sendall(data)
        size -= len(data)


def _relay_response(handler: BaseHTTPRequestHandler, response: http.client.HTTPResponse) -> None:
    """The backend's status, headers and body, each piece passed on as it arrives."""
    status = response.status
    has_body = handler.command != "HEAD" and status not in _NO_BODY and status >= 200
    named = _connection_tokens(response.msg.get_all("Connection") or [])
    length = response.msg.get("Content-Length")
    chunk_out = has_body and (response.chunked or length is None)
    http10 = handler.request_version == "HTTP/1.0"
    reason = response.reason if is_header_safe(response.reason) else ""
    handler.log_request(status)
    handler.send_response_only(status, reason)
    for name, value in response.msg.items():
        low = name.lower()
        if low in HOP_BY_HOP or low in named or (low == "content-length" and chunk_out):
            continue
        if is_header_safe(name) and is_header_safe(value):
            handler.send_header(name, value)
    if chunk_out and not http10:
        handler.send_header("Transfer-Encoding", "chunked")
    elif chunk_out:
        handler.close_connection = True  # an HTTP/1.0 client reads to the end of the connection
    handler.end_headers()
    if not has_body:
        return
    out = handler.wfile
    while True:
        data = response.read1(CHUNK)
        if not data:
            break
        out.write(
            f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunk_out and not http10 else data
        )
        out.flush()
    if chunk_out and not http10:
        out.write(b"0\r\n\r\n")
    if response.length not in (None, 0) and not response.chunked:
        handler.close_connection = True  # the backend's body ended short: so does ours


def _pipe(
    handler: BaseHTTPRequestHandler, response: http.client.HTTPResponse, backend: socket.socket
) -> None:
    """The 101 passed on, then bytes both ways until either side closes."""
    handler.log_request(101)
    handler.send_response_only(101, response.reason if is_header_safe(response.reason) else "")
    for name, value in response.msg.items():
        if name.lower() not in ("connection", "upgrade", "keep-alive") and is_header_safe(value):
            handler.send_header(name, value)
    upgrade = response.msg.get("Upgrade") or ""
    handler.send_header("Connection", "Upgrade")
    if is_header_safe(upgrade):
        handler.send_header("Upgrade", upgrade)
    handler.end_headers()
    handler.close_connection = True
    client = handler.connection
    client.settimeout(PIPE_IDLE)
    backend.settimeout(PIPE_IDLE)
    # response.fp holds what the backend sent after its head; handler.rfile what the client did.
    assert response.fp is not None
    back = threading.Thread(
        target=_copy_stream,
        args=(cast(io.BufferedIOBase, response.fp), client, backend, True),
        daemon=True,
    )
    back.start()
    _copy_stream(handler.rfile, backend, client, False)
    back.join()


def _copy_stream(
    source: io.BufferedIOBase, sink: socket.socket, other: socket.socket, ends_all: bool
) -> None:
    """SOURCE's bytes to SINK until it ends; ENDS_ALL: the backend closing ends both ways."""
    try:
        while data := source.read1(CHUNK):
            sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # the other way may still finish what it sends
            if ends_all:
                sink.shutdown(socket.SHUT_RD)  # the backend is gone: stop reading the client
    except OSError:
        for sock in (sink, other):  # a reset or a timeout: end both ways
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _unreachable(handler: BaseHTTPRequestHandler, route: ProxyRoute, exc: BaseException) -> None:
    timed_out = isinstance(exc, TimeoutError)
    status = 504 if timed_out else 502
    message = (
        f"the backend {route.url} (--proxy {route.prefix}) did not answer: {_why(exc)}; "
        "is it running? (wasmship dev --backend can start it)"
    )
    handler.log_message("proxy %s: %s", route.prefix, message)
    _send_page(handler, status, message)


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g} s to connect or {READ_TIMEOUT:g} s to reply"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "its host name does not resolve"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, OSError):
        return str(exc.strerror or exc.__class__.__name__)
    return f"not an HTTP answer ({exc.__class__.__name__})"


def _send_page(handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
    body = f"{status} {message}\n".encode()
    handler.send_response(status)
    for name, value in (
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Length", str(len(body))),
    ):
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
