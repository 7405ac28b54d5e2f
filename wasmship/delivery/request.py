"""Reading what a client asked the preview server for: a safe path and a byte range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote


def request_path(target: str) -> str | None:
    """The dist-relative path a request target names, or None if it must not be served.

    Each segment is percent-decoded on its own, so `%2f` cannot smuggle a separator in;
    `.` and `..` (in any encoding), dotfiles, backslashes and NUL are refused outright.
    `/` names index.html.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    segments: list[str] = []
    for raw in path.split("/"):
        if not raw:
            continue
        try:
            segment = unquote(raw, errors="strict") if "%" in raw else raw
        except UnicodeDecodeError:
            return None
        if segment.startswith(".") or any(c in segment for c in "/\\\0"):
            return None
        segments.append(segment)
    return "/".join(segments) or "index.html"


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range of a representation."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Exception):
    """A Range with no byte inside the representation: answered with 416."""


_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range HEADER asks for within SIZE bytes, or None to send everything.

    Malformed and multi-range requests are ignored (RFC 9110 14.2 allows it); a range that
    starts past the end raises Unsatisfiable.
    """
    match = _SINGLE_RANGE.match(header or "")
    if not match:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable()
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return ByteRange(start, min(end, size - 1))
