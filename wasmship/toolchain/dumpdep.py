"""The linker's reachability graph, as `-ldflags=-dumpdep` prints it: `from -> to` for every
symbol the first time the linker marks it, from its roots (`_`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

ROOT = "_"  # the linker's name for its roots in the graph
_ARROW = " -> "
_ANNOTATION = re.compile(r" <[A-Za-z]+>$")  # " <UsedInIface>" after a symbol


@dataclass(frozen=True)
class Graph:
    """The linker's reachability graph: every kept symbol and who first referred to it."""

    reached: frozenset[str]
    referrer: Mapping[str, str]  # symbol -> the symbol that made the linker reach it


def parse_dumpdep(text: str) -> Graph:
    """The `from -> to` lines the linker prints with -dumpdep; other lines are ignored."""
    reached: set[str] = set()
    referrer: dict[str, str] = {}
    for line in text.splitlines():
        source, arrow, target = line.partition(_ARROW)
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
    return _ARROW in line


def path_to(symbol: str, graph: Graph) -> list[str]:
    """The symbols from a root of the graph down to SYMBOL, as the linker reached them."""
    path = [symbol]
    while path[-1] in graph.referrer and len(path) < 10_000:
        path.append(graph.referrer[path[-1]])
    return path[::-1]
