"""Go's function tables (the pclntab), found in the module's data and split by package.

Every Go binary carries, for each function, its name, its entry in a lookup table, a `_func`
record and the pc-value tables the runtime walks for stack traces and garbage collection
(runtime/symtab.go; written by cmd/link/internal/ld/pcln.go). In a wasm module they lie in
linear memory, which the data segments initialise, and are kept in stripped builds. Their
layout has been stable since Go 1.20 (header magic 0xfffffff1); a module whose tables do not
read as expected gets no split (its bytes stay with the other data).
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, replace

from wasmship.toolchain.symbols import RUNTIME, function_package

# magic 0xfffffff1 (Go 1.20+), two zero pads, minLC 1 (wasm), pointer size 8
_HEADER = b"\xf1\xff\xff\xff\x00\x00\x01\x08"
_HEADER_SIZE = 8 + 8 * 8
_FUNC_SIZE = 44  # _func without its pcdata and funcdata offsets
_BUCKET, _SUBBUCKET = 4096, 256  # findfunctab: a 4-byte index per bucket, a byte per subbucket


@dataclass(frozen=True)
class FunctionTables:
    """Where the tables lie in memory and how many of their bytes each package accounts for."""

    start: int
    end: int
    by_package: dict[str, int]  # sums to end - start
    names: tuple[str, ...]  # each function's name, in the order of the code section
    lookup: tuple[int, int] | None = None  # findfunctab: pc -> function buckets

    def functions_by_package(self) -> dict[str, int]:
        """How many functions each package has (the lookup table's cost is per function)."""
        return dict(Counter(function_package(name) for name in self.names))


def _u32(image: bytes | bytearray, at: int) -> int:
    value: int = struct.unpack_from("<I", image, at)[0]
    return value


def _cstring(image: bytes | bytearray, at: int, end: int) -> str:
    stop = image.find(b"\0", at, end)
    return bytes(image[at : stop if stop >= 0 else end]).decode("utf-8", "replace")


def find_tables(image: bytes | bytearray) -> FunctionTables | None:
    """The function tables in IMAGE (linear memory) split by package, or None if not found."""
    base = image.find(_HEADER)
    if base < 0 or base + _HEADER_SIZE > len(image):
        return None
    nfunc, _, _, names_at, cu_at, files_at, pc_at, funcs_at = struct.unpack_from(
        "<8Q", image, base + 8
    )
    if not (_HEADER_SIZE <= names_at <= cu_at <= files_at <= pc_at <= funcs_at):
        return None
    functab = base + funcs_at
    if nfunc <= 0 or functab + 8 * (nfunc + 1) > len(image):
        return None
    try:
        tables = _split(image, base, nfunc, (names_at, cu_at, files_at, pc_at, funcs_at))
    except (struct.error, IndexError, ValueError):
        return None  # not the layout this reader knows: no split rather than a wrong one
    if tables is None:
        return None
    return replace(tables, lookup=_lookup(image, base, names_at, base + funcs_at))


def _lookup(
    image: bytes | bytearray, base: int, names_at: int, ftab: int
) -> tuple[int, int] | None:
    """The findfunctab's span, read from the module data (runtime.moduledata) that points at
    the header: pcHeader, then the slices funcnametab, cutab, filetab, pctab, pclntable, ftab
    (three words each), then findfunctab, minpc, maxpc. None if it does not read so."""
    at = image.find(struct.pack("<QQ", base, base + names_at))
    if at < 0 or at + 22 * 8 > len(image):
        return None
    words = struct.unpack_from("<22Q", image, at)
    if words[13] != ftab or words[16] != ftab:
        return None
    start, low, high = words[19], words[20], words[21]
    if not 0 < start < len(image) or high <= low:
        return None
    span = high - low
    size = 4 * ((span + _BUCKET - 1) // _BUCKET) + (span + _SUBBUCKET - 1) // _SUBBUCKET
    return start, min(start + size, len(image))


def _split(
    image: bytes | bytearray, base: int, nfunc: int, offsets: tuple[int, int, int, int, int]
) -> FunctionTables | None:
    names_at, cu_at, files_at, pc_at, funcs_at = (base + o for o in offsets)
    owners: Counter[str] = Counter()
    records = sorted(
        (_u32(image, funcs_at + 8 * k + 4), k) for k in range(nfunc)
    )  # (offset of the _func from the functab, function number)
    tables: dict[int, str] = {}  # pc-value table offset -> package of its first user
    units: dict[int, str] = {}  # compilation unit (cutab index) -> package
    last_end = funcs_at + 8 * (nfunc + 1)
    names = [""] * nfunc
    for position, (offset, number) in enumerate(records):
        at = funcs_at + offset
        name = _cstring(image, names_at + struct.unpack_from("<i", image, at + 4)[0], cu_at)
        package = function_package(name)
        names[number] = name
        npcdata, cu = _u32(image, at + 28), _u32(image, at + 32)
        nfuncdata = image[at + 43]
        size = _FUNC_SIZE + 4 * npcdata + 4 * nfuncdata
        following = records[position + 1][0] if position + 1 < len(records) else None
        record_end = funcs_at + following if following is not None else at + size
        if record_end < at + size or record_end > len(image):
            return None
        owners[package] += record_end - at + 8  # the record and its functab entry
        last_end = max(last_end, record_end)
        for table in (_u32(image, at + 16), _u32(image, at + 20), _u32(image, at + 24)):
            tables.setdefault(table, package)
        for k in range(npcdata):
            tables.setdefault(_u32(image, at + _FUNC_SIZE + 4 * k), package)
        units.setdefault(cu, package)
    owners[RUNTIME] += 8  # the functab's closing entry
    _names(image, names_at, cu_at, owners)
    _spans(tables, pc_at, funcs_at, owners, unit=1)
    _spans(units, cu_at, files_at, owners, unit=4)
    _files(image, units, cu_at, files_at, pc_at, owners)
    accounted = sum(owners.values())
    start, end = base, last_end
    owners[RUNTIME] += (end - start) - accounted  # the header, padding, unclaimed names
    if owners[RUNTIME] < 0:
        return None
    return FunctionTables(start, end, {k: v for k, v in owners.items() if v}, tuple(names))


def _names(image: bytes | bytearray, start: int, end: int, owners: Counter[str]) -> None:
    """Each name in the name table (functions and the functions inlined into them)."""
    for raw in bytes(image[start:end]).split(b"\0")[:-1]:
        name = raw.decode("utf-8", "replace")
        owners[function_package(name) if name else RUNTIME] += len(raw) + 1


def _spans(
    first_user: dict[int, str], start: int, end: int, owners: Counter[str], unit: int
) -> None:
    """Tables laid out one after another: each runs to the next one's offset."""
    offsets = sorted(o for o in first_user if 0 < o < (end - start) // unit)
    for position, offset in enumerate(offsets):
        following = offsets[position + 1] if position + 1 < len(offsets) else (end - start) // unit
        owners[first_user[offset]] += max(0, following - offset) * unit


def _files(
    image: bytes | bytearray,
    units: dict[int, str],
    cu_at: int,
    files_at: int,
    pc_at: int,
    owners: Counter[str],
) -> None:
    """Each file name, to the package of the first compilation unit that lists it."""
    starts = sorted(u for u in units if u < (files_at - cu_at) // 4)
    claimed: dict[int, str] = {}
    for position, unit in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else (files_at - cu_at) // 4
        for index in range(unit, stop):
            offset = _u32(image, cu_at + 4 * index)
            if offset != 0xFFFFFFFF:
                claimed.setdefault(offset, units[unit])
    for offset, package in claimed.items():
        owners[package] += len(_cstring(image, files_at + offset, pc_at)) + 1
