"""Sizes in the user's words: "2 MiB" in, "1.5 MiB" out."""

from __future__ import annotations

import re

from wasmship.errors import UsageError

UNITS = {
    "B": 1,
    "KB": 1000,
    "KIB": 1024,
    "MB": 1000**2,
    "MIB": 1024**2,
    "GB": 1000**3,
    "GIB": 1024**3,
}
MAX_SIZE = 2**60  # 1 EiB
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """`2 MiB` -> 2097152. Units: B, KB, KiB, MB, MiB, GB, GiB (a bare number is bytes)."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f'cannot read {text!r} as a size: write e.g. "2 MiB" or "500KB"')
    number, unit = match.groups()
    factor = UNITS.get((unit or "B").upper())
    if factor is None:
        raise UsageError(
            f"unknown size unit {unit!r} in {text!r}: use B, KB, KiB, MB, MiB, GB or GiB"
        )
    size = float(number) * factor
    if size >= MAX_SIZE:  # past any file (and float's range: int(inf) would be a traceback)
        raise UsageError(f"{text!r} is too large for a size: at most 1 EiB")
    return int(size)


def human_size(size: int) -> str:
    """Bytes in the unit a person reads at a glance."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
