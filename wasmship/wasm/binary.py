"""A reader of the WebAssembly binary format: the header, LEB128 numbers, names, and the
sections by their sizes. What a caller needs of a section (imports and exports, code bodies,
data segments, function names) it reads from a Reader over that section's payload.

Only sizes and names are decoded, never instructions: a 20 MiB module is read in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wasmship.errors import WasmshipError

MAGIC = b"\0asm"
VERSION = b"\1\0\0\0"
HEADER_SIZE = len(MAGIC) + len(VERSION)
CUSTOM, IMPORT, EXPORT, CODE, DATA = 0, 2, 7, 10, 11
SECTION_NAMES = {
    0: "custom",
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    6: "global",
    7: "export",
    8: "start",
    9: "element",
    10: "code",
    11: "data",
    12: "datacount",
}
LEB_BYTES = 5  # every number these sections hold is a u32 or an s32: at most 5 bytes of LEB128


class NotWasm(WasmshipError):
    """The bytes are not a WebAssembly module this reader understands."""


@dataclass(frozen=True)
class Section:
    """One section: its id, its custom name (custom sections only), where its payload is."""

    id: int
    name: str
    start: int  # offset of the payload in the file
    size: int  # payload size
    header: int  # bytes of the id and size (and, for a custom section, nothing more)

    @property
    def kind(self) -> str:
        """`code`, `data`, `custom:name`, ..."""
        base = SECTION_NAMES.get(self.id, f"section {self.id}")
        return f"custom:{self.name}" if self.id == CUSTOM else base


class Reader:
    """Reads DATA from START to END (a section's payload): past END is an error, not a read."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data, self.pos = data, start
        self.end = len(data) if end is None else end

    @classmethod
    def over(cls, data: bytes, section: Section) -> Reader:
        """A reader of SECTION's payload."""
        return cls(data, section.start, section.start + section.size)

    def byte(self) -> int:
        """The next byte."""
        if self.pos >= self.end:
            raise NotWasm(f"unexpected end at byte {self.pos} (the module is truncated or damaged)")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uleb(self) -> int:
        """An unsigned LEB128 number."""
        return self._leb(signed=False)

    def sleb(self) -> int:
        """A signed LEB128 number."""
        return self._leb(signed=True)

    def _leb(self, signed: bool) -> int:
        result = shift = 0
        for _ in range(LEB_BYTES):
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result - (1 << shift) if signed and byte & 0x40 else result
        raise NotWasm(f"a LEB128 number longer than {LEB_BYTES} bytes at byte {self.pos}")

    def name(self, *, lenient: bool = False) -> str:
        """A name: UTF-8 (with LENIENT, bad bytes are replaced rather than refused)."""
        length = self.uleb()
        start = self.skip(length)
        raw = self.data[start : start + length]
        try:
            return raw.decode("utf-8", "replace" if lenient else "strict")
        except UnicodeDecodeError:
            raise NotWasm(f"a name is not UTF-8 at byte {start}") from None

    def skip(self, count: int) -> int:
        """Pass over COUNT bytes; where they start."""
        start = self.pos
        if count < 0 or start + count > self.end:
            raise NotWasm(
                f"a field of {count} bytes at byte {start} runs past its section "
                f"(which ends at byte {self.end})"
            )
        self.pos += count
        return start

    def limits(self) -> None:
        """Pass over a table's or a memory's limits (a minimum and perhaps a maximum)."""
        flags = self.byte()
        self.uleb()
        if flags & 1:
            self.uleb()


def sections(data: bytes) -> tuple[Section, ...]:
    """The sections of the module in DATA, in order; NotWasm if it is not one."""
    if data[: len(MAGIC)] != MAGIC:
        raise NotWasm("not a WebAssembly module (no \\0asm magic)")
    if data[len(MAGIC) : HEADER_SIZE] != VERSION:
        raise NotWasm(f"WebAssembly version {data[len(MAGIC) : HEADER_SIZE].hex()} is not 1")
    reader = Reader(data, HEADER_SIZE)
    found = []
    while reader.pos < len(data):
        begin = reader.pos
        id, size = reader.byte(), reader.uleb()
        start = reader.pos
        if start + size > len(data):
            kind = SECTION_NAMES.get(id, f"section {id}")
            raise NotWasm(
                f"truncated: the {kind} section at byte {begin} runs past the end of the module "
                f"({size} bytes announced, {len(data) - start} there)"
            )
        reader.skip(size)
        name = Reader(data, start, start + size).name(lenient=True) if id == CUSTOM else ""
        found.append(Section(id, name, start, size, start - begin))
    return tuple(found)


def find_section(found: Iterable[Section], id: int, name: str = "") -> Section | None:
    """The first section with ID (and NAME, for a custom section) of FOUND."""
    return next((s for s in found if s.id == id and s.name == name), None)
