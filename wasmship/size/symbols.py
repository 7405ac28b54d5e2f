"""Data symbols: which ones the linker kept (its `-dumpdep` graph), how large each is (the
package archives' symbol tables, `go tool nm -size`), and which package each belongs to.

A symbol whose name names no package (a string literal, a GC map, an unnamed type) belongs to
the package of the first symbol that the dependency graph shows referring to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from wasmship.size.packages import RUNTIME, package_of

ROOT = "_"  # the linker's name for its roots in the graph
DATA_KINDS = frozenset("RDrd")  # read-only data and data: what the data segments hold
_NM_LINE = re.compile(r"^\s*[0-9a-f]*\s+(\d+) (\S) (.*)$")
_ANNOTATION = re.compile(r" <[A-Za-z]+>$")  # " <UsedInIface>" in the graph
_VERSION = re.compile(r"<\d+>$")  # "<1>" after a file-local symbol in nm


@dataclass(frozen=True)
class Graph:
    """The linker's reachability graph: every kept symbol and who first referred to it."""

    reached: frozenset[str]
    referrer: Mapping[str, str]


def parse_dumpdep(text: str) -> Graph:
    """The `from -> to` lines the linker prints with -dumpdep; other lines are ignored."""
    reached: set[str] = set()
    referrer: dict[str, str] = {}
    for line in text.splitlines():
        source, arrow, target = line.partition(" -> ")
        if not arrow:
            continue
        source, target = _ANNOTATION.sub("", source), _ANNOTATION.sub("", target)
        reached.add(target)
        if source != ROOT:
            reached.add(source)
            referrer.setdefault(target, source)
    return Graph(frozenset(reached), referrer)


def is_dumpdep_line(line: str) -> bool:
    """Whether LINE is one of the linker's graph lines (not one of Go's own messages)."""
    return " -> " in line


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
