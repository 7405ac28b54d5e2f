"""How a dist's files go over HTTP: representations, caching, types and Accept-Encoding.

Written once, used by `serve` (which applies these rules), `check` (which expects them) and the
server configs `build --server-config` writes (which spell them for nginx, Caddy, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmship.errors import ManifestError

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


@dataclass(frozen=True)
class Coding:
    """A content coding a dist may carry precompressed, by its HTTP token."""

    token: str
    suffix: str  # the precompressed sibling's suffix: main.3f9c2a1b.wasm.br
    aliases: tuple[str, ...] = ()
    # Variants of this coding depend on a dictionary the client must already hold (RFC 9842).
    needs_dictionary: bool = False


# In order of preference when the client accepts several equally: smallest output first.
# A dcz delta (RFC 9842) is only a candidate when the client holds its dictionary; its file
# is `<path>.<dictionary hash prefix>.dcz`.
CODINGS: tuple[Coding, ...] = (
    Coding("dcz", ".dcz", needs_dictionary=True),
    Coding("br", ".br"),
    Coding("zstd", ".zst"),
    Coding("gzip", ".gz", aliases=("x-gzip",)),
)
_BY_TOKEN = {coding.token: coding for coding in CODINGS}
_ALIASES = {alias: coding.token for coding in CODINGS for alias in coding.aliases}
_RANK = {coding.token: rank for rank, coding in enumerate(CODINGS)}


def vary(has_variants: bool, has_deltas: bool) -> str | None:
    """The Vary of a file's responses: what the server's choice of representation depends on."""
    if not has_variants and not has_deltas:
        return None
    return "Accept-Encoding, Available-Dictionary" if has_deltas else "Accept-Encoding"


@dataclass(frozen=True)
class Variant:
    """A precompressed representation of a file, as the manifest lists it."""

    key: str  # the manifest's key in `encodings`
    coding: str  # the Content-Encoding token (the key unless the entry names another)
    path: str
    size: int
    sha256: str
    dictionary: str | None = None  # sha256 of the dictionary a delta variant needs

    @property
    def etag(self) -> str:
        """A strong validator for exactly these bytes."""
        return etag_for(self.sha256)


@dataclass(frozen=True)
class DistFile:
    """One file of a dist target, with the rules for serving it."""

    logical: str
    path: str
    size: int
    sha256: str
    content_type: str
    immutable: bool
    variants: tuple[Variant, ...]

    @property
    def etag(self) -> str:
        """A strong validator for the identity bytes."""
        return etag_for(self.sha256)

    @property
    def cache_control(self) -> str:
        """The Cache-Control a correct server sends for this file."""
        return cache_control(self.immutable)

    def negotiable(self) -> tuple[Variant, ...]:
        """The variants a server knows how to label: their coding is one of CODINGS."""
        return tuple(v for v in self.variants if v.coding in _BY_TOKEN)

    @property
    def deltas(self) -> tuple[Variant, ...]:
        """The variants that need a dictionary the client already holds (dcz)."""
        return tuple(v for v in self.negotiable() if _BY_TOKEN[v.coding].needs_dictionary)

    @property
    def plain_variants(self) -> tuple[Variant, ...]:
        """The variants any client accepting their coding can decode (br, zstd, gzip)."""
        return tuple(v for v in self.negotiable() if v not in self.deltas)

    @property
    def vary(self) -> str | None:
        """The Vary a response for this file needs: what the choice of variant depends on."""
        return vary(bool(self.negotiable()), bool(self.deltas))

    def dictionary_match(self, mount: str = "/") -> str | None:
        """The Use-As-Dictionary match pattern for a hashed module or shim, else None.

        `main.3f9c2a1b.wasm` mounted at `/app/` gives `/app/main.*.wasm`: every later build's
        module matches, so the browser offers this one as the dictionary for the next.
        """
        if not self.immutable or self.path == self.logical or not _is_dictionary_file(self.logical):
            return None
        folder, _, _ = self.path.rpartition("/")
        stem, _, ext = self.logical.rsplit("/", 1)[-1].rpartition(".")
        prefix = mount.rstrip("/") + "/" + (folder + "/" if folder else "")
        return f"{prefix}{stem}.*.{ext}"


def _is_dictionary_file(logical: str) -> bool:
    """Files a browser should keep as a dictionary: modules and the shim."""
    return logical.endswith(".wasm") or logical == "wasm_exec.js"


def use_as_dictionary(pattern: str) -> str:
    """The Use-As-Dictionary response header value for a URL pattern."""
    return f'match="{pattern}"'


def cache_control(immutable: bool) -> str:
    """Hashed files are cached forever; everything else is revalidated on each use."""
    return IMMUTABLE_CACHE if immutable else REVALIDATE_CACHE


def etag_for(sha256: str) -> str:
    """A strong entity tag from a representation's SHA-256."""
    return f'"{sha256[:32]}"'


def media_type(content_type: str) -> str:
    """`Text/JavaScript; charset=utf-8` -> `text/javascript`."""
    return content_type.split(";", 1)[0].strip().lower()


def content_type_matches(expected: str, actual: str) -> bool:
    """Whether ACTUAL is an acceptable Content-Type where EXPECTED is the manifest's."""
    want, got = media_type(expected), media_type(actual)
    if want in JAVASCRIPT_TYPES:
        return got in JAVASCRIPT_TYPES
    return want == got


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: expected a non-empty string, found {value!r}")
    return value


def _size(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ManifestError(f"{where}: expected a size in bytes, found {value!r}")
    return value


def _variant(key: str, raw: Any, where: str) -> Variant:
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{where}: expected an object")
    dictionary = raw.get("dictionary")
    return Variant(
        key=key,
        coding=_text(raw.get("coding", key), f"{where}.coding").lower(),
        path=_text(raw.get("path"), f"{where}.path"),
        size=_size(raw.get("size"), f"{where}.size"),
        sha256=_text(raw.get("sha256"), f"{where}.sha256"),
        dictionary=_text(dictionary, f"{where}.dictionary") if dictionary is not None else None,
    )


def _dist_file(logical: str, raw: Any, where: str) -> DistFile:
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{where}: expected an object")
    encodings = raw.get("encodings", {})
    if not isinstance(encodings, Mapping):
        raise ManifestError(f"{where}.encodings: expected an object")
    return DistFile(
        logical=logical,
        path=_text(raw.get("path"), f"{where}.path"),
        size=_size(raw.get("size"), f"{where}.size"),
        sha256=_text(raw.get("sha256"), f"{where}.sha256"),
        content_type=_text(raw.get("content_type"), f"{where}.content_type"),
        immutable=raw.get("immutable") is True,
        variants=tuple(
            _variant(str(key), value, f"{where}.encodings.{key}")
            for key, value in sorted(encodings.items())
        ),
    )


def dist_files(manifest: Any) -> dict[str, DistFile]:
    """Every file of every target in MANIFEST, and every kept earlier file, keyed by path."""
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("targets"), list):
        raise ManifestError("not a wasmship manifest: no `targets` list")
    result: dict[str, DistFile] = {}
    for t, target in enumerate(manifest["targets"]):
        files = target.get("files") if isinstance(target, Mapping) else None
        if not isinstance(files, Mapping):
            raise ManifestError(f"targets[{t}].files: expected an object")
        for logical, raw in files.items():
            entry = _dist_file(str(logical), raw, f"targets[{t}].files.{logical}")
            result[entry.path] = entry
    previous = manifest.get("previous", [])
    if not isinstance(previous, list):
        raise ManifestError("previous: expected a list")
    for p, raw in enumerate(previous):
        logical = raw.get("logical") if isinstance(raw, Mapping) else None
        entry = _dist_file(str(logical), raw, f"previous[{p}]")
        result.setdefault(entry.path, entry)  # a current file wins over a kept one
    return result


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
    (see dcz.parse_available_dictionary); a delta is a candidate only for its own dictionary.

    Identity is the fallback unless the client refused it (`identity;q=0`, or `*;q=0`
    without naming identity); it wins only when the client ranks it higher explicitly.
    Raises NotAcceptable when nothing is left.
    """
    best: tuple[float, int, Variant] | None = None
    for variant in variants:
        coding = _BY_TOKEN.get(variant.coding)
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
