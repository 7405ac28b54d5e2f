"""The import and export sections of a WebAssembly module: what it asks of its host and what
it offers. Every other section is passed over by its size."""

from __future__ import annotations

from wasmship.distformat.plugin import Export, Import, ModuleInterface
from wasmship.wasm.binary import EXPORT, IMPORT, NotWasm, Reader, find_section, sections

KINDS = ("func", "table", "memory", "global", "tag")  # the external kinds, by their byte


def read_interface(data: bytes) -> ModuleInterface:
    """The imports and exports of the module in DATA, each once and sorted (Go imports fd_write
    twice, from runtime and syscall); NotWasm if DATA is not a module."""
    found = sections(data)
    imports = find_section(found, IMPORT)
    exports = find_section(found, EXPORT)
    return ModuleInterface(
        tuple(sorted(set(read_imports(Reader.over(data, imports))))) if imports else (),
        tuple(sorted(set(_exports(Reader.over(data, exports))))) if exports else (),
    )


def read_imports(reader: Reader) -> list[Import]:
    """The imports of an import section, in order (the order of the index spaces)."""
    found = []
    for _ in range(reader.uleb()):
        module, name = reader.name(), reader.name()
        kind = _kind(reader)
        if kind == "func":
            reader.uleb()  # type index
        elif kind == "table":
            reader.byte()  # element type
            reader.limits()
        elif kind == "memory":
            reader.limits()
        elif kind == "global":
            reader.byte()  # value type
            reader.byte()  # mutability
        else:  # tag: attribute and type index
            reader.byte()
            reader.uleb()
        found.append(Import(module, name, kind))
    return found


def _exports(reader: Reader) -> list[Export]:
    found = []
    for _ in range(reader.uleb()):
        name = reader.name()
        kind = _kind(reader)
        reader.uleb()  # index
        found.append(Export(name, kind))
    return found


def _kind(reader: Reader) -> str:
    at = reader.pos
    byte = reader.byte()
    if byte >= len(KINDS):
        raise NotWasm(f"unknown external kind {byte} at byte {at}")
    return KINDS[byte]
