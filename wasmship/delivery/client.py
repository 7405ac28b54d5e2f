"""A small HTTP client for `check`: raw bodies (no automatic decompression), clear errors."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

from wasmship import __version__
from wasmship.errors import CheckError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Reply:
    """One HTTP response, its body exactly as sent (still content-coded)."""

    url: str
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        """The header NAME, several occurrences joined with commas; None if absent."""
        values = self.headers.get_all(name)
        return ", ".join(values) if values else None


class Fetcher:
    """GETs over kept-alive connections, one per origin; every failure is a CheckError."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections: dict[tuple[str, str], http.client.HTTPConnection] = {}

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        key = (scheme, netloc)
        if key not in self._connections:
            if scheme == "https":
                self._connections[key] = http.client.HTTPSConnection(netloc, timeout=self.timeout)
            elif scheme == "http":
                self._connections[key] = http.client.HTTPConnection(netloc, timeout=self.timeout)
            else:
                raise CheckError(
                    f"{scheme}://{netloc}: only http:// and https:// URLs can be checked"
                )
        return self._connections[key]

    def get(self, url: str, headers: Mapping[str, str]) -> Reply:
        """GET URL once, sending HEADERS (Accept-Encoding among them) and nothing implicit."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {"User-Agent": f"wasmship-check/{__version__}", **headers}
        for attempt in (1, 2):
            connection = self._connection(parts.scheme, parts.netloc)
            reused = connection.sock is not None
            try:
                connection.request("GET", target, headers=sent)
                response = connection.getresponse()
                body = response.read()
                return Reply(url, response.status, response.msg, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                connection.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle kept-alive connection: ask again
                raise CheckError(
                    f"GET {url}: {parts.netloc} closed the connection ({exc})"
                ) from exc
            except Exception as exc:
                connection.close()
                raise CheckError(describe_failure(exc, url, self.timeout)) from exc
        raise AssertionError("unreachable")

    def follow(self, url: str, headers: Mapping[str, str]) -> Reply:
        """GET URL, following up to MAX_REDIRECTS redirects (for finding the manifest only)."""
        for _ in range(MAX_REDIRECTS + 1):
            reply = self.get(url, headers)
            location = reply.header("Location")
            if reply.status not in REDIRECTS or not location:
                return reply
            url = urljoin(url, location)
        raise CheckError(f"GET {url}: more than {MAX_REDIRECTS} redirects")


def describe_failure(exc: BaseException, url: str, timeout: float) -> str:
    """One line saying why a request to URL failed, and what to do about it."""
    netloc = urlsplit(url).netloc
    if isinstance(exc, TimeoutError):
        return f"GET {url}: no answer from {netloc} within {timeout:g} s (raise --timeout?)"
    if isinstance(exc, ConnectionRefusedError):
        return f"GET {url}: connection refused by {netloc}; is the server running on that port?"
    if isinstance(exc, socket.gaierror):
        return f"GET {url}: cannot resolve {urlsplit(url).hostname}: {exc.strerror}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"GET {url}: the TLS certificate of {netloc} failed verification: {exc.verify_message}"
        )
    if isinstance(exc, ssl.SSLError):
        return f"GET {url}: TLS error with {netloc}: {exc.reason or exc}"
    if isinstance(exc, http.client.HTTPException):
        return f"GET {url}: {netloc} sent something that is not HTTP ({type(exc).__name__}: {exc})"
    if isinstance(exc, OSError):
        return f"GET {url}: cannot reach {netloc}: {exc.strerror or exc}"
    if isinstance(exc, ValueError):  # e.g. a port that is not a number
        return f"GET {url}: not a usable URL ({exc})"
    raise exc
