"""What went wrong with a request `check` made, in one line: a timeout, a closed connection,
a failure to connect, resolve or speak TLS."""

from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urlsplit


def describe_closed(exc: BaseException, url: str, received: int) -> str:
    """One line saying that the server at URL closed the connection, and when (after
    RECEIVED bytes of the body)."""
    netloc = urlsplit(url).netloc
    if isinstance(exc, http.client.IncompleteRead):
        total = received + (exc.expected or 0)
        return f"GET {url}: {netloc} closed the connection after {received} of {total} bytes"
    return f"GET {url}: {netloc} closed the connection ({exc})"


def describe_timeout(
    url: str, timeout: float, response: http.client.HTTPResponse | None, received: int
) -> str:
    """One line saying how far a request to URL got before its TIMEOUT ran out."""
    netloc = urlsplit(url).netloc
    if response is None:
        return f"GET {url}: no answer from {netloc} within {timeout:g} s (raise --timeout?)"
    declared = (response.getheader("Content-Length") or "").strip()
    got = f"{received} of {declared} bytes" if declared.isdigit() else f"{received} bytes so far"
    return (
        f"GET {url}: the body from {netloc} did not arrive within {timeout:g} s "
        f"({got}; raise --timeout?)"
    )


def describe_failure(exc: BaseException, url: str) -> str:
    """One line saying why a request to URL failed, and what to do about it."""
    netloc = urlsplit(url).netloc
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
    if isinstance(exc, ValueError):  # what url_problem cannot see before http.client does
        return f"GET {url}: not a usable URL ({exc})"
    raise exc
