"""Data symbols: which ones the linker kept (its `-dumpdep` graph), how large each is (the
package archives' symbol tables, `go tool nm -size`), and which package each belongs to.

A symbol whose name names no package (a string literal, a GC map, an unnamed type) belongs to
the package of the first symbol that the dependency graph shows referring to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from wasmship.toolchain.dumpdep import Graph
from wasmship.toolchain.symbols import RUNTIME, package_of

DATA_KINDS = frozenset("RDrd")  # read-only data and data: what the data segments hold
_NM_LINE = re.compile(r"^\s*[0-9a-f]*\s+(\d+) (\S) (.*)$")
_VERSION = re.compile(r"<\d+>$")  # "<1>" after a file-local symbol in nm


def parse_nm(text: str) -> dict[str, tuple[str, int]]:
    """`go tool nm -size` output (one or several archives): symbol -> (kind, size).

    A symbol defined in several archives (type descriptors, string literals: the linker
    keeps one copy) is listed once.
    """
    symbols: dict[str, tuple[str, int]] = {}
    for line in text.splitlines():
        _, tab, rest = line.rpartition(":\t")
        match = _NM_LINE.match(rest if tab else line)
        if match is None:
            continue
        size, kind, name = match.groups()
        if kind == "U":
            continue
        symbols.setdefault(_VERSION.sub("", name), (kind, int(size)))
    return symbols


def owner(symbol: str, graph: Graph) -> str:
    """The package SYMBOL is counted to: by its name, else by its first referrer's."""
    seen: set[str] = set()
    current: str | None = symbol
    while current is not None and current not in seen:
        found = package_of(current)
        if found is not None:
            return found
        seen.add(current)
        current = graph.referrer.get(current)
    return RUNTIME


def data_by_package(
    symbols: Mapping[str, tuple[str, int]], graph: Graph
) -> dict[str, dict[str, int]]:
    """Package -> {symbol: size} of the data symbols the linker kept."""
    found: dict[str, dict[str, int]] = {}
    for name in sorted(graph.reached):
        kind_size = symbols.get(name)
        if kind_size is None or kind_size[0] not in DATA_KINDS or not kind_size[1]:
            continue
        found.setdefault(owner(name, graph), {})[name] = kind_size[1]
    return found
