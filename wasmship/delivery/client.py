"""A small HTTP client for `check`: raw bodies (no automatic decompression), clear errors.

Every body is read up to a fixed ceiling (MAX_FILE, whatever a manifest claims), hashed and
decoded as it arrives and held only when asked (a manifest, a page, a dictionary); every
request, from the name lookup to the body's last byte, ends within the timeout: a hostile or
broken server can cost neither memory nor time.
"""

from __future__ import annotations

import hashlib
import http.client
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import quote, urljoin, urlsplit

from wasmship import __version__
from wasmship.delivery.deadline import (
    PlainConnection,
    TLSConnection,
    Watchdog,
    check_deadline,
    seconds_left,
)
from wasmship.delivery.failures import describe_closed, describe_failure, describe_timeout
from wasmship.distformat.model import FileEntry
from wasmship.encodings.decoders import IDENTITY, Decoding
from wasmship.errors import CheckError
from wasmship.units import human_size

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
CHUNK = 64 * 1024

# The fixed ceiling of any body and of what it decodes to: no file of a dist is larger, as no
# browser compiles a larger WebAssembly module (V8's limit is 1 GiB). A manifest's sizes only
# ever lower a limit, never raise it past this.
MAX_FILE = 1024**3
# Bodies check must hold whole (a dcz dictionary and its delta) also fit a dcz window.
MAX_HELD = 128 * 1024**2


@dataclass(frozen=True)
class Limit:
    """The most bytes of one body `check` reads, and what the body is, in the user's words."""

    size: int
    what: str  # "main.1a2b.wasm (2.3 MiB in the manifest)", "a manifest.json"
    hold: bool = True  # keep the body's bytes (else only its size and digests)
    decoded: int = 0  # with hold False: the most the body may decode to


# Bodies whose size no manifest states: manifest.json itself (8 MiB is thousands of files) and
# the page check reads for script sources.
MANIFEST_LIMIT = 8 * 1024**2
PAGE_LIMIT = 2 * 1024**2
MANIFEST_BODY = Limit(MANIFEST_LIMIT, "a manifest.json")
PAGE_BODY = Limit(PAGE_LIMIT, "an HTML page")


def body_limit(entry: FileEntry) -> int:
    """The most bytes any response for ENTRY may have: its largest representation, plus a
    margin for a server or CDN that compresses with settings of its own; never past MAX_FILE."""
    largest = min(MAX_FILE, max([entry.size, *(v.size for v in entry.variants)]))
    return min(MAX_FILE, largest + largest // 8 + 64 * 1024)


def entry_body(entry: FileEntry, *, hold: bool = False) -> Limit:
    """The Limit of a response for ENTRY (HOLD: its bytes are kept, up to MAX_HELD)."""
    what = f"{entry.path} ({human_size(entry.size)} in the manifest)"
    if hold:
        return Limit(min(MAX_HELD, body_limit(entry)), what)
    return Limit(body_limit(entry), what, hold=False, decoded=min(MAX_FILE, entry.size))


def url_problem(url: str) -> str | None:
    """Why URL cannot be fetched at all (scheme, host, port), or None if it can."""
    if not url.isprintable() or any(c.isspace() for c in url):
        return "it contains a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError:  # unbalanced or invalid [IPv6] brackets
        host = url.partition("://")[2].partition("/")[0]
        return f"the host {host!r} is not a host name or address"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs can be checked"
    if "@" in parts.netloc:
        return "a user name or password in the URL is not supported"
    # The port follows the last colon after the host (an IPv6 host is in brackets).
    after_host = parts.netloc.rpartition("]")[2]
    _, colon, raw_port = after_host.rpartition(":") if ":" in after_host else ("", "", "")
    if raw_port:
        try:
            port = parts.port
        except ValueError:  # not a number, or past 65535
            port = None
        if not port:
            return f"the port {raw_port!r} is not a number from 1 to 65535"
    if not parts.hostname:
        return "it names no host"
    try:
        parts.hostname.encode("idna")  # what the connection will do: empty or long labels fail
    except UnicodeError:
        host = parts.netloc.removesuffix(colon + raw_port)
        return f"the host {host!r} is not a host name or address"
    return None


@dataclass(frozen=True)
class Reply:
    """One HTTP response: its body exactly as sent (still content-coded) if its Limit held
    it, else its size and SHA-256, and the SHA-256 of the body with its Content-Encoding undone
    (None, and why in `decode_error`, when that failed)."""

    url: str
    status: int
    headers: Message
    body: bytes
    size: int = 0
    sha256: str = ""
    decoded_sha256: str | None = None
    decode_error: str | None = None

    def header(self, name: str) -> str | None:
        """The header NAME, several occurrences joined with commas; None if absent."""
        values = self.headers.get_all(name)
        return ", ".join(values) if values else None


class Fetcher:
    """GETs over kept-alive connections, one per origin; every failure is a CheckError.

    TIMEOUT bounds each request as a whole: the name lookup, connecting, the headers and the
    body (and `follow` with its redirects).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections: dict[tuple[str, str], PlainConnection] = {}

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, scheme: str, netloc: str) -> PlainConnection:
        key = (scheme, netloc)
        if key not in self._connections:
            kind = TLSConnection if scheme == "https" else PlainConnection
            self._connections[key] = kind(netloc, timeout=self.timeout)
        return self._connections[key]

    def _open(self, connection: PlainConnection, deadline: float, watchdog: Watchdog) -> None:
        """Connect if not connected; no single socket operation may wait past DEADLINE."""
        left = seconds_left(deadline)
        if left <= 0:
            raise TimeoutError()
        if connection.sock is None:
            connection.timeout = left
            connection.deadline = deadline
            connection.connect()
            if watchdog.expired:  # it fired while connecting, before there was a socket to shut
                raise TimeoutError()
        else:
            connection.sock.settimeout(left)

    def get(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        limit: Limit,
        deadline: float | None = None,
    ) -> Reply:
        """GET URL once, sending HEADERS (Accept-Encoding among them) and nothing implicit;
        the body is read up to LIMIT, the whole request within the timeout (or by DEADLINE)."""
        problem = url_problem(url)
        if problem is not None:
            raise CheckError(f"GET {url}: {problem}")
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        target = "".join(c if c.isascii() else quote(c) for c in target)  # as browsers send it
        sent = {"User-Agent": f"wasmship-check/{__version__}", **headers}
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        for attempt in (1, 2):
            connection = self._connection(parts.scheme, parts.netloc)
            reused = connection.sock is not None
            response: http.client.HTTPResponse | None = None
            body = Body(limit)
            with Watchdog(connection, deadline) as watchdog:
                try:
                    self._open(connection, deadline, watchdog)
                    connection.request("GET", target, headers=sent)
                    answer = connection.getresponse()
                    if watchdog.expired:  # http.client takes the shutdown for the headers' end
                        raise TimeoutError()
                    response = answer
                    body.read(response, url, deadline)
                    if watchdog.expired:  # and for the end of a body sent until close
                        raise TimeoutError()
                    return body.reply(url, response)
                except CheckError:
                    connection.close()
                    raise
                except Exception as exc:
                    connection.close()
                    if watchdog.expired or isinstance(exc, TimeoutError):
                        raise CheckError(
                            describe_timeout(url, self.timeout, response, body.size)
                        ) from exc
                    closed = (ConnectionResetError, BrokenPipeError, http.client.IncompleteRead)
                    if not isinstance(exc, closed):
                        raise CheckError(describe_failure(exc, url)) from exc
                    if reused and attempt == 1 and response is None:
                        continue  # the server closed an idle kept-alive connection: ask again
                    raise CheckError(describe_closed(exc, url, body.size)) from exc
        raise AssertionError("unreachable")

    def follow(self, url: str, headers: Mapping[str, str], *, limit: Limit) -> Reply:
        """GET URL, following up to MAX_REDIRECTS redirects (for finding the manifest only),
        all of them within one timeout."""
        deadline = time.monotonic() + self.timeout
        for _ in range(MAX_REDIRECTS + 1):
            reply = self.get(url, headers, limit=limit, deadline=deadline)
            location = reply.header("Location")
            if reply.status not in REDIRECTS or not location:
                return reply
            target = urljoin(url, location)
            problem = url_problem(target)
            if problem is not None:
                raise CheckError(
                    f"GET {url}: redirected to {target}, which cannot be fetched: {problem}"
                )
            url = target
        raise CheckError(f"GET {url}: more than {MAX_REDIRECTS} redirects")


class Body:
    """One response's body as it is read: counted against its Limit, hashed, decoded as it
    arrives (a Limit that does not hold it), its bytes kept only if the Limit holds them."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.size = 0
        self.held = bytearray()
        self.digest = hashlib.sha256()
        self.decoding: Decoding | None = None

    def read(self, response: http.client.HTTPResponse, url: str, deadline: float) -> None:
        """Read RESPONSE's body, refusing one over the limit before taking more of it."""
        limit = self.limit
        over = f"over {human_size(limit.size)}, more than {limit.what} can be"
        advice = "(is this server sending the dist?)"
        if response.length is not None and response.length > limit.size:
            raise CheckError(
                f"GET {url}: Content-Length {response.length} is {over}; not read {advice}"
            )
        if not limit.hold:
            coding = response.getheader("Content-Encoding") or IDENTITY
            self.decoding = Decoding(coding, limit.decoded)
        while chunk := response.read(CHUNK):
            self.size += len(chunk)
            if self.size > limit.size:
                raise CheckError(f"GET {url}: the body is {over}; stopped reading {advice}")
            self.digest.update(chunk)
            if self.decoding is not None:
                self.decoding.feed(chunk)
            else:
                self.held += chunk
            check_deadline(deadline)  # decoding is work no socket timeout bounds
        if response.length:  # read(n) returns b"" when the connection ends early, and says no more
            raise http.client.IncompleteRead(b"", response.length)
        if self.decoding is not None:
            self.decoding.finish()

    def reply(self, url: str, response: http.client.HTTPResponse) -> Reply:
        decoding = self.decoding
        return Reply(
            url,
            response.status,
            response.msg,
            bytes(self.held),
            size=self.size,
            sha256=self.digest.hexdigest(),
            decoded_sha256=decoding.sha256() if decoding else None,
            decode_error=decoding.error if decoding else None,
        )
