"""The digests a dist is checked by: SHA-256, Subresource Integrity, ETags, dictionary hashes."""

from __future__ import annotations

import base64
import hashlib
import re

SRI_ALGORITHMS = ("sha512", "sha384", "sha256")  # strongest first, as browsers pick (SRI spec)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def integrity(data: bytes) -> str:
    """The Subresource Integrity value (sha384) of DATA."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def integrity_matches(value: str, data: bytes) -> bool:
    """Whether an SRI integrity VALUE accepts DATA (any hash of the strongest algorithm given)."""
    hashes: dict[str, set[str]] = {}
    for token in value.split():
        algorithm, _, digest = token.partition("-")
        digest = digest.split("?", 1)[0]  # SRI allows options after the digest
        if algorithm in SRI_ALGORITHMS and digest:
            hashes.setdefault(algorithm, set()).add(digest)
    for algorithm in SRI_ALGORITHMS:
        if algorithm in hashes:
            actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")
            return actual in hashes[algorithm]
    return False


def etag_for(sha256: str) -> str:
    """A strong entity tag from a representation's SHA-256."""
    return f'"{sha256[:32]}"'


def available_dictionary(sha256: str) -> str:
    """A dictionary's hash as the Available-Dictionary header carries it: `:base64:`."""
    return ":" + base64.b64encode(bytes.fromhex(sha256)).decode("ascii") + ":"


_SF_BINARY = re.compile(r"^\s*:([A-Za-z0-9+/]*={0,2}):\s*$")


def parse_available_dictionary(value: str | None) -> str | None:
    """The hex SHA-256 an Available-Dictionary header names, or None if it names none."""
    match = _SF_BINARY.match(value or "")
    if not match:
        return None
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == 32 else None
