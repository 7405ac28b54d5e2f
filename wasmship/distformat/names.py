"""The names of a dist's files: logical names, content-hashed names, variant suffixes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

MANIFEST = "manifest.json"
SHIM = "wasm_exec.js"
NODE_SHIM = "wasm_exec_node.js"
LOADER = "loader.js"
LOADER_STYLE = "loader.css"
ICON = "icon.svg"  # the built-in page's icon: no 404 for /favicon.ico on every load
PAGE = "index.html"
WORKER = "sw.js"  # the service worker (--offline): a stable URL, never hashed
WEB_MANIFEST = "manifest.webmanifest"  # the web app manifest ([app]): stable, never hashed

# A client route of a single-page app (--spa): a path the dist does not have whose last segment
# has no dot (/settings/profile, /settings/); a missing path with an extension (/app.js) stays
# 404. The same rule as a regex over the URL path, for the server configs (PCRE and RE2).
CLIENT_ROUTE_PATTERN = r"(?:^|/)[^/.]*$"


def is_client_route(relative: str) -> bool:
    """Whether RELATIVE (a dist-relative path a request named) has the form of a client route."""
    return "." not in relative.rsplit("/", 1)[-1]


HASH_LENGTH = 8  # hex digits of the SHA-256 in a hashed name
DELTA_PREFIX_LENGTH = 8  # hex digits of the dictionary's SHA-256 in a delta's name
DELTA_KEY_PREFIX = "dcz-"  # a delta's key in `encodings`: dcz-<dictionary sha256>

# A target's name is its module's file name: letters, digits, `-`, `_` and `.`, never first a
# dot (`.hidden.wasm` is a dotfile servers refuse; `.` and `..` are folders).
TARGET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
TARGET_NAME_RULE = "letters, digits, '-', '_' and '.', not starting with a dot"

UTF8 = "; charset=utf-8"

# The Content-Type of each file a dist may hold, by extension (matched ignoring case): the
# registered (IANA, WHATWG) types browsers expect; nginx's mime.types says the same where it
# lists the extension, but for aliases noted here. Text types say UTF-8; XML (and so SVG) and
# JSON do not: their own rules name the encoding.
CONTENT_TYPES = {
    # code and pages
    ".wasm": "application/wasm",
    ".html": "text/html" + UTF8,
    ".htm": "text/html" + UTF8,
    ".js": "text/javascript" + UTF8,  # RFC 9239; nginx's application/javascript is an alias
    ".mjs": "text/javascript" + UTF8,
    ".css": "text/css" + UTF8,
    # data
    ".json": "application/json",
    ".map": "application/json",  # source maps (ECMA-426)
    ".webmanifest": "application/manifest+json",  # W3C Web Application Manifest
    ".xml": "application/xml",  # RFC 7303 (nginx: its alias text/xml)
    ".txt": "text/plain" + UTF8,
    ".csv": "text/csv" + UTF8,
    ".pdf": "application/pdf",
    # images
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",  # what nginx and browsers send; IANA's is image/vnd.microsoft.icon
    ".bmp": "image/bmp",
    # fonts (RFC 8081)
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    # audio and video
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    # archives
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".zst": "application/zstd",  # RFC 8878
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Media types whose bytes are compressed already: a general-purpose coding seldom saves
# anything on them, so the compress step tries one only after a cheap probe says it would.
COMPRESSED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "font/woff",
        "font/woff2",
        "audio/mpeg",
        "audio/ogg",
        "audio/flac",
        "video/mp4",
        "video/webm",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/zstd",
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


# In order of preference when a client accepts several equally: smallest output first.
# A dcz delta (RFC 9842) is `<path>.<dictionary hash prefix>.dcz`.
CODINGS: tuple[Coding, ...] = (
    Coding("dcz", ".dcz", needs_dictionary=True),
    Coding("br", ".br"),
    Coding("zstd", ".zst"),
    Coding("gzip", ".gz", aliases=("x-gzip",)),
)
CODING_BY_TOKEN = {coding.token: coding for coding in CODINGS}
PLAIN_CODINGS = frozenset(c.token for c in CODINGS if not c.needs_dictionary)


def is_target_name(name: str) -> bool:
    """Whether NAME may name a target (and so its module, NAME.wasm)."""
    return TARGET_NAME.match(name) is not None


def hashed_name(logical: str, sha256: str) -> str:
    """`main.wasm` -> `main.3f9c2a1b.wasm`: a prefix of the file's SHA-256 (hex) before the
    extension."""
    head, tail = hashed_parts(logical)
    return f"{head}{sha256[:HASH_LENGTH]}{tail}"


def variant_path(path: str, coding: str) -> str:
    """`main.3f9c2a1b.wasm` + br -> `main.3f9c2a1b.wasm.br`."""
    return path + CODING_BY_TOKEN[coding].suffix


def delta_path(path: str, dictionary_sha256: str) -> str:
    """`main.3f9c2a1b.wasm` + dictionary -> `main.3f9c2a1b.wasm.7c01e9aa.dcz`."""
    return f"{path}.{dictionary_sha256[:DELTA_PREFIX_LENGTH]}{CODING_BY_TOKEN['dcz'].suffix}"


def content_type(name: str) -> str:
    """The Content-Type a server must send for NAME."""
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), DEFAULT_CONTENT_TYPE)


def is_compressed_type(content_type: str) -> bool:
    """Whether files of CONTENT_TYPE are compressed already (PNG, JPEG, WOFF2, MP4, zip...)."""
    return content_type.split(";", 1)[0].strip().lower() in COMPRESSED_TYPES


def is_dictionary_file(logical: str) -> bool:
    """Files a browser should keep as a dictionary for the next build's: modules and the shim."""
    return logical.endswith(".wasm") or logical == SHIM


def dictionary_pattern(logical: str) -> str:
    """`main.wasm` -> `main.*.wasm`: the Use-As-Dictionary name pattern of any later build's."""
    stem, _, ext = logical.rsplit("/", 1)[-1].rpartition(".")
    return f"{stem}.*.{ext}"


def relative_path(path: object) -> str | None:
    """PATH if it is a plain relative POSIX path that stays inside a dist, else None.

    The one rule for paths a manifest or a request names: no absolute path, no drive, no
    backslash, no empty, `.` or `..` segment.
    """
    if not isinstance(path, str) or not path or "\\" in path or "\0" in path:
        return None
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return None
    if any(part in ("", ".", "..") for part in path.split("/")):
        return None
    return path


def hashed_parts(logical: str) -> tuple[str, str]:
    """What comes before and after the hash in LOGICAL's hashed name: `main.`, `.wasm` (of its
    last segment: `css/site.css`'s is `site.<hash>.css`, in its folder)."""
    name = logical.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return (f"{stem}.", f".{ext}") if dot and stem else (f"{name}.", "")


def hash_in_name(logical: str, path: str) -> str | None:
    """The hex digits in PATH when it is LOGICAL's hashed name (see hashed_name), else None."""
    head, tail = hashed_parts(logical)
    digits = f"([0-9a-f]{{{HASH_LENGTH}}})"
    match = re.fullmatch(re.escape(head) + digits + re.escape(tail), path)
    return match.group(1) if match else None
