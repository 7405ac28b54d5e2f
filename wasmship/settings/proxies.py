"""`[[proxy]]` tables of wasmship.toml and `--proxy` flags: the routes serve and dev forward.

```toml
[[proxy]]
prefix = "/api"
backend = "http://127.0.0.1:8080"
```
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, NoReturn

from wasmship.delivery.proxy_routes import (
    MAX_ROUTES,
    BadRoute,
    ProxyRoute,
    make_route,
)

FailAt = Callable[..., Callable[[str], NoReturn]]  # projectfile's: (key, section, nth) -> fail

PROXY_KEYS = ("prefix", "backend")


def parse_proxy_tables(raw: Any, fail_at: FailAt) -> tuple[ProxyRoute, ...]:
    """The [[proxy]] tables, checked; errors name the file and line."""
    if not isinstance(raw, list):
        fail_at("proxy")("proxy must be an array of tables: write [[proxy]] with prefix, backend")
    if len(raw) > MAX_ROUTES:
        fail_at("proxy")(f"{len(raw)} [[proxy]] tables: at most {MAX_ROUTES} are taken")
    routes: list[ProxyRoute] = []
    for index, table in enumerate(raw):
        fail = fail_at("", "proxy", index)
        if not isinstance(table, dict):
            fail("each [[proxy]] must be a table")
        for key in table:
            if key not in PROXY_KEYS:
                fail_at(key, "proxy", index)(f"unknown key {key!r} in [[proxy]]{_near(key)}")
        prefix, backend = table.get("prefix"), table.get("backend")
        if not isinstance(prefix, str) or not isinstance(backend, str):
            fail(
                '[[proxy]] needs prefix and backend strings, e.g. prefix = "/api", '
                'backend = "http://127.0.0.1:8080"'
            )
        try:
            route = make_route(prefix, backend)
        except BadRoute as exc:
            fail(f"[[proxy]]: {exc}")
        if any(r.prefix == route.prefix for r in routes):
            fail(f"[[proxy]] prefix {route.prefix!r} is used twice")
        routes.append(route)
    return tuple(routes)


def _near(key: str) -> str:
    close = difflib.get_close_matches(key, PROXY_KEYS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
