"""Which requests the preview servers hand to a backend: `--proxy PREFIX=URL` and `[[proxy]]`.

Vite's semantics: a request under PREFIX goes to URL with its whole path kept and appended to
URL's own path (`/api=http://127.0.0.1:8080` sends `/api/users?x=1` to
`http://127.0.0.1:8080/api/users?x=1`; with URL `http://127.0.0.1:8080/v1` it goes to
`/v1/api/users?x=1`). "Under" is by whole path segments: `/api` takes `/api` and `/api/…`, never
`/apix`. The longest matching prefix wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasmship.errors import UsageError

MAX_ROUTES = 64
MAX_PREFIX = 1024
MAX_URL = 2048
_PREFIX = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")  # a path: no space, ?, # or control
_HOST = re.compile(r"[A-Za-z0-9\-._]+|\[[0-9A-Fa-f:.]+\]")


class BadRoute(ValueError):
    """A proxy route that is not PREFIX=URL as wasmship takes it; the caller says where."""


@dataclass(frozen=True)
class ProxyRoute:
    """Requests under PREFIX go to the backend at URL."""

    prefix: str  # "/api": starts with /, no trailing slash but for "/"
    url: str  # as written, for messages
    scheme: str  # "http" or "https"
    host: str  # as in the URL: IPv6 in brackets
    port: int
    base: str  # URL's path without its trailing slash ("" for none)

    @property
    def netloc(self) -> str:
        """host:port, the Host header the backend is sent."""
        return f"{self.host}:{self.port}"

    def covers(self, path: str) -> bool:
        """Whether the request path PATH (no query) is under this route's prefix."""
        stem = self.prefix.rstrip("/")
        return path == stem or path.startswith(stem + "/") or (stem == "" and path == "/")

    def target(self, request_target: str) -> str:
        """The request target the backend is sent for the client's REQUEST_TARGET."""
        return self.base + request_target


def make_route(prefix: str, url: str) -> ProxyRoute:
    """PREFIX and URL checked: a path prefix and an http(s)://host[:port][/path] URL."""
    if len(prefix) > MAX_PREFIX or not _PREFIX.fullmatch(prefix):
        raise BadRoute(
            f"the prefix {prefix[:80]!r} must be a path starting with / "
            "(no spaces, ?, # or control characters)"
        )
    if any(part in (".", "..") for part in prefix.split("/")):
        raise BadRoute(f"the prefix {prefix!r} must not have . or .. segments")
    if len(url) > MAX_URL or re.search(r"[\x00-\x20\x7f]", url):
        raise BadRoute(f"the URL {url[:80]!r} must have no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadRoute(f"the URL {url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRoute(f"the URL {url!r} must be http://host:port or https://host:port")
    if parts.username is not None or parts.query or parts.fragment or url.endswith(("?", "#")):
        raise BadRoute(f"the URL {url!r} must have no user, query or fragment")
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host[: host.rindex("]") + 1] if host.startswith("[") else host.split(":")[0]
    if not _HOST.fullmatch(host):
        raise BadRoute(f"the URL {url!r} has no host name wasmship can reach")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if not _PREFIX.fullmatch(parts.path or "/"):
        raise BadRoute(f"the URL {url!r} has a path wasmship cannot send")
    stem = prefix.rstrip("/") or "/"
    return ProxyRoute(stem, url, parts.scheme, host, port, parts.path.rstrip("/"))


def parse_route(text: str) -> ProxyRoute:
    """`PREFIX=URL` (the --proxy flag) as a route."""
    prefix, equals, url = text.partition("=")
    if not equals:
        raise BadRoute(f"{text[:80]!r} is not PREFIX=URL, e.g. /api=http://127.0.0.1:8080")
    return make_route(prefix.strip(), url.strip())


def flag_routes(values: Iterable[str]) -> tuple[ProxyRoute, ...]:
    """The --proxy flags as routes; a UsageError names the one that is wrong."""
    routes = []
    for value in values:
        try:
            routes.append(parse_route(value))
        except BadRoute as exc:
            raise UsageError(f"--proxy {value[:120]!r}: {exc}") from None
    return tuple(routes)


def merged(flags: Iterable[ProxyRoute], file: Iterable[ProxyRoute]) -> tuple[ProxyRoute, ...]:
    """The routes in force: a flag's route replaces the file's route of the same prefix."""
    by_prefix = {r.prefix: r for r in file}
    by_prefix.update({r.prefix: r for r in flags})
    if len(by_prefix) > MAX_ROUTES:
        raise UsageError(f"{len(by_prefix)} proxy routes: at most {MAX_ROUTES} are taken")
    return tuple(sorted(by_prefix.values(), key=lambda r: len(r.prefix), reverse=True))


def route_for(routes: Iterable[ProxyRoute], request_target: str) -> ProxyRoute | None:
    """The route (longest prefix first, as `merged` orders them) REQUEST_TARGET goes to."""
    if not request_target.startswith("/"):
        return None  # an absolute-form or `*` target: the dist answers (and refuses) it
    path = request_target.split("?", 1)[0].split("#", 1)[0]
    return next((r for r in routes if r.covers(path)), None)


def refuse_shadowing(routes: Iterable[ProxyRoute], paths: Iterable[str], what: str) -> None:
    """A UsageError when a route would take a request for one of PATHS (dist-relative file
    paths, or absolute request paths) away from WHAT."""
    routes = tuple(routes)
    if not routes:
        return
    for path in paths:
        request = path if path.startswith("/") else "/" + path
        for route in routes:
            if route.covers(request) or (request == "/index.html" and route.covers("/")):
                raise UsageError(
                    f"--proxy {route.prefix}={route.url} would shadow {request} of {what}: "
                    "choose a prefix no file of the page is under (e.g. /api)"
                )
