"""How a dist's files go over HTTP: representations, caching, types and Accept-Encoding.

Written once, used by `serve` (which applies these rules), `check` (which expects them) and the
server configs `build --server-config` writes (which spell them for nginx, Caddy, ...). The
files and their variants are the manifest's (wasmship.distformat.model); these are the rules for
sending them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wasmship.distformat.model import FileEntry, Variant
from wasmship.distformat.names import CODING_BY_TOKEN, CODINGS

ONE_YEAR = 31_536_000
IMMUTABLE_CACHE = f"public, max-age={ONE_YEAR}, immutable"
REVALIDATE_CACHE = "no-cache"
SHORT_MAX_AGE = 600  # the longest an entry point may be cached without revalidation
NOSNIFF = "nosniff"

# Every JavaScript MIME type essence a browser accepts for a script (WHATWG MIME Sniffing).
JAVASCRIPT_TYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)


_ALIASES = {alias: coding.token for coding in CODINGS for alias in coding.aliases}
_RANK = {coding.token: rank for rank, coding in enumerate(CODINGS)}


def vary(has_variants: bool, has_deltas: bool) -> str | None:
    """The Vary of a file's responses: what the server's choice of representation depends on."""
    if not has_variants and not has_deltas:
        return None
    return "Accept-Encoding, Available-Dictionary" if has_deltas else "Accept-Encoding"


def negotiable(entry: FileEntry) -> tuple[Variant, ...]:
    """The variants a server knows how to label: their coding is one of CODINGS."""
    return tuple(v for v in entry.variants if v.coding in CODING_BY_TOKEN)


def response_vary(entry: FileEntry) -> str | None:
    """The Vary a response for ENTRY needs: what the choice of variant depends on."""
    return vary(bool(negotiable(entry)), bool(entry.deltas))


def use_as_dictionary(pattern: str) -> str:
    """The Use-As-Dictionary response header value for a URL pattern (an sf-string: quoted)."""
    escaped = pattern.replace("\\", "\\\\").replace('"', '\\"')
    return f'match="{escaped}"'


def cache_control(immutable: bool) -> str:
    """Hashed files are cached forever; everything else is revalidated on each use."""
    return IMMUTABLE_CACHE if immutable else REVALIDATE_CACHE


def media_type(content_type: str) -> str:
    """`Text/JavaScript; charset=utf-8` -> `text/javascript`."""
    return content_type.split(";", 1)[0].strip().lower()


def content_type_matches(expected: str, actual: str) -> bool:
    """Whether ACTUAL is an acceptable Content-Type where EXPECTED is the manifest's."""
    want, got = media_type(expected), media_type(actual)
    if want in JAVASCRIPT_TYPES:
        return got in JAVASCRIPT_TYPES
    return want == got


@dataclass(frozen=True)
class AcceptEncoding:
    """A parsed Accept-Encoding: each named coding (or `*`) with its q-value."""

    qualities: Mapping[str, float]

    def quality(self, token: str) -> float | None:
        """The q-value the client gave TOKEN (directly or by `*`); None if it said nothing."""
        if token in self.qualities:
            return self.qualities[token]
        return self.qualities.get("*")


_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def parse_accept_encoding(header: str | None) -> AcceptEncoding:
    """Parse Accept-Encoding (RFC 9110 12.5.3); malformed members are ignored."""
    qualities: dict[str, float] = {}
    for member in (header or "").split(","):
        token, *params = (part.strip() for part in member.split(";"))
        token = token.lower()
        if not token:
            continue
        token = _ALIASES.get(token, token)
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else -1.0
        if q >= 0 and token not in qualities:
            qualities[token] = q
    return AcceptEncoding(qualities)


class NotAcceptable(Exception):
    """The client refused identity and every variant there is."""


def choose_variant(
    accept: AcceptEncoding,
    variants: Iterable[Variant],
    available_dictionary: str | None = None,
) -> Variant | None:
    """The variant to send (None for identity): highest q, then the order of CODINGS.

    AVAILABLE_DICTIONARY is the hex SHA-256 the client's Available-Dictionary header names
    (see digests.parse_available_dictionary); a delta is a candidate only for its own dictionary.

    Identity is the fallback unless the client refused it (`identity;q=0`, or `*;q=0`
    without naming identity); it wins only when the client ranks it higher explicitly.
    Raises NotAcceptable when nothing is left.
    """
    best: tuple[float, int, Variant] | None = None
    for variant in variants:
        coding = CODING_BY_TOKEN.get(variant.coding)
        if coding is None:
            continue
        if coding.needs_dictionary and variant.dictionary != available_dictionary:
            continue
        q = accept.quality(variant.coding)
        if not q:
            continue
        candidate = (q, -_RANK[variant.coding], variant)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    identity = accept.quality("identity")
    if best is not None and (identity is None or best[0] >= identity):
        return best[2]
    if identity is None or identity > 0:
        return None
    raise NotAcceptable()


_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')


def none_match(header: str | None, etag: str) -> bool:
    """Whether If-None-Match HEADER matches ETAG (weak comparison, as RFC 9110 13.1.2 says)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(match.group(1) == etag for match in _ENTITY_TAG.finditer(header))


def cache_directives(header: str | None) -> dict[str, str]:
    """`public, max-age=60` -> {"public": "", "max-age": "60"} (names lowercased)."""
    directives: dict[str, str] = {}
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives.setdefault(name.strip().lower(), value.strip().strip('"'))
    return directives


def header_tokens(header: str | None) -> set[str]:
    """A comma-separated header as a set of lowercased tokens (for Vary)."""
    return {part.strip().lower() for part in (header or "").split(",") if part.strip()}
