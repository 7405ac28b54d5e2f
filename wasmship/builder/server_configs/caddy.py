"""Caddyfile: file_server with precompressed variants, and dcz deltas by matchers."""

from __future__ import annotations

from wasmship.builder.server_configs.rules import (
    DCZ_ACCEPTED,
    DCZ_REFUSED,
    ENCODING_ORDER,
    ServingRule,
    Site,
    bare_pattern,
    comment_header,
)
from wasmship.delivery.negotiation import NOSNIFF, use_as_dictionary
from wasmship.distformat.names import CLIENT_ROUTE_PATTERN, PAGE


def render_caddy(rules: list[ServingRule], helper_paths: tuple[str, ...], site: Site) -> str:
    """Caddyfile directives for a site block: file_server with precompressed, and headers."""
    out = comment_header("Caddyfile", "#")
    out += [
        "# Not a whole Caddyfile: import it inside the site block whose root is this dist:",
        "#     example.org {",
        "#         root * /srv/app/dist",
        "#         import /srv/app/dist/Caddyfile",
        "#     }",
        "# Matchers match any content hash, so a new build needs no reload unless files are added",
        "# or, for dcz deltas (docs/updates.md), to learn the new build's dictionaries: reload",
        "# Caddy after each deploy (`caddy reload`). Until then it serves br, never a wrong delta.",
        "",
        f"header X-Content-Type-Options {NOSNIFF}",
        "",
        "# GET and HEAD only, as `wasmship serve`: other methods on the dist's files get 405",
        "# (only its files: the site's other routes, an API beside it, keep their methods).",
        "@wasmship_method {",
        "    not method GET HEAD",
        "    file {path} {path}index.html",
        "}",
        "respond @wasmship_method 405",
        "",
    ]
    for index, rule in enumerate(rules):
        matcher = f"@wasmship{index}"
        pattern = rule.pattern
        if rule.path == PAGE:
            # file_server answers a folder URL with its index.html without matching again.
            pattern = f"(?:^|/)(?:{bare_pattern(pattern)})?$"
        out.append(
            f"# {rule.path}" + (f" (also kept: {', '.join(rule.kept)})" if rule.kept else "")
        )
        out.append(f"{matcher} path_regexp {pattern}")
        out += caddy_headers(matcher, rule, site)
        if rule.path == PAGE and site.spa:
            out += [
                "# --spa: a path without an extension that is not a file or folder is a route",
                f"# of the page: it gets /{PAGE} with the page's headers (set before the rewrite).",
                "@wasmship_route {",
                f"    path_regexp {CLIENT_ROUTE_PATTERN}",
                "    not file",
                "}",
                *caddy_headers("@wasmship_route", rule, site),
                f"rewrite @wasmship_route /{PAGE}",
                "",
            ]
        for number, (available, suffix) in enumerate(rule.deltas):
            out += caddy_dcz(f"{matcher}dcz{number}", pattern, available, suffix)
    encodings = [e for e in ENCODING_ORDER if any(e in r.encodings for r in rules)]
    out.append("file_server {")
    if encodings:
        # file_server picks the sibling by Accept-Encoding (in this order of preference).
        out.append(f"    precompressed {' '.join(encodings)}")
    out.append(f"    hide {' '.join(helper_paths)}")
    out.append("}")
    return "\n".join(out) + "\n"


def caddy_headers(matcher: str, rule: ServingRule, site: Site) -> list[str]:
    """The header block of the responses of RULE's file, for the requests MATCHER names."""
    out = [f"header {matcher} {{"]
    out.append(f'    Content-Type "{rule.content_type}"')
    out.append(f'    Cache-Control "{rule.cache_control}"')
    out += [f'    {name} "{value}"' for name, value in site.own_headers(rule)]
    if rule.deltas:
        # Set (not added) when the response is written: it replaces the Vary file_server
        # adds to a sibling, so there is one Vary on every response of the file.
        out.append(f'    Vary "{rule.vary}"')
    elif rule.vary:
        # file_server adds Vary only when it sends a sibling; the identity response needs it
        # too. `?` sets it only when missing, so it is never doubled.
        out.append(f'    ?Vary "{rule.vary}"')
    if rule.dictionary_match:
        # The browser keeps this file as the dictionary for the next version's delta.
        out.append(f"    Use-As-Dictionary `{use_as_dictionary(rule.dictionary_match)}`")
    if rule.deltas or rule.encodings or rule.dictionary_match:
        # When the response is written, after file_server: the type is the file's, also
        # for a .dcz delta (to file_server an unknown extension, which gets no type).
        out.append("    defer")
    out += ["}", ""]
    return out


def caddy_dcz(matcher: str, pattern: str, available: str, suffix: str) -> list[str]:
    """One delta's negotiation: its dictionary named, dcz accepted, and the delta on disk.

    The `file` matcher checks the delta exists for the URL asked (not for an old kept module,
    nor after a deploy Caddy was not reloaded for), else the request goes on to br/gzip. The
    `handle` serves the delta with a file_server of its own, without `precompressed`, so no
    sibling of the .dcz is looked for. Content-Encoding is set when the response is written:
    set earlier, Go's file serving would leave out Content-Length.
    """
    return [
        f"# dcz (RFC 9842): the delta against the earlier version the browser holds ({suffix})",
        f"{matcher} {{",
        f"    path_regexp {pattern}",
        f'    header_regexp Accept-Encoding "(?i){DCZ_ACCEPTED}"',
        f'    not header_regexp Accept-Encoding "(?i){DCZ_REFUSED}"',
        f'    header Available-Dictionary "{available}"',
        f"    file {{path}}{suffix}",
        "}",
        f"handle {matcher} {{",
        f"    rewrite * {{path}}{suffix}",
        "    header {",
        "        Content-Encoding dcz",
        "        defer",
        "    }",
        "    file_server",
        "}",
        "",
    ]
