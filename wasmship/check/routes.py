"""Client routes (--spa): a deployed single-page app answers them with its page, and a missing
file with an extension is still 404; a dist built without --spa answers unknown paths 404."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urljoin

from wasmship.check.findings import NONE, Outcome, Result
from wasmship.delivery.client import Fetcher, entry_body
from wasmship.distformat.model import Manifest
from wasmship.distformat.names import PAGE
from wasmship.encodings.decoders import IDENTITY

ROUTES = "(routes)"  # the results' file: one line of the report, the paths in `request`
ROUTE_CHECKS = ("client route", "unknown path", "missing file")


def check_client_routes(fetcher: Fetcher, base: str, manifest: Manifest) -> Iterator[Result]:
    """Ask for a client route and a missing script no dist has, and check both answers."""
    page = manifest.files_by_path().get(PAGE)
    if page is None:
        return  # a dist of wasip1 modules only: no page to route to
    probe = secrets.token_hex(4)  # never a path of the dist (a fixed one could be)
    route = f"wasmship-check/route-{probe}"
    missing = f"wasmship-check-{probe}.js"
    headers = {"Accept-Encoding": IDENTITY}
    request = f"GET /{route} (a client route)"
    reply = fetcher.get(urljoin(base, route), headers, limit=entry_body(page))
    if manifest.spa:
        # The page itself, as the page is sent: no-cache, so a deploy reaches every route.
        got_page = reply.status == 200 and reply.decoded_sha256 == page.sha256
        actual = str(reply.status) + (
            f" with {PAGE}" if got_page else " (not the page)" if reply.status == 200 else ""
        )
        outcome: Outcome = "ok" if got_page else "fail"
        yield Result(ROUTES, "client route", outcome, f"200 with {PAGE}", actual, request)
        if got_page:
            cache = reply.header("Cache-Control") or NONE
            fresh = "no-cache" in cache.lower()
            yield Result(
                ROUTES, "Cache-Control", "ok" if fresh else "fail", "no-cache", cache, request
            )
    else:
        # A host that answers every unknown path with a page hides missing files; not wrong.
        outcome = "ok" if reply.status == 404 else "warn"
        yield Result(
            ROUTES, "unknown path", outcome, "404 (built without --spa)", str(reply.status), request
        )
    reply = fetcher.get(urljoin(base, missing), headers, limit=entry_body(page))
    outcome = "ok" if reply.status == 404 else "warn"
    yield Result(ROUTES, "missing file", outcome, "404", str(reply.status), f"GET /{missing}")
