"""nginx.conf: an include-able server-block snippet (gzip_static, brotli_static, dcz)."""

from __future__ import annotations

from wasmship.builder.server_configs.rules import (
    DCZ_ACCEPTED,
    DCZ_REFUSED,
    ServingRule,
    Site,
    comment_header,
    helpers_pattern,
)
from wasmship.delivery.negotiation import NOSNIFF, use_as_dictionary
from wasmship.distformat.names import CLIENT_ROUTE_PATTERN, PAGE

# nginx adds a charset to these by default; listing one again is a warning.
NGINX_CHARSET_TYPES = frozenset(
    ("text/html", "text/xml", "text/plain", "text/vnd.wap.wml", "application/javascript")
)


def render_nginx(rules: list[ServingRule], helper_paths: tuple[str, ...], site: Site) -> str:
    """An include-able server-block snippet using gzip_static and brotli_static."""
    out = comment_header("nginx.conf", "#")
    out += [
        "# Include it inside the server { } block whose root is this dist:",
        "#     server { root /srv/app/dist; include /srv/app/dist/nginx.conf; }",
        "# brotli_static needs the brotli module loaded in the main config, e.g. on Debian",
        "# (libnginx-mod-http-brotli-static):",
        "#     load_module modules/ngx_http_brotli_static_module.so;",
        "# Locations match any content hash: a new build needs no reload unless files are added.",
        *_zstd_note(rules),
        "",
        f'add_header X-Content-Type-Options "{NOSNIFF}" always;',
        "",
    ]
    for rule in rules:
        out.append(
            f"# {rule.path}" + (f" (also kept: {', '.join(rule.kept)})" if rule.kept else "")
        )
        out.append(f'location ~ "{rule.pattern}" {{')
        # An empty types map scoped to this location makes default_type the Content-Type,
        # whatever mime.types the main config has (or lacks).
        out.append("    types { }")
        out.append(f"    default_type {rule.mime_type};")
        if rule.charset:
            out.append(f"    charset {rule.charset};")
            if rule.mime_type not in NGINX_CHARSET_TYPES:
                out.append(f"    charset_types {rule.mime_type};")
        if "gzip" in rule.encodings:
            out.append("    gzip_static on;")
        if "br" in rule.encodings:
            out.append("    brotli_static on;")
        if "zstd" in rule.encodings:
            out.append("    # zstd_static on;  # with the zstd module only: see the top")
        if rule.deltas:
            out += nginx_dcz(rule)
        # add_header in a location drops the server level's, so each location repeats nosniff.
        out.append(f'    add_header Cache-Control "{rule.cache_control}";')
        if rule.vary:
            out.append(f'    add_header Vary "{rule.vary}";')
        if rule.dictionary_match:
            # The browser keeps this file as the dictionary for the next version's delta.
            out.append(
                f"    add_header Use-As-Dictionary '{use_as_dictionary(rule.dictionary_match)}';"
            )
        for name, value in site.own_headers(rule):
            out.append(f'    add_header {name} "{value}";  # [headers]')
        out.append(f'    add_header X-Content-Type-Options "{NOSNIFF}" always;')
        out.append("}")
        out.append("")
    if site.spa:
        out += [
            "# --spa: a path without an extension that is not a file is a route of the page:",
            f"# it gets /{PAGE} (and its headers above). Regex locations come before prefix",
            "# ones: give a backend beside the dist `location ^~ /api/ { ... }`.",
            f'location ~ "{CLIENT_ROUTE_PATTERN}" {{',
            f"    try_files $uri /{PAGE};",
            "}",
            "",
        ]
    out.append("# The deploy helpers are for the server, not for visitors.")
    out.append(f'location ~ "{helpers_pattern(helper_paths)}" {{')
    out.append("    return 404;")
    out.append("}")
    return "\n".join(out) + "\n"


def _zstd_note(rules: list[ServingRule]) -> list[str]:
    """What serves the .zst variants: nginx has no zstd_static of its own, and neither Debian
    nor nginx.org ship a module for it, so the locations leave it commented out (a directive
    nginx does not know stops it from starting). Clients then get br, gzip or identity."""
    if not any("zstd" in rule.encodings for rule in rules):
        return []
    return [
        "# The .zst variants are not served by this config: nginx serves them only with the",
        "# third-party zstd module (https://github.com/tokers/zstd-nginx-module), built for your",
        "# nginx and loaded in the main config:",
        "#     load_module modules/ngx_http_zstd_static_module.so;",
        "# then uncomment `zstd_static on;` in the locations below. Without it, clients that",
        "# accept zstd get br, gzip or the file itself, and `wasmship check` warns.",
    ]


def nginx_dcz(rule: ServingRule) -> list[str]:
    """The dcz negotiation for one location: the delta for the dictionary the client holds.

    `map` would be the natural tool, but it is only allowed in the http block and this file is
    included in a server block; so a chain of `if ... set` (safe inside a location) picks the
    delta's suffix. A delta that does not exist for the URL asked (an old kept module) falls
    back to br/gzip/identity. The chain names this build's dictionaries: reload nginx after a
    deploy to serve the new deltas (until then, clients simply get br).
    """
    out = ["    # dcz (RFC 9842): a delta against the earlier version the browser holds"]
    out.append('    set $wasmship_dcz "";')
    for available, suffix in rule.deltas:
        out.append(f'    if ($http_available_dictionary = "{available}") {{')
        out.append(f'        set $wasmship_dcz "{suffix}";')
        out.append("    }")
    out.append(f'    if ($http_accept_encoding !~* "{DCZ_ACCEPTED}") {{')
    out.append('        set $wasmship_dcz "";')
    out.append("    }")
    out.append(f'    if ($http_accept_encoding ~* "{DCZ_REFUSED}") {{')
    out.append('        set $wasmship_dcz "";')
    out.append("    }")
    out.append("    if (!-f $request_filename$wasmship_dcz) {")
    out.append('        set $wasmship_dcz "";')
    out.append("    }")
    out.append('    set $wasmship_coding "";')
    out.append('    if ($wasmship_dcz != "") {')
    out.append("        set $wasmship_coding dcz;")
    out.append("    }")
    out.append("    rewrite ^(.*)$ $1$wasmship_dcz break;")
    out.append("    add_header Content-Encoding $wasmship_coding;  # not sent when empty")
    return out
