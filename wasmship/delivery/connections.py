"""What the preview servers allow a connection: a deadline for its request head, a cap on how
many are open, header lines free of control characters, and a log line with the time."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from datetime import datetime

HEAD_TIMEOUT = 5.0  # seconds to send a whole request line and headers (or, idle, to start one)
MAX_CONNECTIONS = 256  # open at once; past it the longest-waiting idle one is closed
_REAP_EVERY = 0.5

_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # controls but HTAB: they end or split a line
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def is_header_safe(text: str) -> bool:
    """Whether TEXT can go into a header line as it is: no CR, LF or other control character."""
    return _UNSAFE.search(text) is None


def log_time(now: datetime | None = None) -> str:
    """The time as the common log format writes it: `10/Oct/2000:13:55:36 -0700` (any locale)."""
    now = now or datetime.now().astimezone()
    return f"{now.day:02d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S %z}"


def log_safe(text: str) -> str:
    """TEXT with control characters escaped, so a request cannot write to the terminal."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\t", "\\t"))


class ConnectionGuard:
    """The open connections of one server, and since when each has waited for a request head.

    One thread closes a connection whose head has not arrived within HEAD_TIMEOUT (slow or
    silent clients, a keep-alive connection left idle); past MAX_CONNECTIONS a new connection
    closes the oldest idle one, or is refused when none is idle.
    """

    def __init__(self, head_timeout: float = HEAD_TIMEOUT, limit: int = MAX_CONNECTIONS) -> None:
        self.head_timeout = head_timeout
        self.limit = limit
        self._lock = threading.Lock()
        self._waiting_since: dict[socket.socket, float | None] = {}  # None: answering
        self._expired: set[socket.socket] = set()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="wasmship-reaper", daemon=True)
        self._reaper.start()

    def admit(self, connection: socket.socket) -> bool:
        """Count CONNECTION in; False when the cap is reached and no idle one can make room."""
        with self._lock:
            if len(self._waiting_since) >= self.limit:
                idle = [(t, c) for c, t in self._waiting_since.items() if t is not None]
                idle = [(t, c) for t, c in idle if c not in self._expired]
                if not idle:
                    return False
                self._expire(min(idle, key=lambda pair: pair[0])[1])
            self._waiting_since[connection] = time.monotonic()
            return True

    def waiting(self, connection: socket.socket) -> None:
        """CONNECTION waits for a request head from now on: its deadline starts."""
        with self._lock:
            if connection in self._waiting_since:
                self._waiting_since[connection] = time.monotonic()

    def answering(self, connection: socket.socket) -> bool:
        """CONNECTION's head has arrived; False when its deadline passed first (close it)."""
        with self._lock:
            if connection in self._expired:
                return False
            self._waiting_since[connection] = None
            return True

    def closed(self, connection: socket.socket) -> None:
        """CONNECTION is gone."""
        with self._lock:
            self._waiting_since.pop(connection, None)
            self._expired.discard(connection)

    def open_count(self) -> int:
        """How many connections are open."""
        with self._lock:
            return len(self._waiting_since)

    def stop(self) -> None:
        """End the reaper thread."""
        self._stop.set()

    def _expire(self, connection: socket.socket) -> None:
        # Under the lock. shutdown() wakes the handler's blocked read (or TLS handshake), which
        # then sees EOF; the plain socket's, so a TLS connection's state is left to its thread.
        self._expired.add(connection)
        with contextlib.suppress(OSError):  # already gone
            socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def _reap(self) -> None:
        while not self._stop.wait(_REAP_EVERY):
            deadline = time.monotonic() - self.head_timeout
            with self._lock:
                late = [
                    c
                    for c, since in self._waiting_since.items()
                    if since is not None and since < deadline and c not in self._expired
                ]
                for connection in late:
                    self._expire(connection)
