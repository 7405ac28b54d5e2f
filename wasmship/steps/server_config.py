"""Step 7: write the server configs asked for (nginx, Caddy, Netlify/Cloudflare, Apache).

Every config states the same serving rules: the file's Content-Type (application/wasm for the
module), the precompressed sibling the request's Accept-Encoding allows, `Vary: Accept-Encoding`,
immutable caching for content-hashed files, `no-cache` for the entry points, and `nosniff`.
The rules are computed once from the artifacts; each renderer only spells them in its syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wasmship import __version__
from wasmship.context import PAGE, SHIM, Artifact, BuildContext, DeployHelper
from wasmship.dcz import available_dictionary
from wasmship.errors import UsageError
from wasmship.negotiation import CODINGS, NOSNIFF, REVALIDATE_CACHE, cache_control, media_type
from wasmship.steps.fingerprint import content_type, sha256_hex
from wasmship.steps.manifest import MANIFEST

# The rules are serve's: the same codings in the same order of preference, the same suffixes.
ENCODING_ORDER = tuple(coding.token for coding in CODINGS)
SUFFIXES = {coding.token: coding.suffix for coding in CODINGS}
# nginx adds a charset to these by default; listing one again is a warning.
NGINX_CHARSET_TYPES = frozenset(
    ("text/html", "text/xml", "text/plain", "text/vnd.wap.wml", "application/javascript")
)
REGEX_SPECIAL = set("\\^$.|?*+()[]{}")
# Accept-Encoding names dcz, and not with q=0 (both PCRE and RE2; matched ignoring case).
DCZ_ACCEPTED = "(?:^|[ ,])dcz(?:$|[ ,;])"
DCZ_REFUSED = "(?:^|[ ,])dcz *; *q=0(?:\\.0*)?(?:$|[ ,;])"


@dataclass(frozen=True)
class ServingRule:
    """How a server must send one file of the dist."""

    path: str  # the file's name in this build, e.g. main.3f9c2a1b.wasm
    pattern: str  # a regex for the URL path, stable across rebuilds (any content hash)
    content_type: str  # as the manifest has it, e.g. "text/javascript; charset=utf-8"
    cache_control: str
    encodings: tuple[str, ...]  # the precompressed variants this file has, in ENCODING_ORDER
    kept: tuple[str, ...] = ()  # earlier builds' files of the same name kept in the dist (--keep)
    dictionary_match: str = ""  # Use-As-Dictionary pattern relative to the file: main.*.wasm
    deltas: tuple[tuple[str, str], ...] = ()  # (Available-Dictionary value, delta file suffix)

    @property
    def mime_type(self) -> str:
        """The media type without parameters: application/wasm, text/javascript, ..."""
        return media_type(self.content_type)

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type, if any."""
        for param in self.content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return None


@dataclass(frozen=True)
class ServerConfig:
    """One kind of server config: its --server-config name, file name and renderer."""

    name: str
    path: str
    render: Callable[[list[ServingRule], tuple[str, ...]], str]  # (rules, helper paths) -> text


def regex_escape(text: str) -> str:
    """Escape TEXT for PCRE (nginx, Apache) and RE2 (Caddy) alike: only the metacharacters."""
    return "".join("\\" + c if c in REGEX_SPECIAL else c for c in text)


def name_pattern(artifact: Artifact) -> str:
    """`main.3f9c2a1b.wasm` -> `(?:^|/)main\\.[0-9a-f]+\\.wasm$`: any later hash matches too."""
    hashed = artifact.immutable and artifact.path != artifact.logical
    if hashed:
        stem, dot, ext = artifact.logical.rpartition(".")
        name = regex_escape(stem) + r"\.[0-9a-f]+\." + regex_escape(ext)
        if not dot:
            name = regex_escape(artifact.logical) + r"\.[0-9a-f]+"
    else:
        name = regex_escape(artifact.path.rsplit("/", 1)[-1])
    return f"(?:^|/){name}$"


def relative_dictionary_match(artifact: Artifact) -> str:
    """`main.wasm` hashed -> `main.*.wasm`: a Use-As-Dictionary pattern for modules and the shim.

    Relative: the browser resolves it against the request's URL (RFC 9842), so it holds
    wherever the dist is mounted.
    """
    hashed = artifact.immutable and artifact.path != artifact.logical
    if not hashed or not (artifact.logical.endswith(".wasm") or artifact.logical == SHIM):
        return ""
    stem, _, ext = artifact.logical.rpartition(".")
    return f"{stem}.*.{ext}"


def serving_rules(
    artifacts: Iterable[Artifact], kept: Iterable[Artifact] = ()
) -> list[ServingRule]:
    """The rules for every file of the dist plus manifest.json, sorted by path.

    A kept file of an earlier build matches its current namesake's pattern (any hash), so it
    joins that rule; one whose name the new build no longer has gets a rule of its own.
    """
    current = list(artifacts)
    by_pattern: dict[str, list[str]] = {}
    for old in kept:
        by_pattern.setdefault(name_pattern(old), []).append(old.path)
        if name_pattern(old) not in {name_pattern(a) for a in current}:
            current.append(old)
    rules = [
        ServingRule(
            path=a.path,
            pattern=name_pattern(a),
            content_type=a.content_type,
            cache_control=cache_control(a.immutable),
            encodings=tuple(e for e in ENCODING_ORDER if e in a.encodings),
            kept=tuple(p for p in sorted(by_pattern.get(name_pattern(a), [])) if p != a.path),
            dictionary_match=relative_dictionary_match(a),
            deltas=tuple(
                sorted(
                    (available_dictionary(e.dictionary), e.path.removeprefix(a.path))
                    for e in a.encodings.values()
                    if e.coding == "dcz"
                )
            ),
        )
        for a in current
    ]
    rules.append(
        ServingRule(
            path=MANIFEST,
            pattern=f"(?:^|/){regex_escape(MANIFEST)}$",
            content_type=content_type(MANIFEST),
            cache_control=REVALIDATE_CACHE,
            encodings=(),
        )
    )
    return sorted(rules, key=lambda r: r.path)


def _header(kind: str, comment: str) -> list[str]:
    return [f"{comment} {kind}: written by wasmship {__version__}; a deploy helper, not content."]


def _bare(pattern: str) -> str:
    """A rule's pattern without its anchors: the file name part only."""
    return pattern.removeprefix("(?:^|/)").removesuffix("$")


def _helpers_pattern(helper_paths: tuple[str, ...]) -> str:
    names = "|".join(regex_escape(p) for p in helper_paths)
    return f"(?:^|/)(?:{names})$"


def render_nginx(rules: list[ServingRule], helper_paths: tuple[str, ...]) -> str:
    """An include-able server-block snippet using gzip_static and brotli_static."""
    out = _header("nginx.conf", "#")
    out += [
        "# Include it inside the server { } block whose root is this dist:",
        "#     server { root /srv/app/dist; include /srv/app/dist/nginx.conf; }",
        "# brotli_static needs the brotli module loaded in the main config, e.g. on Debian",
        "# (libnginx-mod-http-brotli-static):",
        "#     load_module modules/ngx_http_brotli_static_module.so;",
        "# Locations match any content hash: a new build needs no reload unless files are added.",
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
        if rule.deltas:
            out += nginx_dcz(rule)
        # add_header in a location drops the server level's, so each location repeats nosniff.
        out.append(f'    add_header Cache-Control "{rule.cache_control}";')
        if rule.deltas:
            out.append('    add_header Vary "Accept-Encoding, Available-Dictionary";')
        elif rule.encodings:
            out.append('    add_header Vary "Accept-Encoding";')
        if rule.dictionary_match:
            # The browser keeps this file as the dictionary for the next version's delta.
            out.append(f"    add_header Use-As-Dictionary 'match=\"{rule.dictionary_match}\"';")
        out.append(f'    add_header X-Content-Type-Options "{NOSNIFF}" always;')
        out.append("}")
        out.append("")
    out.append("# The deploy helpers are for the server, not for visitors.")
    out.append(f'location ~ "{_helpers_pattern(helper_paths)}" {{')
    out.append("    return 404;")
    out.append("}")
    return "\n".join(out) + "\n"


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


def render_caddy(rules: list[ServingRule], helper_paths: tuple[str, ...]) -> str:
    """Caddyfile directives for a site block: file_server with precompressed, and headers."""
    out = _header("Caddyfile", "#")
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
    ]
    for index, rule in enumerate(rules):
        matcher = f"@wasmship{index}"
        pattern = rule.pattern
        if rule.path == PAGE:
            # file_server answers a folder URL with its index.html without matching again.
            pattern = f"(?:^|/)(?:{_bare(pattern)})?$"
        out.append(
            f"# {rule.path}" + (f" (also kept: {', '.join(rule.kept)})" if rule.kept else "")
        )
        out.append(f"{matcher} path_regexp {pattern}")
        out.append(f"header {matcher} {{")
        out.append(f'    Content-Type "{rule.content_type}"')
        out.append(f'    Cache-Control "{rule.cache_control}"')
        if rule.deltas:
            # Set (not added) when the response is written: it replaces the Vary file_server
            # adds to a sibling, so there is one Vary on every response of the file.
            out.append('    Vary "Accept-Encoding, Available-Dictionary"')
        elif rule.encodings:
            # file_server adds Vary only when it sends a sibling; the identity response needs it
            # too. `?` sets it only when missing, so it is never doubled.
            out.append('    ?Vary "Accept-Encoding"')
        if rule.dictionary_match:
            # The browser keeps this file as the dictionary for the next version's delta.
            out.append(f'    Use-As-Dictionary `match="{rule.dictionary_match}"`')
        if rule.deltas or rule.encodings or rule.dictionary_match:
            # When the response is written, after file_server: the type is the file's, also
            # for a .dcz delta (to file_server an unknown extension, which gets no type).
            out.append("    defer")
        out.append("}")
        out.append("")
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


def render_netlify(rules: list[ServingRule], helper_paths: tuple[str, ...]) -> str:
    """A _headers file for Netlify and Cloudflare Pages (exact paths: it ships with the files)."""
    out = _header("_headers", "#")
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
            if rule.encodings:
                out.append("  Vary: Accept-Encoding")
    return "\n".join(out) + "\n"


def render_apache(rules: list[ServingRule], helper_paths: tuple[str, ...]) -> str:
    """An .htaccess: rewrite to the precompressed sibling the client accepts, types and headers."""
    out = _header(".htaccess", "#")
    out += [
        "# dcz deltas (docs/updates.md) are not negotiated here: returning visitors get br.",
        "# Needs mod_rewrite, mod_headers and mod_mime, and `AllowOverride FileInfo Indirect`",
        "# (or All) for this folder.",
        "",
        "<IfModule mod_mime.c>",
    ]
    types: dict[str, str] = {}
    for rule in rules:
        ext = rule.path.rsplit(".", 1)[-1]
        types.setdefault(ext, rule.content_type)
    for ext, mime in sorted(types.items()):
        out.append(f'  AddType "{mime}" .{ext}')
    # Apache's own mime.types would give the siblings the type of a .gz/.br archive.
    out.append(f"  RemoveType {' '.join(sorted(SUFFIXES.values()))}")
    out.append("</IfModule>")
    out.append("")
    compressed = [r for r in rules if r.encodings]
    if compressed:
        out.append("<IfModule mod_rewrite.c>")
        out.append("  RewriteEngine On")
        for encoding in ENCODING_ORDER:
            having = [r for r in compressed if encoding in r.encodings]
            if not having:
                continue
            suffix = SUFFIXES[encoding]
            names = "|".join(_bare(r.pattern) for r in having)
            out.append(f"  # {encoding}: serve the {suffix} sibling when the client accepts it")
            out.append(f'  RewriteCond "%{{HTTP:Accept-Encoding}}" "\\b{encoding}\\b"')
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
        if any(encoding in r.encodings for r in rules):
            suffix = regex_escape(SUFFIXES[encoding])
            out.append(f'  <FilesMatch "{suffix}$">')
            out.append(f'    Header set Content-Encoding "{encoding}"')
            out.append("  </FilesMatch>")
    for rule in rules:
        name = _bare(rule.pattern)
        variants = "".join(regex_escape(SUFFIXES[e]) + "|" for e in rule.encodings)
        files = f"^{name}(?:{variants.rstrip('|')})?$" if variants else f"^{name}$"
        out.append(f"  # {rule.path}")
        out.append(f'  <FilesMatch "{files}">')
        out.append(f'    Header set Cache-Control "{rule.cache_control}"')
        if rule.encodings:
            out.append('    Header append Vary "Accept-Encoding"')
        out.append("  </FilesMatch>")
    out.append("</IfModule>")
    out.append("")
    out.append("# The deploy helpers are for the server, not for visitors.")
    names = "|".join(regex_escape(p) for p in helper_paths if p != ".htaccess")
    out.append(f'<FilesMatch "^(?:{names})$">')
    out.append("  Require all denied")
    out.append("</FilesMatch>")
    return "\n".join(out) + "\n"


SERVER_CONFIGS: tuple[ServerConfig, ...] = (
    ServerConfig("nginx", "nginx.conf", render_nginx),
    ServerConfig("caddy", "Caddyfile", render_caddy),
    ServerConfig("netlify", "_headers", render_netlify),
    ServerConfig("apache", ".htaccess", render_apache),
)
HELPER_PATHS = tuple(c.path for c in SERVER_CONFIGS)


def parse_server_configs(values: Iterable[str], where: str = "--server-config") -> tuple[str, ...]:
    """`nginx,caddy` -> ("nginx", "caddy") in canonical order; unknown names are a usage error."""
    known = [c.name for c in SERVER_CONFIGS]
    asked = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(asked - set(known))
    if unknown:
        raise UsageError(
            f"{where}: unknown server config {', '.join(repr(u) for u in unknown)}; "
            f"choose from {', '.join(known)} (comma-separated)"
        )
    return tuple(name for name in known if name in asked)


def write_server_config(ctx: BuildContext) -> None:
    """Write each server config asked for and record it as a deploy helper (never compressed)."""
    wanted = parse_server_configs(ctx.config.server_configs, "server_configs")
    rules = serving_rules(ctx.artifacts.values(), (c.artifact for c in ctx.previous))
    for config in SERVER_CONFIGS:
        if config.name not in wanted:
            continue
        data = config.render(rules, HELPER_PATHS).encode("utf-8")
        (ctx.staging / config.path).write_bytes(data)
        ctx.deploy_helpers[config.name] = DeployHelper(
            name=config.name, path=config.path, size=len(data), sha256=sha256_hex(data)
        )
    ctx.notes["server_config"] = ", ".join(h.path for h in ctx.deploy_helpers.values())
