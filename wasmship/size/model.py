"""Where a module's bytes go, as data: packages with their code, data and brotli estimate.

The JSON form (`wasmship size --json`, `build --size-report`, the stored copy a later build
diffs against) is documented in docs/size.md; keys are only ever added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT = 1  # the stored form's version


@dataclass(frozen=True)
class Item:
    """A function (code) or a data symbol of a package, with its bytes in the module."""

    name: str
    size: int


@dataclass(frozen=True)
class PackageSize:
    """One Go package's bytes in a module."""

    name: str
    code: int  # function bodies
    data: int  # its share of the data section (symbols, function tables, segment headers)
    br_estimate: int  # what its bytes cost after brotli, estimated (see docs/size.md)
    functions: tuple[Item, ...] = ()  # the largest, largest first
    symbols: tuple[Item, ...] = ()  # the largest data symbols, largest first

    @property
    def total(self) -> int:
        """Code and data."""
        return self.code + self.data

    def to_json(self) -> dict[str, Any]:
        """The package as JSON data."""
        return {
            "name": self.name,
            "code": self.code,
            "data": self.data,
            "br_estimate": self.br_estimate,
            "functions": [{"name": f.name, "size": f.size} for f in self.functions],
            "symbols": [{"name": s.name, "size": s.size} for s in self.symbols],
        }


@dataclass(frozen=True)
class ModuleSize:
    """A module's bytes by Go package, and what is left unattributed."""

    module: str  # the logical name, main.wasm
    path: str  # the file in the dist, main.3f9c2a1b.wasm
    target: str
    sha256: str
    total: int  # the module's size in bytes
    br: int | None  # the module's real .br size, when the dist has one
    packages: tuple[PackageSize, ...]  # largest first
    unattributed: Mapping[str, int] = field(default_factory=dict)  # what -> bytes
    unattributed_br: int = 0

    @property
    def attributed(self) -> int:
        """The bytes counted to a package."""
        return sum(p.total for p in self.packages)

    @property
    def coverage(self) -> float:
        """The share of the module counted to a package."""
        return self.attributed / self.total if self.total else 1.0

    def package(self, name: str) -> PackageSize | None:
        """The package called NAME."""
        return next((p for p in self.packages if p.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (without `diff`: the caller adds it)."""
        return {
            "format": FORMAT,
            "module": self.module,
            "path": self.path,
            "target": self.target,
            "sha256": self.sha256,
            "total": self.total,
            "br": self.br,
            "attributed": self.attributed,
            "coverage": round(self.coverage, 4),
            "unattributed": dict(sorted(self.unattributed.items())),
            "unattributed_br": self.unattributed_br,
            "packages": [p.to_json() for p in self.packages],
        }


def _items(raw: object) -> tuple[Item, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(Item(str(i["name"]), int(i["size"])) for i in raw if isinstance(i, dict))


def module_from_json(document: Mapping[str, Any]) -> ModuleSize:
    """A ModuleSize from its JSON form; KeyError, TypeError or ValueError if it is not one."""
    if document.get("format") != FORMAT:
        raise ValueError(f"size data format {document.get('format')!r}, expected {FORMAT}")
    br = document.get("br")
    return ModuleSize(
        module=str(document["module"]),
        path=str(document["path"]),
        target=str(document["target"]),
        sha256=str(document["sha256"]),
        total=int(document["total"]),
        br=None if br is None else int(br),
        packages=tuple(
            PackageSize(
                name=str(p["name"]),
                code=int(p["code"]),
                data=int(p["data"]),
                br_estimate=int(p["br_estimate"]),
                functions=_items(p.get("functions")),
                symbols=_items(p.get("symbols")),
            )
            for p in document["packages"]
        ),
        unattributed={str(k): int(v) for k, v in dict(document["unattributed"]).items()},
        unattributed_br=int(document.get("unattributed_br", 0)),
    )
