"""A real backend for the proxy tests: JSON, a server-sent event stream and a WebSocket echo,
and the raw-socket clients that read them through wasmship serve and dev."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WAIT = 10.0  # seconds any one read may take (a bound, never an assertion)


class Backend(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), BackendHandler)
        self.second_event = threading.Event()  # the test lets the stream go on

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Backend

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/api/events"):
            return self.events()
        if self.path.startswith("/api/ws"):
            return self.websocket()
        self.json({"method": "GET"})

    def do_POST(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.read(2)
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.json(
            {"method": "POST", "body": body.decode(), "length": self.headers["Content-Length"]}
        )

    def json(self, extra: dict[str, str]) -> None:
        body = json.dumps(
            {
                **extra,
                "path": self.path,
                "host": self.headers.get("Host"),
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                "forwarded_host": self.headers.get("X-Forwarded-Host"),
                "connection": self.headers.get("Connection"),
                "keep_alive": self.headers.get("Keep-Alive"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Keep-Alive", "timeout=5")  # hop-by-hop: the proxy drops it
        self.end_headers()
        self.wfile.write(body)

    def events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")  # the body ends with the connection
        self.end_headers()
        self.close_connection = True
        self.wfile.write(b"data: first\n\n")
        self.wfile.flush()
        # Nothing more until the test has seen the first event through the proxy.
        self.server.second_event.wait(WAIT * 3)
        self.wfile.write(b"data: second\n\n")

    def websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True
        opcode, payload = read_frame(self.rfile.read)
        self.wfile.write(frame(opcode, b"echo: " + payload, mask=False))


@contextmanager
def running_backend() -> Iterator[Backend]:
    backend = Backend()
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        backend.second_event.set()
        backend.shutdown()
        backend.server_close()


def frame(opcode: int, payload: bytes, *, mask: bool) -> bytes:
    """One final WebSocket frame (payloads under 126 bytes)."""
    assert len(payload) < 126
    head = bytes([0x80 | opcode, (0x80 if mask else 0) | len(payload)])
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(read: object) -> tuple[int, bytes]:
    """A frame's opcode and unmasked payload, read with READ(n)."""
    assert callable(read)
    first, second = struct.unpack("!BB", read(2))
    length = second & 0x7F
    key = read(4) if second & 0x80 else b""
    payload = read(length)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return first & 0x0F, payload


def raw_request(port: int, head: str) -> socket.socket:
    """A connection to PORT that has sent HEAD (CRLF line ends added)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.sendall(head.replace("\n", "\r\n").encode())
    return sock


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> bytes:
    """Bytes from SOCK up to and including MARKER; a timeout (WAIT) fails the test."""
    data = b""
    while marker not in data:
        more = sock.recv(4096)
        if not more:
            raise AssertionError(f"connection closed before {marker!r}; got {data!r}")
        data += more
        assert len(data) < limit
    return data


def websocket_echo(port: int, path: str) -> tuple[bytes, bytes]:
    """The 101 head and the echo of one text frame, over a raw socket through PORT."""
    key = base64.b64encode(os.urandom(16)).decode()
    with raw_request(
        port,
        f"GET {path} HTTP/1.1\nHost: 127.0.0.1:{port}\nUpgrade: websocket\n"
        f"Connection: keep-alive, Upgrade\nSec-WebSocket-Key: {key}\n"
        "Sec-WebSocket-Version: 13\n\n",
    ) as sock:
        head = read_until(sock, b"\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        sock.sendall(frame(1, b"hello", mask=True))
        buffered = bytearray(rest)

        def read(n: int) -> bytes:
            while len(buffered) < n:
                more = sock.recv(4096)
                assert more, "closed mid-frame"
                buffered.extend(more)
            taken = bytes(buffered[:n])
            del buffered[:n]
            return taken

        opcode, payload = read_frame(read)
        assert opcode == 1
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest())
        assert b"Sec-WebSocket-Accept: " + accept in head, head
        return head.split(b"\r\n\r\n", 1)[0], payload
