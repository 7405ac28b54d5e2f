"""A release module's bytes attributed to Go packages, with the named build's help.

- Code: each function body belongs to its function's package. The names come from Go's own
  function tables in the module (exact Go names, in code-section order); the named build's
  name section must agree with them (it spells them with `_` for `/`, `*`, `(`).
- Data: split by region and symbol (data.py): Go's function tables exactly, the other data
  symbols by their archive sizes, scaled down to what the segments hold, never up.
- What is left (the module's type, import, function, element and custom sections) is the
  module's structure, reported as unattributed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from wasmship.errors import WasmshipError
from wasmship.size.data import split_data
from wasmship.size.estimate import estimate_br
from wasmship.size.model import Item, ModuleSize, PackageSize
from wasmship.size.pclntab import FunctionTables, find_tables
from wasmship.size.source import NamedBuild
from wasmship.size.symbols import data_by_package
from wasmship.size.wasm import WasmModule, memory_image, parse_module
from wasmship.toolchain.symbols import function_package

TOP = 20  # functions and data symbols listed per package
STRUCTURE = "module structure"
UNEXPLAINED = "data"
_UNSANITIZED = re.compile(r"[^0-9A-Za-z_.]")  # what Go's linker turns into `_` in wasm names


class SourceMismatch(WasmshipError):
    """The dist's module was not built from the sources at hand."""


@dataclass(frozen=True)
class Module:
    """The release module as the dist lists it."""

    logical: str
    path: str
    target: str
    sha256: str
    data: bytes
    br: int | None


def _check_same_code(release: WasmModule, named: WasmModule, module: Module) -> None:
    mine = [b.size for b in release.bodies]
    theirs = [b.size for b in named.bodies]
    if mine != theirs:
        raise SourceMismatch(
            f"{module.path} was not built from these sources: built again with names, they "
            f"give {len(theirs)} functions ({sum(theirs)} bytes of code) where the module has "
            f"{len(mine)} ({sum(mine)}); build the dist again (`wasmship build`), then run "
            "`wasmship size`"
        )


def _functions(
    release: WasmModule, named: WasmModule, tables: FunctionTables | None, paths: tuple[str, ...]
) -> list[tuple[str, str]]:
    """(name, package) of each body: Go's names when the tables agree with the name section."""
    count = len(release.bodies)
    listed = [named.body_name(i) or f"function {i}" for i in range(count)]
    go_names = tables.names if tables is not None else ()
    if len(go_names) == count and all(
        _UNSANITIZED.sub("_", n) == s for n, s in zip(go_names, listed, strict=True)
    ):
        return [(n, function_package(n)) for n in go_names]
    # Only the name section's spelling: its package prefix is matched to the import paths.
    spelled = sorted(((_UNSANITIZED.sub("_", p), p) for p in paths), key=lambda x: -len(x[0]))
    found = []
    for name in listed:
        bare = name.removeprefix("type_.eq.").removeprefix("type_.hash.")
        package = next((p for s, p in spelled if bare.startswith(s + ".")), None)
        found.append((name, package or function_package(name)))
    return found


def attribute(module: Module, named: NamedBuild) -> ModuleSize:
    """MODULE's bytes by package; SourceMismatch when NAMED is not the same program."""
    release = parse_module(module.data)
    named_module = parse_module(named.module)
    _check_same_code(release, named_module, module)
    image = memory_image(module.data, release)
    tables = find_tables(image)
    code: Counter[str] = Counter()
    bodies: dict[str, list[bytes]] = {}
    functions: dict[str, list[Item]] = {}
    listed = _functions(release, named_module, tables, named.import_paths)
    for body, (name, package) in zip(release.bodies, listed, strict=True):
        code[package] += body.size + body.prefix
        raw = module.data[body.start : body.start + body.size]
        bodies.setdefault(package, []).append(raw)
        functions.setdefault(package, []).append(Item(name, body.size + body.prefix))

    symbols = data_by_package(named.symbols, named.graph)
    shares = split_data(module.data, release.segments, tables, symbols)
    data = shares.bytes
    structure = len(module.data) - sum(code.values()) - sum(data.values()) - shares.unexplained
    br, rest_br = estimate_br(
        {p: b"".join(chunks) for p, chunks in bodies.items()},
        shares.compressed,
        shares.unexplained_compressed,
        structure,
        module.br,
    )
    factor = shares.symbol_factor
    unattributed = {UNEXPLAINED: shares.unexplained, STRUCTURE: structure}
    packages = []
    for name in set(code) | set(data):
        items = sorted(functions.get(name, []), key=lambda i: (-i.size, i.name))[:TOP]
        found = symbols.get(name, {})
        largest = sorted(found, key=lambda s: (-found[s], s))[:TOP]
        packages.append(
            PackageSize(
                name=name,
                code=code[name],
                data=data.get(name, 0),
                br_estimate=br.get(name, 0),
                functions=tuple(items),
                symbols=tuple(Item(s, round(found[s] * factor)) for s in largest),
            )
        )
    packages.sort(key=lambda p: (-p.total, p.name))
    return ModuleSize(
        module=module.logical,
        path=module.path,
        target=module.target,
        sha256=module.sha256,
        total=len(module.data),
        br=module.br,
        packages=tuple(packages),
        unattributed={k: v for k, v in unattributed.items() if v},
        unattributed_br=rest_br,
    )
