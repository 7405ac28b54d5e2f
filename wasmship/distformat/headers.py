"""Response headers of the project's own ([headers] in wasmship.toml), by path pattern.

```toml
[headers]
"/*" = { Cross-Origin-Opener-Policy = "same-origin", Cross-Origin-Embedder-Policy = "require-corp" }
"/*.wasm" = { X-Robots-Tag = "noindex" }
```

A pattern is `/` then letters, digits and `._~-/`, with `*` for any run of characters (`/`
included, as Netlify's splat): `/*` is every file, `/assets/*` every file under assets/,
`/main.*.wasm` the module whatever its hash. It matches the path of the file a response sends
(`/index.html` for `/` and for a client route of an --spa dist), so every server states it the
same way. When two patterns set one header for a file, the one written later wins.

The dist's own rules are not the project's to change: a header serve, the server configs and
the Go handler set from the manifest (types, codings, caching, Vary, ETag, ranges) or that
belongs to the connection is refused, and so is Set-Cookie (a static file sets no cookie). A
name is an RFC 9110 token; a value is printable ASCII without the characters a server config
would read as its own syntax (`"` `\\` `$` `%` `{` `}`). Recorded in the manifest (`headers`),
so the Go handler and serve, which read only the dist, apply them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_RULES = 32
MAX_HEADERS = 16  # per pattern
MAX_PATTERN = 256
MAX_NAME = 64
MAX_VALUE = 2048

PATTERN = re.compile(r"^/[A-Za-z0-9._~/*-]*$")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
VALUE_CHARS = re.compile(r"^[\x20-\x7e]*$")
CONFIG_SYNTAX = set('"\\$%{}')  # nginx variables, Caddy placeholders, Apache formats, quotes
REFUSED = {
    # the dist's rules: what the manifest says of each file and its negotiation
    **dict.fromkeys(
        (
            "content-type",
            "content-encoding",
            "content-length",
            "content-range",
            "accept-ranges",
            "cache-control",
            "expires",
            "age",
            "etag",
            "last-modified",
            "vary",
            "use-as-dictionary",
            "x-content-type-options",
            "allow",
            "location",
        ),
        "the dist's own rules set it",
    ),
    # the connection's and the server's
    **dict.fromkeys(
        (
            "transfer-encoding",
            "connection",
            "keep-alive",
            "upgrade",
            "te",
            "trailer",
            "proxy-connection",
            "date",
            "server",
        ),
        "the server sets it for the connection",
    ),
    "set-cookie": "a static file sets no cookie",
}


class BadHeaders(ValueError):
    """A [headers] entry that cannot be sent: the message says which and why."""


@dataclass(frozen=True)
class HeaderRule:
    """The headers the files whose path matches PATTERN are sent with."""

    pattern: str
    headers: tuple[tuple[str, str], ...]  # (name, value), in the order written

    def matches(self, path: str) -> bool:
        """Whether the URL path PATH (`/index.html`) is one this rule is for."""
        return glob_regex(self.pattern).fullmatch(path) is not None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """PATTERN as a regex: `*` is any run of characters, everything else itself."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def check_pattern(pattern: str) -> str:
    """PATTERN if it is one; else BadHeaders saying the grammar."""
    if len(pattern) > MAX_PATTERN or not PATTERN.match(pattern):
        shown = pattern if pattern.isprintable() and len(pattern) <= 80 else repr(pattern[:80])
        raise BadHeaders(
            f"pattern {shown!r}: write `/` then letters, digits, `._~-/` and `*` "
            f'(any characters), at most {MAX_PATTERN}, e.g. "/*" or "/assets/*"'
        )
    return pattern


def check_header(name: str, value: str) -> tuple[str, str]:
    """(NAME, VALUE) if the dist may send them; else BadHeaders saying why not."""
    if len(name) > MAX_NAME or not TOKEN.match(name):
        raise BadHeaders(f"{name!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
    reason = REFUSED.get(name.lower())
    if reason is not None:
        raise BadHeaders(f"{name} cannot be set here: {reason}")
    if len(value) > MAX_VALUE:
        raise BadHeaders(f"{name}: the value is longer than {MAX_VALUE} characters")
    if not VALUE_CHARS.match(value):
        raise BadHeaders(f"{name}: the value must be printable ASCII (no control characters)")
    syntax = sorted(CONFIG_SYNTAX.intersection(value))
    if syntax:
        raise BadHeaders(
            f"{name}: the value may not hold {' '.join(syntax)} (the server configs' own syntax)"
        )
    if value != value.strip() or not value:
        raise BadHeaders(f"{name}: the value is empty or starts or ends with a space")
    return name, value


def make_rules(table: Mapping[str, object]) -> tuple[HeaderRule, ...]:
    """A [headers] table (pattern -> {name: value}) as checked rules, in the order written."""
    if len(table) > MAX_RULES:
        raise BadHeaders(f"{len(table)} patterns: at most {MAX_RULES}")
    rules = []
    for pattern, headers in table.items():
        check_pattern(pattern)
        if not isinstance(headers, Mapping):
            raise BadHeaders(f'{pattern!r}: expected a table of header = "value"')
        if len(headers) > MAX_HEADERS:
            raise BadHeaders(f"{pattern!r}: {len(headers)} headers, at most {MAX_HEADERS}")
        seen: set[str] = set()
        found = []
        for name, value in headers.items():
            if not isinstance(value, str):
                raise BadHeaders(f"{pattern!r}: {name} must be a string")
            found.append(check_header(str(name), value))
            if name.lower() in seen:
                raise BadHeaders(f"{pattern!r}: {name} is set twice")
            seen.add(name.lower())
        rules.append(HeaderRule(pattern, tuple(found)))
    return tuple(rules)


def headers_for(rules: Iterable[HeaderRule], path: str) -> list[tuple[str, str]]:
    """The headers a response for the file at URL path PATH gets; a later rule wins a name."""
    chosen: dict[str, tuple[str, str]] = {}
    for rule in rules:
        if rule.matches(path):
            for name, value in rule.headers:
                chosen.pop(name.lower(), None)
                chosen[name.lower()] = (name, value)
    return list(chosen.values())
