"""What each package costs after brotli, estimated.

Each package's function bodies are compressed together (brotli quality 5: fast, and close in
ratio to quality 11 on code). A package's data symbols are not contiguous, so its data is
counted at the compression ratio of the data region it lies in (function tables, lookup
table, other data: see data.py); the module's structure at the ratio of its code. When the
dist holds the module's real .br, the estimates are scaled to add up to exactly its size.
"""

from __future__ import annotations

from collections.abc import Mapping

import brotli

QUALITY = 5
WINDOW = 22


def compressed_size(data: bytes) -> int:
    """DATA's size after brotli at the estimate's settings."""
    return len(brotli.compress(data, quality=QUALITY, lgwin=WINDOW)) if data else 0


def apportion(total: int, weights: Mapping[str, int | float]) -> dict[str, int]:
    """TOTAL split in proportion to WEIGHTS, in whole bytes that add up to TOTAL exactly
    (largest remainders first, then by name: the same inputs give the same split)."""
    keys = sorted(weights)
    whole = sum(weights[k] for k in keys)
    if whole <= 0 or total <= 0:
        return dict.fromkeys(keys, 0)
    exact = {k: total * weights[k] / whole for k in keys}
    shares = {k: int(exact[k]) for k in keys}
    rest = total - sum(shares.values())
    for key in sorted(keys, key=lambda k: (shares[k] - exact[k], k))[:rest]:
        shares[key] += 1
    return shares


def estimate_br(
    code: Mapping[str, bytes],
    data: Mapping[str, float],
    unexplained: float,
    structure: int,
    real_br: int | None,
) -> tuple[dict[str, int], int]:
    """Per package, and for the unattributed rest: CODE is each package's function bodies,
    DATA its data's compressed size (estimated), UNEXPLAINED the compressed size of the data
    no package explains, STRUCTURE the module's other bytes (at the module's average ratio)."""
    packed = {name: compressed_size(raw) for name, raw in code.items()}
    weights: dict[str, float] = {
        name: packed.get(name, 0) + data.get(name, 0.0) for name in sorted(set(code) | set(data))
    }
    raw_code = sum(len(raw) for raw in code.values())
    average = sum(packed.values()) / raw_code if raw_code else 1.0
    rest_key = "\0unattributed"  # sorts apart from any package name
    weights[rest_key] = unexplained + structure * average
    total = real_br if real_br is not None else round(sum(weights.values()))
    shares = apportion(total, weights)
    rest = shares.pop(rest_key)
    return shares, rest
