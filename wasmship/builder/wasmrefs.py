"""Every `.wasm` and `wasm_exec.js` URL a web folder (or a dist) writes where a browser reads
URLs, with its line and the dist path it names: what build and verify hold to "a module URL
names a module".

A whole URL (the literal or attribute is the URL) resolves as in a browser (builder/spans.py
says against what); one built from pieces (`base + "app.wasm"`, `${base}/app.wasm`) cannot be
resolved, so it stands for a file of that name in any folder, as the rewrite treats it. A name
inside prose ("could not load app.wasm") is not a URL. Another origin's URL is listed (a Go
shim on a CDN is one, see builder/cdnshim.py) but names no file of the dist.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from wasmship.builder.spans import Span, documents, spans
from wasmship.distformat.names import SHIM
from wasmship.distformat.page import is_external, lines, local_path

# A URL ending in a module (`x.wasm`) or naming Go's shim (`wasm_exec.js` as a whole segment),
# with its query and fragment; the characters around it are not URL characters.
_URL = re.compile(
    r"""(?<![\w.~%@:/+$-])(?P<url>(?:[\w.~%@:/+-]*/)?wasm_exec\.js|[\w.~%@:/+-]*[\w~%@+-]\.wasm)"""
    r"""(?![\w$-]|\.\w)(?P<rest>[?#][^\s"'`<>]*)?"""
)


@dataclass(frozen=True)
class WasmReference:
    """A `.wasm` or `wasm_exec.js` URL in a file, and the dist path it names."""

    file: str  # the dist path of the file that writes it
    line: int
    url: str  # as written, without its query and fragment
    resolved: str | None  # the dist path it names (None: built from pieces, or off the dist)
    piece: bool = False  # built from pieces: it names a file of this name, wherever it is
    external: bool = False  # another origin's URL (a CDN's shim)

    @property
    def name(self) -> str:
        """The file name it ends in: `app.wasm`, `wasm_exec.js`."""
        return posixpath.basename(unquote(urlsplit(self.url).path))


def wasm_references(texts: Mapping[str, str]) -> list[WasmReference]:
    """Every `.wasm` and `wasm_exec.js` URL in TEXTS (pages, scripts, stylesheets and web
    manifests by dist path), in file and line order, each resolved once per folder it resolves
    against (a script two pages load is read against each page)."""
    pages, loaded = documents(texts)
    found: list[WasmReference] = []
    for rel in sorted(texts):
        text = texts[rel]
        line_of = lines(text)
        for span in spans(rel, text, pages, loaded):
            found.extend(_in_span(rel, text, span, line_of))
    return list(dict.fromkeys(found))


def _in_span(rel: str, text: str, span: Span, line_of: Callable[[int], int]) -> list[WasmReference]:
    content = text[span.start : span.end]
    head = span.start + len(content) - len(content.lstrip())
    tail = span.start + len(content.rstrip())
    found = []
    for m in _URL.finditer(text, span.start, span.end):
        url, line = m["url"], line_of(m.start())
        if is_external(url):
            found.append(WasmReference(rel, line, url, None, external=True))
            continue
        if m.end() != tail:
            continue  # prose, or a name followed by more of the URL
        if m.start() == head and not span.joined:
            for base in span.bases:
                found.append(WasmReference(rel, line, url, local_path(base, url)))
        elif span.joined or text[m.start() - 1] == "}":
            found.append(WasmReference(rel, line, url, None, piece=True))
    return found


def route_matches(path: str, routes: Sequence[str]) -> bool:
    """Whether the dist path PATH is one of ROUTES (paths or glob patterns, `*` any text)."""
    return any(fnmatch.fnmatchcase(path, route.lstrip("/")) for route in routes)


def unresolved(
    found: Sequence[WasmReference], present: Collection[str], routes: Sequence[str] = ()
) -> list[WasmReference]:
    """The references of FOUND naming no path of PRESENT (the dist's files) nor a route."""
    names = {posixpath.basename(p) for p in present}
    leaves = [posixpath.basename(route) for route in routes]
    missing = []
    for ref in found:
        if ref.external:
            continue
        if ref.piece:  # a name in any folder; a route by its last segment
            ok = ref.name in names or route_matches(ref.name, leaves)
        else:
            ok = ref.resolved is not None and (
                ref.resolved in present or route_matches(ref.resolved, routes)
            )
        if not ok:
            missing.append(ref)
    return missing


def is_shim(ref: WasmReference) -> bool:
    """Whether REF names Go's shim (wasm_exec.js), not a module."""
    return ref.name == SHIM
