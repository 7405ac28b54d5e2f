"""Server configs for deploying a dist: nginx, Caddy, Netlify/Cloudflare Pages, Apache."""

from __future__ import annotations

from collections.abc import Iterable

from wasmship.builder.server_configs.apache import render_apache
from wasmship.builder.server_configs.caddy import render_caddy
from wasmship.builder.server_configs.netlify import render_netlify, render_netlify_redirects
from wasmship.builder.server_configs.nginx import render_nginx
from wasmship.builder.server_configs.rules import ServerConfig
from wasmship.errors import UsageError

SERVER_CONFIGS: tuple[ServerConfig, ...] = (
    ServerConfig("nginx", "nginx.conf", render_nginx),
    ServerConfig("caddy", "Caddyfile", render_caddy),
    ServerConfig("netlify", "_headers", render_netlify),
    ServerConfig(
        "netlify", "_redirects", render_netlify_redirects, "netlify-redirects", spa_only=True
    ),
    ServerConfig("apache", ".htaccess", render_apache),
)
HELPER_PATHS = tuple(c.path for c in SERVER_CONFIGS)


def parse_server_configs(values: Iterable[str], where: str = "--server-config") -> tuple[str, ...]:
    """`nginx,caddy` -> ("nginx", "caddy") in canonical order; unknown names are a usage error."""
    known = list(dict.fromkeys(c.name for c in SERVER_CONFIGS))
    asked = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(asked - set(known))
    if unknown:
        raise UsageError(
            f"{where}: unknown server config {', '.join(repr(u) for u in unknown)}; "
            f"choose from {', '.join(known)} (comma-separated)"
        )
    return tuple(name for name in known if name in asked)
