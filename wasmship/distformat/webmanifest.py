"""What a web manifest of the dist references (icons, start_url, scope), each with its line."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wasmship.distformat.consistency import json_path


@dataclass(frozen=True)
class WebManifestReference:
    """A URL in a web manifest: an icon's src, start_url or scope."""

    member: str  # its JSON path: $.icons[0].src
    url: str
    line: int

    @property
    def folder(self) -> bool:
        """A scope names the folder the app's pages are in, not a file to fetch."""
        return self.member == "$.scope"

    def describe(self) -> str:
        """How the member reads, for messages."""
        return f'{self.member} "{self.url}"'


def web_manifest_references(text: str) -> list[WebManifestReference]:
    """A web manifest's icons[].src, start_url and scope, in order; ValueError if not JSON."""
    json.loads(text)  # raises json.JSONDecodeError (a ValueError) with its line
    line_of = _lines(text)
    found = []
    for path, value, offset in _string_values(text):
        icon = len(path) == 3 and path[0] == "icons" and isinstance(path[1], int)
        if path in (("start_url",), ("scope",)) or (icon and path[2] == "src"):
            found.append(WebManifestReference(json_path(*path), value, line_of(offset)))
    return found


@dataclass
class _Frame:
    array: bool
    key: str = ""
    index: int = 0
    wants_key: bool = False


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _string_values(text: str) -> Iterator[tuple[tuple[str | int, ...], str, int]]:
    """(JSON path, value, offset) of every string value in TEXT, which must be valid JSON."""
    frames: list[_Frame] = []
    for token in _JSON_TOKEN.finditer(text):
        value = token[0]
        top = frames[-1] if frames else _Frame(array=False)
        if value in ("}", "]"):
            frames.pop()
        elif value == ":":
            top.wants_key = False
        elif value == ",":
            top.index += 1
            top.wants_key = not top.array
        elif top.wants_key:
            top.key = json.loads(value)
        elif value in ("{", "["):
            frames.append(_Frame(array=value == "[", wants_key=value == "{"))
        elif value.startswith('"'):
            path = tuple(f.index if f.array else f.key for f in frames)
            yield path, json.loads(value), token.start()


def _lines(text: str) -> Callable[[int], int]:
    breaks = [m.start() for m in re.finditer("\n", text)]
    return lambda offset: 1 + bisect.bisect_left(breaks, offset)
