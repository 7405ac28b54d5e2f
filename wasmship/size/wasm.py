"""The parts of a WebAssembly module that size attribution reads, on the shared reader of the
binary format (wasmship/wasm/binary.py): the code section's function bodies, the name
section's function names, the data segments, and the memory image they make."""

from __future__ import annotations

from dataclasses import dataclass, field

from wasmship.wasm.binary import (
    CODE,
    CUSTOM,
    DATA,
    IMPORT,
    NotWasm,
    Reader,
    Section,
    find_section,
    sections,
)
from wasmship.wasm.interface import read_imports


@dataclass(frozen=True)
class Body:
    """One function body of the code section (its size prefix counted with it)."""

    start: int  # offset of the body's bytes in the file
    size: int  # the body's bytes
    prefix: int  # the bytes of its LEB128 size


@dataclass(frozen=True)
class Segment:
    """One active data segment: the address it is copied to and its bytes in the file."""

    address: int
    start: int  # offset of the bytes in the file
    size: int
    header: int  # the segment's bytes in the file besides its data


@dataclass(frozen=True)
class WasmModule:
    """What size attribution needs to know of a module."""

    size: int
    sections: tuple[Section, ...]
    imported_functions: int
    bodies: tuple[Body, ...]
    segments: tuple[Segment, ...]
    names: dict[int, str] = field(default_factory=dict)  # function index -> name

    def section(self, id: int, name: str = "") -> Section | None:
        """The first section with ID (and NAME, for a custom section)."""
        return find_section(self.sections, id, name)

    def body_name(self, position: int) -> str | None:
        """The name of the POSITION-th body (imports come first in the index space)."""
        return self.names.get(self.imported_functions + position)


def parse_module(data: bytes) -> WasmModule:
    """The sections, bodies, data segments and function names of a module; NotWasm if it is
    not one."""
    found = sections(data)
    imports = find_section(found, IMPORT)
    code = find_section(found, CODE)
    data_section = find_section(found, DATA)
    names = find_section(found, CUSTOM, "name")
    return WasmModule(
        size=len(data),
        sections=found,
        imported_functions=_imported_functions(data, imports) if imports else 0,
        bodies=_bodies(data, code) if code else (),
        segments=_segments(data, data_section) if data_section else (),
        names=_function_names(data, names) if names else {},
    )


def _imported_functions(data: bytes, section: Section) -> int:
    return sum(1 for i in read_imports(Reader.over(data, section)) if i.kind == "func")


def _bodies(data: bytes, section: Section) -> tuple[Body, ...]:
    reader = Reader.over(data, section)
    bodies = []
    for _ in range(reader.uleb()):
        before = reader.pos
        size = reader.uleb()
        prefix = reader.pos - before
        bodies.append(Body(reader.skip(size), size, prefix))
    return tuple(bodies)


def _segments(data: bytes, section: Section) -> tuple[Segment, ...]:
    reader = Reader.over(data, section)
    segments = []
    for _ in range(reader.uleb()):
        before = reader.pos
        flags = reader.uleb()
        if flags == 1:  # passive: no address
            address = -1
        else:
            if flags == 2:
                reader.uleb()  # memory index
            if reader.byte() != 0x41:  # i32.const
                raise NotWasm("a data segment's offset is not an i32.const")
            address = reader.sleb()
            if reader.byte() != 0x0B:
                raise NotWasm("a data segment's offset expression does not end")
        size = reader.uleb()
        header = reader.pos - before
        segments.append(Segment(address, reader.skip(size), size, header))
    return tuple(segments)


def _function_names(data: bytes, section: Section) -> dict[int, str]:
    reader = Reader.over(data, section)
    reader.name(lenient=True)  # "name"
    names: dict[int, str] = {}
    while reader.pos < reader.end:
        kind, size = reader.byte(), reader.uleb()
        start = reader.skip(size)
        if kind != 1:  # 1: function names; module and local names are not needed
            continue
        sub = Reader(data, start, start + size)
        for _ in range(sub.uleb()):
            index = sub.uleb()
            names[index] = sub.name(lenient=True)
    return names


def memory_image(data: bytes, module: WasmModule) -> bytearray:
    """Linear memory as the data segments initialise it (zeros where no segment writes)."""
    active = [s for s in module.segments if s.address >= 0]
    end = max((s.address + s.size for s in active), default=0)
    image = bytearray(end)
    for segment in active:
        image[segment.address : segment.address + segment.size] = data[
            segment.start : segment.start + segment.size
        ]
    return image
