"""The data section split by package.

Go's linker writes linear memory as data segments, leaving out runs of zeros (each segment
costs a header of about 8 bytes). Three regions are told apart:

- the function tables (pclntab): split by function exactly, see pclntab.py;
- the function lookup table (findfunctab): a fixed number of buckets per function in a wasm
  module, so split by each package's number of functions;
- everything else (type descriptors, string literals, static data, `//go:embed` content, GC
  maps): the data symbols the linker kept, with their sizes from the package archives. Their
  bytes are scaled down together if they add up to more than the segments hold (zeros are
  left out), never up: what they do not explain stays unexplained. The segment headers there
  are shared by number of symbols (a segment breaks where zeros are, and zeros lie between
  and inside symbols, not inside an embedded file's bytes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from wasmship.size.estimate import apportion, compressed_size
from wasmship.size.pclntab import FunctionTables
from wasmship.size.wasm import Segment


@dataclass(frozen=True)
class DataShares:
    """Each package's bytes of the data section, and what they cost after compression."""

    bytes: dict[str, int]
    compressed: dict[str, float]  # bytes times the compression ratio of their region
    unexplained: int
    unexplained_compressed: float
    symbol_factor: float  # a symbol's archive size times this: its bytes in the segments


def _overlap(segment: Segment, low: int, high: int) -> int:
    return max(0, min(segment.address + segment.size, high) - max(segment.address, low))


def _ratio(module: bytes, segments: list[Segment]) -> float:
    """The compression ratio of SEGMENTS as the file holds them (headers and bytes)."""
    raw = b"".join(module[s.start - s.header : s.start + s.size] for s in segments)
    return compressed_size(raw) / len(raw) if raw else 0.0


def split_data(
    module: bytes,
    segments: tuple[Segment, ...],
    tables: FunctionTables | None,
    symbols: Mapping[str, Mapping[str, int]],
) -> DataShares:
    """The data section's segments (SEGMENTS, from MODULE) by package."""
    active = [s for s in segments if s.address >= 0]
    shares: Counter[str] = Counter()
    compressed: dict[str, float] = {}
    regions: list[tuple[tuple[int, int], Mapping[str, int]]] = []
    if tables is not None:
        regions.append(((tables.start, tables.end), tables.by_package))
        if tables.lookup is not None:
            regions.append((tables.lookup, tables.functions_by_package()))
    for (low, high), weights in regions:
        inside = [s for s in active if low <= s.address < high]
        size = sum(_overlap(s, low, high) for s in active) + sum(s.header for s in inside)
        ratio = _ratio(module, inside)
        for package, share in apportion(size, weights).items():
            shares[package] += share
            compressed[package] = compressed.get(package, 0.0) + share * ratio

    def outside(segment: Segment) -> bool:
        return not any(low <= segment.address < high for (low, high), _ in regions)

    rest = [s for s in active if outside(s)]
    written = sum(s.size for s in active) - sum(
        _overlap(s, low, high) for s in active for (low, high), _ in regions
    )
    headers = sum(s.header for s in rest)
    declared = {package: sum(found.values()) for package, found in symbols.items()}
    counts = {package: len(found) for package, found in symbols.items()}
    whole = sum(declared.values())
    if whole >= written:  # zeros left out: the symbols' sizes scaled down to the bytes held
        explained, explained_headers = apportion(written, declared), headers
    else:
        explained = dict(declared)
        explained_headers = round(headers * whole / written) if written else 0
    header_shares = apportion(explained_headers, counts)
    ratio = _ratio(module, rest)
    for package in declared:
        share = explained.get(package, 0) + header_shares.get(package, 0)
        shares[package] += share
        compressed[package] = compressed.get(package, 0.0) + share * ratio
    unexplained = written + headers - sum(explained.values()) - explained_headers
    return DataShares(
        bytes={k: v for k, v in shares.items() if v},
        compressed=dict(compressed),
        unexplained=unexplained,
        unexplained_compressed=unexplained * ratio,
        symbol_factor=min(1.0, written / whole) if whole else 0.0,
    )
