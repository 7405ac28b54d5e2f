""".htaccess: Apache rewrites to the precompressed siblings (mod_rewrite, mod_headers)."""

from __future__ import annotations

from wasmship.builder.server_configs.rules import (
    ENCODING_ORDER,
    SUFFIXES,
    ServingRule,
    Site,
    accepted,
    bare_pattern,
    comment_header,
    refused,
    regex_escape,
)
from wasmship.delivery.negotiation import NOSNIFF
from wasmship.distformat.names import PAGE


def render_apache(rules: list[ServingRule], helper_paths: tuple[str, ...], site: Site) -> str:
    """An .htaccess: rewrite to the precompressed sibling the client accepts, types and headers."""
    out = comment_header(".htaccess", "#")
    out += [
        "# dcz deltas (docs/updates.md) are not negotiated here: returning visitors get br.",
        "# Needs mod_rewrite, mod_headers and mod_mime, and `AllowOverride FileInfo AuthConfig`",
        "# (or All) for this folder: FileInfo for the rewrites, types and headers, AuthConfig for",
        "# `Require` (without it, every request here is a 500).",
        "",
        "<IfModule mod_mime.c>",
    ]
    types: dict[str, str] = {}
    for rule in rules:
        ext = rule.path.rsplit(".", 1)[-1]
        types.setdefault(ext, rule.content_type)
    for ext, mime in sorted(types.items()):
        out.append(f'  AddType "{mime}" .{ext}')
    # Apache's own mime.types would give the siblings the type of a .gz/.br archive; a file of
    # the dist's own with such an extension (data.tar.gz) keeps its type, and the siblings get
    # theirs from the rewrite rules below.
    removed = sorted(s for s in SUFFIXES.values() if s.removeprefix(".") not in types)
    if removed:
        out.append(f"  RemoveType {' '.join(removed)}")
    out.append("</IfModule>")
    out.append("")
    out.append("<IfModule mod_rewrite.c>")
    out.append("  RewriteEngine On")
    out.append("  # GET and HEAD only, as `wasmship serve`: other methods get 405")
    out.append('  RewriteCond "%{REQUEST_METHOD}" "!^(?:GET|HEAD)$"')
    out.append('  RewriteRule "^" "-" [R=405,L]')
    if site.spa:
        out.append("  # --spa: a path without an extension that is neither a file nor a folder is")
        out.append(f"  # a route of the page: it gets {PAGE} (negotiated again by the rules below)")
        out.append('  RewriteCond "%{REQUEST_FILENAME}" !-f')
        out.append('  RewriteCond "%{REQUEST_FILENAME}" !-d')
        out.append(f'  RewriteRule "^(?:.*/)?[^/.]*$" "{PAGE}" [L]')
    compressed = [r for r in rules if r.encodings]
    if compressed:
        for encoding in ENCODING_ORDER:
            having = [r for r in compressed if encoding in r.encodings]
            if not having:
                continue
            suffix = SUFFIXES[encoding]
            names = "|".join(bare_pattern(r.pattern) for r in having)
            out.append(f"  # {encoding}: serve the {suffix} sibling when the client accepts it")
            # Named, and not refused with q=0 (`br;q=0` names br to say "never br").
            out.append(f'  RewriteCond "%{{HTTP:Accept-Encoding}}" "{accepted(encoding)}" [NC]')
            out.append(f'  RewriteCond "%{{HTTP:Accept-Encoding}}" "!{refused(encoding)}" [NC]')
            out.append(f'  RewriteCond "%{{REQUEST_FILENAME}}{suffix}" -f')
            # A relative substitution: mod_rewrite puts this folder's prefix back.
            out.append(f'  RewriteRule "^((?:.*/)?(?:{names}))$" "$1{suffix}" [L]')
        out.append(
            "  # the sibling keeps the original's type; mod_deflate/mod_brotli leave it alone"
        )
        for rule in compressed:
            for encoding in rule.encodings:
                suffix = SUFFIXES[encoding]
                pattern = rule.pattern.removesuffix("$") + regex_escape(suffix) + "$"
                mime = rule.content_type.replace(" ", "")
                out.append(f'  RewriteRule "{pattern}" "-" [T={mime},E=no-gzip:1,E=no-brotli:1]')
    out.append("</IfModule>")
    out.append("")
    out.append("<IfModule mod_headers.c>")
    out.append(f'  Header always set X-Content-Type-Options "{NOSNIFF}"')
    for encoding in ENCODING_ORDER:
        having = [r for r in rules if encoding in r.encodings]
        if having:
            # The siblings only: a file of the dist's own may end in .gz too (data.tar.gz).
            names = "|".join(bare_pattern(r.pattern) for r in having)
            suffix = regex_escape(SUFFIXES[encoding])
            out.append(f'  <FilesMatch "^(?:{names}){suffix}$">')
            out.append(f'    Header set Content-Encoding "{encoding}"')
            out.append("  </FilesMatch>")
    for rule in rules:
        name = bare_pattern(rule.pattern)
        variants = "".join(regex_escape(SUFFIXES[e]) + "|" for e in rule.encodings)
        files = f"^{name}(?:{variants.rstrip('|')})?$" if variants else f"^{name}$"
        out.append(f"  # {rule.path}")
        out.append(f'  <FilesMatch "{files}">')
        out.append(f'    Header set Cache-Control "{rule.cache_control}"')
        for name, value in site.own_headers(rule):
            out.append(f'    Header set {name} "{value}"')
        if rule.encodings:
            out.append('    Header append Vary "Accept-Encoding"')
        out.append("  </FilesMatch>")
    out.append("</IfModule>")
    out.append("")
    out.append("# The deploy helpers are for the server, not for visitors (this file too: not")
    out.append("# every server denies .ht* on its own).")
    names = "|".join(regex_escape(p) for p in helper_paths)
    out.append(f'<FilesMatch "^(?:{names})$">')
    out.append("  Require all denied")
    out.append("</FilesMatch>")
    return "\n".join(out) + "\n"
