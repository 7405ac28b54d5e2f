"""The routes a site's service worker answers: what its pages fetch that no file is (issue 23
#4), proposed as `routes` only when the site registers a service worker; without one, such a
fetch is a broken reference, and build and verify say so."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from wasmship.builder.spans import kind_of
from wasmship.distformat.names import SHIM
from wasmship.distformat.page import is_external, local_path, read_page
from wasmship.scaffold.tree import ProjectTree
from wasmship.verify.scripts import Call, script_calls

MAX_ROUTES = 16


def _calls(rel: str, text: str) -> list[Call]:
    if kind_of(rel) == "html":
        return [c for first, code in read_page(text).scripts for c in script_calls(code, first)]
    return script_calls(text)


def service_worker_routes(tree: ProjectTree, folder: str) -> list[str]:
    """What the pages and scripts of FOLDER fetch that is not a file there (`api/hello` gives
    `api/*`: a service worker answers a prefix), when one of them registers a service worker."""
    files = set(tree.under(folder))
    calls: list[tuple[str, Call]] = []
    for rel in sorted(files):
        if kind_of(rel) in ("html", "js"):
            text = tree.text(rel if folder == "." else posixpath.join(folder, rel))
            calls += [(rel, c) for c in _calls(rel, text or "")]
    if not any(c.function.endswith("serviceWorker.register") for _, c in calls):
        return []
    routes: list[str] = []
    for rel, call in calls:
        if call.function != "fetch" or is_external(call.url) or not urlsplit(call.url).path:
            continue
        path = local_path(rel, call.url)
        if path is None or path.endswith(".wasm") or posixpath.basename(path) == SHIM:
            continue  # a module or the shim: a target serves it, or the build says it is missing
        if path in files or any(f.startswith(path.rstrip("/") + "/") for f in files):
            continue
        route = f"{posixpath.dirname(path)}/*" if "/" in path else path
        if route not in routes and len(routes) < MAX_ROUTES:
            routes.append(route)
    return routes
