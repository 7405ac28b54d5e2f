"""The shared compression cache: entries read with GET and written with PUT under one URL.

Any server that stores what is PUT serves it (nginx or Apache with WebDAV, Caddy's WebDAV, an
object store behind one); docs/ci.md has nginx's server block. The local cache stays in front
(builder/jobs.py): local, then shared, then compress, and a fresh variant is PUT beside the
build. An entry's URL is the cache URL and its key (builder/cache.cache_key); its body is the
variant's bytes, nothing else.

Never trusted: jobs.py uses an entry only after it decodes to exactly its input (entry_limit
bounds what is read). Never in the way: every request ends by a deadline (delivery/deadline.py,
as `check`'s client), the first failure stops every further request of the build (one warning
line), and uploads run on two threads that the end of the build waits for a bounded time.
Credentials (WASMSHIP_CACHE_TOKEN as a bearer token, or user:password in the URL) go only into
the Authorization header, never into a message: every message names the URL without them.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from wasmship import __version__
from wasmship.errors import UsageError

if TYPE_CHECKING:
    import http.client

TOKEN_ENV = "WASMSHIP_CACHE_TOKEN"
GET_SECONDS = 5.0  # one lookup, from the name lookup to the body's last byte
PUT_SECONDS = 20.0  # one upload (the build does not wait for it, only its end does)
CLOSE_SECONDS = 10.0  # the most the end of a build waits for uploads still under way
UPLOADS = 2  # threads that upload beside the build
CHUNK = 64 * 1024


def entry_limit(size: int) -> int:
    """The most bytes an entry for an input of SIZE may have: incompressible input grows by a
    few bytes per block in every codec; anything larger is not a variant of it."""
    return size + size // 8 + 64 * 1024


@dataclass(frozen=True)
class CacheURL:
    """Where the shared cache is, and the Authorization header its requests carry."""

    scheme: str
    netloc: str  # host and port, without credentials
    path: str  # the folder of the entries, ending in "/"
    authorization: str = field(default="", repr=False)

    @property
    def shown(self) -> str:
        """The URL as messages name it: never a user name, password or token."""
        return f"{self.scheme}://{self.netloc}{self.path}"

    def target(self, key: str) -> str:
        """The request target of the entry KEY."""
        return self.path + quote(key)


def parse_cache_url(url: str, environ: Mapping[str, str]) -> CacheURL:
    """URL (--cache-url) checked, its credentials taken out; UsageError naming it redacted."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    shown = _redacted(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--cache-url {shown}: not an http:// or https:// URL with a host; "
            "give the folder the shared cache's server stores entries in"
        )
    if parts.query or parts.fragment or not url.isprintable() or " " in url:
        raise UsageError(f"--cache-url {shown}: a query, fragment or space has no place in it")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{port}" if port else host
    authorization = ""
    token = environ.get(TOKEN_ENV, "").strip()
    if token:
        if not token.isprintable() or any(c in token for c in "\r\n"):
            raise UsageError(f"{TOKEN_ENV}: not a token (it holds a control character)")
        authorization = f"Bearer {token}"
    elif parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return CacheURL(parts.scheme, netloc, path, authorization)


def _redacted(url: str) -> str:
    """URL without what comes before an @ in its host part (a user name and password)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url if "@" not in url else "<a URL with credentials>"
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rpartition("@")[2]
    return f"{scheme}://{host}{slash}{path}"


class Unavailable(Exception):
    """The shared cache did not answer as a cache does; the message says how, without secrets."""


class Oversized(Exception):
    """An entry longer than any variant of its input: not one, whatever it holds."""


@dataclass
class SharedStats:
    """What one build did with the shared cache."""

    hits: int = 0  # entries used: each decoded to exactly its input
    misses: int = 0
    rejected: int = 0  # entries that did not decode to their input: ignored and overwritten
    uploaded: int = 0


class SharedCache:
    """The build's handle on a shared cache: lookups, uploads beside it, and at most one
    warning per kind of trouble."""

    def __init__(self, where: CacheURL) -> None:
        self.where = where
        self.stats = SharedStats()
        self._lock = threading.Lock()
        self._down = False
        self._warned: set[str] = set()
        self._warnings: list[str] = []
        self._uploads = ThreadPoolExecutor(max_workers=UPLOADS, thread_name_prefix="upload")
        self._pending: list[Future[None]] = []

    def get(self, key: str, limit: int) -> bytes | None:
        """The entry KEY (at most LIMIT bytes), or None: absent, too large, or the cache down."""
        if self._down:
            return None
        try:
            status, body = self._request("GET", key, None, GET_SECONDS, limit)
        except Unavailable as exc:
            self._fail(str(exc))
            return None
        except Oversized:
            self.rejected(key)
            return None
        if status in (404, 410) or body is None:
            self._count("misses")
            return None
        return body

    def put(self, key: str, payload: bytes) -> None:
        """Upload PAYLOAD as entry KEY beside the build; a failure costs only a warning."""
        if not self._down:
            self._pending.append(self._uploads.submit(self._upload, key, payload))

    def accepted(self) -> None:
        """Count an entry that decoded to its input and was used."""
        self._count("hits")

    def rejected(self, key: str) -> None:
        """Say (once per build) that an entry did not decode to its input; it is overwritten."""
        self._count("rejected")
        self._warn(
            "rejected",
            f"shared cache {self.where.shown}: an entry ({key[:12]}…) does not decode to its "
            "input; it was ignored, compressed here and overwritten",
        )

    def drain_warnings(self) -> list[str]:
        """The warnings not shown yet (each kind once per build)."""
        with self._lock:
            found, self._warnings = self._warnings, []
        return found

    def close(self) -> None:
        """Wait for the uploads under way, at most CLOSE_SECONDS, then let the rest go."""
        _, late = wait(self._pending, timeout=CLOSE_SECONDS)
        self._uploads.shutdown(wait=False, cancel_futures=True)
        if late:
            self._fail(f"{len(late)} uploads did not end within {CLOSE_SECONDS:g} s")

    def _upload(self, key: str, payload: bytes) -> None:
        if self._down:
            return
        try:
            status, _ = self._request("PUT", key, payload, PUT_SECONDS, 0)
        except Unavailable as exc:
            self._fail(str(exc))
            return
        if status not in (200, 201, 204):
            self._fail(f"PUT answered {status}")
            return
        self._count("uploaded")

    def _request(
        self, method: str, key: str, payload: bytes | None, seconds: float, limit: int
    ) -> tuple[int, bytes | None]:
        """METHOD the entry KEY; GET reads at most LIMIT bytes (a larger body: None)."""
        # HTTP is loaded only when a build has a shared cache: a quiet build loads none of it.
        from wasmship.delivery.deadline import PlainConnection, TLSConnection, Watchdog

        deadline = time.monotonic() + seconds
        kind = TLSConnection if self.where.scheme == "https" else PlainConnection
        connection = kind(self.where.netloc, timeout=seconds)
        connection.deadline = deadline
        headers = {"User-Agent": f"wasmship/{__version__}"}
        if self.where.authorization:
            headers["Authorization"] = self.where.authorization
        if payload is not None:
            headers["Content-Type"] = "application/octet-stream"
        with Watchdog(connection, deadline) as watchdog:
            try:
                connection.request(method, self.where.target(key), body=payload, headers=headers)
                response = connection.getresponse()
                if method == "GET" and response.status == 200:
                    body = _read(response, limit, deadline)
                    if watchdog.expired:  # the shutdown ends a read as a close would
                        raise TimeoutError()
                    return response.status, body
                response.read(CHUNK)  # a short error page at most; the connection closes
                if watchdog.expired:
                    raise TimeoutError()
                if response.status in (401, 403):
                    raise Unavailable(f"{method} answered {response.status} (is the token right?)")
                if method == "GET" and response.status not in (404, 410):
                    raise Unavailable(f"GET answered {response.status}")
                return response.status, None
            except (Unavailable, Oversized):
                raise
            except Exception as exc:
                if watchdog.expired or isinstance(exc, TimeoutError):
                    raise Unavailable(f"no answer within {seconds:g} s") from exc
                raise Unavailable(_described(exc)) from exc
            finally:
                connection.close()

    def _fail(self, why: str) -> None:
        """Stop asking the cache for the rest of the build, with one warning."""
        self._down = True
        self._warn(
            "down",
            f"shared cache {self.where.shown}: {why}; this build compresses without it",
        )

    def _warn(self, kind: str, message: str) -> None:
        with self._lock:
            if kind not in self._warned:
                self._warned.add(kind)
                self._warnings.append(message)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)


def _read(response: http.client.HTTPResponse, limit: int, deadline: float) -> bytes:
    """The body; Oversized when it is longer than LIMIT."""
    from wasmship.delivery.deadline import seconds_left

    declared = response.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Oversized()
    chunks: list[bytes] = []
    size = 0
    while True:
        if seconds_left(deadline) <= 0:
            raise TimeoutError()
        chunk = response.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Oversized()
        chunks.append(chunk)


def _described(exc: BaseException) -> str:
    """EXC in a few words; socket errors never carry the URL's credentials."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    import http.client

    if isinstance(exc, http.client.HTTPException | ConnectionError):
        return f"the connection failed ({type(exc).__name__})"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
