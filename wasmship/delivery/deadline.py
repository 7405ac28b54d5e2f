"""One deadline over a whole request: the name lookup, connecting, the headers and the body.

A socket timeout bounds each read, not a server that sends a byte a second, and nothing bounds
getaddrinfo; here every step waits at most until the request's deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from types import TracebackType
from typing import Any


def seconds_left(deadline: float) -> float:
    """Seconds until DEADLINE (time.monotonic), as much as a socket or a thread can wait."""
    return min(max(0.0, deadline - time.monotonic()), threading.TIMEOUT_MAX)


Address = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


def resolve(host: str, port: int, deadline: float) -> list[Address]:
    """HOST's addresses, looked up in a thread so that a resolver that never answers costs no
    more than the time left until DEADLINE (TimeoutError then)."""
    found: list[Address] = []
    failed: list[OSError] = []

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(seconds_left(deadline))
    if thread.is_alive():
        raise TimeoutError(f"no address for {host}")
    if failed:
        raise failed[0]
    return found


def connect(host: str, port: int, deadline: float) -> socket.socket:
    """A socket connected to HOST:PORT (its addresses in the resolver's order) by DEADLINE."""
    last: OSError | None = None
    for family, kind, proto, _, address in resolve(host, port, deadline):
        left = seconds_left(deadline)
        if left <= 0:
            raise TimeoutError(f"no connection to {host}")
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"no address for {host}")


class PlainConnection(http.client.HTTPConnection):
    """An HTTP connection whose connect, lookup included, ends by its `deadline`."""

    deadline = 0.0

    def connect(self) -> None:
        self.sock = connect(self.host, self.port, self.deadline)


class TLSConnection(http.client.HTTPSConnection, PlainConnection):
    """PlainConnection under TLS: HTTPSConnection.connect wraps what PlainConnection opened."""


class Watchdog:
    """Shuts a connection's socket down at a deadline, so no read of the request outlives it."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self.expired = False
        self._connection = connection
        self._timer = threading.Timer(seconds_left(deadline), self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired = True  # first: a connect that ends now sees it (see Fetcher._open)
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: a blocked read returns at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()


def check_deadline(deadline: float) -> None:
    """TimeoutError once DEADLINE has passed (between reads, for work that is not a read)."""
    if time.monotonic() >= deadline:
        raise TimeoutError()
