"""Step 4: content-hash files into their names; the hash and integrity rules live here."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from wasmship.context import SHIM, Artifact, BuildContext

HASH_LENGTH = 8

CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
}


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def integrity(data: bytes) -> str:
    """The Subresource Integrity value (sha384) of DATA."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def hashed_name(logical: str, data: bytes) -> str:
    """`main.wasm` -> `main.3f9c2a1b.wasm`: a prefix of the SHA-256 before the extension."""
    stem, dot, ext = logical.rpartition(".")
    digest = sha256_hex(data)[:HASH_LENGTH]
    return f"{stem}.{digest}.{ext}" if dot else f"{logical}.{digest}"


def content_type(name: str) -> str:
    """The Content-Type a server must send for NAME."""
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def add_artifact(ctx: BuildContext, logical: str, data: bytes, *, hashed: bool) -> Artifact:
    """Write DATA into staging under its (hashed) name and record it: names are made only here."""
    name = hashed_name(logical, data) if hashed else logical
    (ctx.staging / name).write_bytes(data)
    artifact = Artifact(
        logical=logical,
        path=name,
        content_type=content_type(logical),
        immutable=hashed,
        size=len(data),
        sha256=sha256_hex(data),
        integrity=integrity(data),
    )
    ctx.artifacts[logical] = artifact
    return artifact


def fingerprint(ctx: BuildContext) -> None:
    """Rename the modules and the shim to content-hashed names (unless --no-hash)."""
    names = [target.module for target in ctx.targets]
    if ctx.page_target is not None:
        names.append(SHIM)
    for logical in names:
        plain = ctx.staging / logical
        data = plain.read_bytes()
        plain.unlink()
        add_artifact(ctx, logical, data, hashed=ctx.config.hash_names)
    ctx.notes["fingerprint"] = ", ".join(ctx.artifacts[t.module].path for t in ctx.targets)
