"""A wasip1 module's interface with its host, as the manifest records it: the imports it asks
for, the exports it offers, and the capabilities its [[target]] allows (`interface`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wasmship.errors import ManifestError


@dataclass(frozen=True, order=True)
class Import:
    """A function (or table, memory, global) the host must provide: `module.name`."""

    module: str
    name: str
    kind: str = "func"

    @property
    def key(self) -> str:
        """`wasi_snapshot_preview1.fd_write`."""
        return f"{self.module}.{self.name}"


@dataclass(frozen=True, order=True)
class Export:
    """Something the module offers its host by name: `_start`, `memory`, an exported `add`."""

    name: str
    kind: str = "func"


@dataclass(frozen=True)
class ModuleInterface:
    """What a module imports and exports (each once, sorted), and what its target allows."""

    imports: tuple[Import, ...]
    exports: tuple[Export, ...]
    allow: tuple[str, ...] | None = None  # None: the target has no allow list

    def functions(self) -> tuple[str, ...]:
        """The names of the exported functions."""
        return tuple(e.name for e in self.exports if e.kind == "func")

    def to_json(self) -> dict[str, Any]:
        """The `interface` object of a target in manifest.json."""
        document: dict[str, Any] = {
            "imports": [{"module": i.module, "name": i.name, "kind": i.kind} for i in self.imports],
            "exports": [{"name": e.name, "kind": e.kind} for e in self.exports],
        }
        if self.allow is not None:
            document["allow"] = list(self.allow)
        return document


def parse_interface(raw: object, where: str) -> ModuleInterface:
    """A target's `interface` object; ManifestError names the JSON path of a problem."""
    found = _object(raw, where)
    allow = found.get("allow")
    if allow is not None and not (
        isinstance(allow, list) and all(isinstance(a, str) and a for a in allow)
    ):
        raise ManifestError(f"{where}.allow: expected a list of strings, found {allow!r}")
    return ModuleInterface(
        imports=tuple(
            Import(
                _text(i.get("module"), f"{where}.imports[{n}].module"),
                _text(i.get("name"), f"{where}.imports[{n}].name"),
                _text(i.get("kind", "func"), f"{where}.imports[{n}].kind"),
            )
            for n, i in enumerate(_objects(found.get("imports", []), f"{where}.imports"))
        ),
        exports=tuple(
            Export(
                _text(e.get("name"), f"{where}.exports[{n}].name"),
                _text(e.get("kind", "func"), f"{where}.exports[{n}].kind"),
            )
            for n, e in enumerate(_objects(found.get("exports", []), f"{where}.exports"))
        ),
        allow=None if allow is None else tuple(allow),
    )


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where}: expected an object, found {value!r}")
    return value


def _objects(value: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise ManifestError(f"{where}: expected a list, found {value!r}")
    return [_object(v, f"{where}[{n}]") for n, v in enumerate(value)]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ManifestError(f"{where}: expected a string, found {value!r}")
    return value
