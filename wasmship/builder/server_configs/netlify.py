"""_headers: Netlify and Cloudflare Pages (they compress themselves; no negotiation)."""

from __future__ import annotations

from wasmship.builder.server_configs.rules import (
    ServingRule,
    Site,
    comment_header,
)
from wasmship.delivery.negotiation import NOSNIFF
from wasmship.distformat.names import PAGE


def render_netlify(rules: list[ServingRule], helper_paths: tuple[str, ...], site: Site) -> str:
    """A _headers file for Netlify and Cloudflare Pages (exact paths: it ships with the files)."""
    out = comment_header("_headers", "#")
    out += [
        "# dcz deltas (docs/updates.md) are not negotiated here: returning visitors get br.",
        "# For Netlify and Cloudflare Pages: put it at the root of the published folder.",
        "# These hosts compress responses on their own and do not serve the .br/.gz siblings,",
        "# so there are no Content-Encoding rules here: to them the siblings are plain files.",
        "",
        "/*",
        f"  X-Content-Type-Options: {NOSNIFF}",
    ]
    for rule in rules:
        # Exact paths only here, so the kept files of earlier builds need their own lines.
        urls = [f"/{path}" for path in (rule.path, *rule.kept)]
        if rule.path == PAGE:
            urls.insert(0, "/")
        for url in urls:
            out.append("")
            out.append(url)
            out.append(f"  Content-Type: {rule.content_type}")
            out.append(f"  Cache-Control: {rule.cache_control}")
            out += [f"  {name}: {value}" for name, value in site.own_headers(rule)]
            if rule.encodings:
                out.append("  Vary: Accept-Encoding")
    return "\n".join(out) + "\n"


def render_netlify_redirects(
    rules: list[ServingRule], helper_paths: tuple[str, ...], site: Site
) -> str:
    """A _redirects file for a single-page app (--spa): every path that is not a file gets the
    page, with status 200 (a rewrite; Netlify applies it only when no file matches)."""
    out = comment_header("_redirects", "#")
    out += [
        '# Netlify\'s rules have no "without an extension": a missing /app.js also gets the page',
        "# here (200), where serve, nginx, Caddy, Apache and the Go handler answer 404.",
        f"/*  /{PAGE}  200",
    ]
    return "\n".join(out) + "\n"
