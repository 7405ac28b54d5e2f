"""What a manifest may hold: how deep, how large, which numbers, and text fit for a header.

A manifest comes from a dist folder anyone may have edited, or from a site `check` fetches: every
value is bounded here before the reader trusts it, and every value that reaches an HTTP header
(Content-Type, Content-Encoding, ETag, Use-As-Dictionary) has the grammar of that header.
"""

from __future__ import annotations

import json
import re
from typing import Any

from wasmship.errors import ManifestError

MAX_MANIFEST_SIZE = 64 * 1024 * 1024  # bytes of manifest.json; a real one is a few KiB per file
MAX_DEPTH = 32  # nesting of objects and lists; a manifest needs 7
MAX_FILE_SIZE = 1 << 40  # 1 TiB: more than any file of a dist a browser loads
MAX_NUMBER = 1 << 53  # any other number: the whole numbers JSON carries exactly everywhere
MAX_SHOWN = 60  # characters of a bad value quoted in an error message

# RFC 9110 5.6.2 token, 5.6.4 quoted-string (ASCII only), 8.3.1 media-type with parameters.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")
CODING = re.compile(r"[a-z0-9-]{1,80}")  # a Content-Encoding token, or dcz-<sha256> as a key
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_MEDIA_TYPE = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# `routes`: dist paths (or globs over them) a service worker answers, that are no files.
MAX_ROUTES = 64
MAX_ROUTE = 200
_ROUTE = re.compile(r"[A-Za-z0-9._~%!$&'()+,;=:@/*?\[\]-]+")
_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels: not a wasmship manifest"


def route_problem(route: str) -> str | None:
    """What is wrong with ROUTE as a route a service worker answers (`api/*`); None if fine."""
    path = route.lstrip("/")
    if not path or len(route) > MAX_ROUTE:
        return f"must be a path of 1 to {MAX_ROUTE} characters"
    if not _ROUTE.fullmatch(path):
        return "may hold only URL path characters and the glob characters * ? [ ]"
    if ".." in path.split("/") or "." in path.split("/"):
        return "must not hold . or .. segments: a path from the site's root"
    return None


def check_routes(routes: tuple[str, ...]) -> None:
    """ROUTES bounded; ManifestError names the first bad one."""
    if len(routes) > MAX_ROUTES:
        raise ManifestError(f"routes: more than {MAX_ROUTES}")
    for i, route in enumerate(routes):
        problem = route_problem(route)
        if problem is not None:
            raise ManifestError(f"routes[{i}]: {shown(route)} {problem}")


def shown(value: object) -> str:
    """VALUE as an error message quotes it: its repr, cut short (control characters escaped)."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str | bytes) -> Any:
    """TEXT as JSON, bounded: ManifestError when too large or too deep, ValueError when not JSON
    (NaN and Infinity included)."""
    if len(text) > MAX_MANIFEST_SIZE:
        raise ManifestError(
            f"larger than {MAX_MANIFEST_SIZE // (1024 * 1024)} MiB: not a wasmship manifest"
        )
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # json's own stack ran out: deeper than MAX_DEPTH by far
        raise ManifestError(_TOO_DEEP) from None
    check_depth(document)
    return document


def check_depth(document: object) -> None:
    """ManifestError when DOCUMENT nests objects and lists deeper than MAX_DEPTH (no recursion)."""
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ManifestError(_TOO_DEEP)
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children)


def check_values(document: object) -> None:
    """ManifestError naming the JSON path of the first string with a control character (CR, LF,
    ESC...) or number out of bounds: no value of a manifest may end a header line or a line of
    output, or overflow what reads it."""
    pending: list[tuple[object, str]] = [(document, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if _CONTROL.search(key):
                    raise ManifestError(
                        f"{where or 'manifest'}: the key {shown(key)} has a control character"
                    )
                pending.append((child, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            pending.extend((child, f"{where}[{i}]") for i, child in enumerate(value))
        elif isinstance(value, str) and _CONTROL.search(value):
            raise ManifestError(f"{where}: {shown(value)} has a control character")
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (abs(value) > MAX_NUMBER)
        ):
            raise ManifestError(f"{where}: {shown(value)} is out of bounds (at most 2**53)")


def media_type(value: object, where: str) -> str:
    """VALUE if it is a media type a Content-Type header can carry (`text/html; charset=utf-8`)."""
    if isinstance(value, str) and len(value) <= MAX_MEDIA_TYPE and MEDIA_TYPE.fullmatch(value):
        return value
    raise ManifestError(
        f"{where}: expected a media type such as 'text/html; charset=utf-8', found {shown(value)}"
    )


def coding(value: object, where: str) -> str:
    """VALUE if it is a content coding token (br, gzip, zstd, dcz, or dcz-<hash> as a key)."""
    if isinstance(value, str) and CODING.fullmatch(value):
        return value
    raise ManifestError(f"{where}: expected a coding such as 'br' or 'gzip', found {shown(value)}")


def sha256(value: object, where: str) -> str:
    """VALUE if it is a lowercase hex SHA-256 (an ETag is made of it)."""
    if isinstance(value, str) and SHA256.fullmatch(value):
        return value
    raise ManifestError(f"{where}: expected a lowercase hex SHA-256, found {shown(value)}")


def size(value: object, where: str) -> int:
    """VALUE if it is a size in bytes a dist's file can have (0 to MAX_FILE_SIZE)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_FILE_SIZE:
        return value
    raise ManifestError(f"{where}: expected a size in bytes up to 1 TiB, found {shown(value)}")
