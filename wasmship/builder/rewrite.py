"""References to the built files in the project's own web folder: found, resolved, rewritten.

A reference is a URL written where one is read: an HTML attribute value, a string literal in a
script (a file or inline, JSON in an import map too), a CSS url() or string. A whole one (the
literal is the URL) resolves as in a browser, and as `wasmship verify` resolves it: in a page
against the page (or its <base href>); in a script against each page that loads it with
<script src> (a worker, a service worker or a script no page loads: against itself), except
`new URL(x, import.meta.url)`, against the script; in CSS against the stylesheet. It then
becomes the URL of the hashed file in the same form (absolute stays absolute), or, when it
names a built file's plain name where that file is not, the build stops at it. A URL built
from pieces (`base + "app.wasm"`, a template) cannot be resolved: its plain name becomes the
hashed name, which sits in the same folder. Comments and prose are left as they are.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasmship.builder.goshim import url_go_version
from wasmship.builder.spans import (
    REWRITTEN_SUFFIXES,
    STYLE_SUFFIXES,
    Span,
    documents,
    kind_of,
    spans,
)
from wasmship.builder.wasmrefs import WasmReference, unresolved, wasm_references
from wasmship.distformat.names import SHIM
from wasmship.distformat.page import is_external, lines, local_path
from wasmship.errors import UsageError

_URL_CHAR = re.compile(r"[\w.~%@:/-]")

__all__ = [
    "REWRITTEN_SUFFIXES",
    "STYLE_SUFFIXES",
    "Built",
    "Mismatch",
    "RemoteShim",
    "Span",
    "describe",
    "documents",
    "kind_of",
    "name_pattern",
    "rewrite_file",
    "rewrite_texts",
    "spans",
    "url_of",
]


@dataclass(frozen=True)
class Built:
    """A file the build writes that the web folder may name by its plain name."""

    logical: str  # app.wasm, wasm_exec.js
    plain: str  # the dist path its plain name stands for: web/app.wasm
    path: str  # where it is: web/app.60666931.wasm (before the build: the plain path)
    what: str  # for messages: `the module of target "app"`
    integrity: str = ""  # its SRI, for a tag that names it with an integrity attribute


@dataclass(frozen=True)
class Mismatch:
    """A reference to a built file's plain name where the file is not."""

    file: str
    line: int
    url: str
    resolved: str
    built: Built


@dataclass(frozen=True)
class RemoteShim:
    """A `wasm_exec.js` URL on another origin (a CDN's), rewritten to the dist's own shim."""

    file: str
    line: int
    url: str
    version: str | None  # the Go version the URL names, if it names one


Advice = Callable[[Mismatch], str]  # what to do about a mismatch, in a sentence


def name_pattern(names: Sequence[str]) -> re.Pattern[str]:
    """A plain name as a whole URL path segment: `"./main.wasm"`, `'wasm_exec.js?v=1'`."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w.$-])({alternatives})(?![\w$-]|\.\w)")


def rewrite_file(
    rel: str,
    text: str,
    found: list[Span],
    targets: Mapping[str, Built],
    built: Sequence[Built],
    mismatches: list[Mismatch],
    show: Callable[[str], str] = str,
    remote: list[RemoteShim] | None = None,
) -> str:
    """REL's TEXT with every reference to a built file rewritten; mismatches are collected.

    TARGETS maps a dist path a reference may name to the built file it stands for (a built
    file's plain path, and a replaced shim's path); BUILT are the files whose plain names
    must not be named anywhere else.
    """
    plain_names = {posixpath.basename(b.plain): b for b in built}
    names = sorted({posixpath.basename(p) for p in targets} | set(plain_names))
    if not names:
        return text
    pattern = name_pattern(names)
    line_of = lines(text)
    edits: dict[tuple[int, int], str] = {}
    for span in found:
        head = (
            span.start
            + len(text[span.start : span.end])
            - len(text[span.start : span.end].lstrip())
        )
        for m in pattern.finditer(text, span.start, span.end):
            start = m.start()
            while start > span.start and _URL_CHAR.match(text[start - 1]):
                start -= 1
            url = text[start : m.end()]
            name = m[1]
            shim = plain_names.get(name) if name == SHIM else None
            if is_external(url) and shim is not None and start == head and span.bases:
                # Go's shim from a CDN: it must be the module's Go's, so the dist's own is used.
                if not span.joined:
                    edits[start, m.end()] = _local_url(shim.path, span.bases)
                    if span.integrity is not None and shim.integrity:
                        edits[span.integrity] = shim.integrity
                    if remote is not None:
                        line = line_of(start)
                        remote.append(RemoteShim(rel, line, url, url_go_version(url)))
                continue
            if is_external(url):
                continue
            if start != head or span.joined or not span.bases:
                # Built from pieces: the hashed file sits where its plain name would.
                same = plain_names.get(name)
                if same is not None:
                    edits[m.start(), m.end()] = posixpath.basename(same.path)
                continue
            line = line_of(start)
            named = _resolve(rel, url, span, targets, plain_names, line, mismatches, show)
            if named is None:
                continue
            edits[start, m.end()], target = named
            if span.integrity is not None and target.integrity:
                # The tag's SRI was the old file's: the browser would refuse the new one.
                edits[span.integrity] = target.integrity
            elif span.sri_slot is not None and target.integrity:
                edits[span.sri_slot, span.sri_slot] = f' integrity="{target.integrity}"'
    for (first, last), replacement in sorted(edits.items(), reverse=True):
        text = text[:first] + replacement + text[last:]
    return text


def _resolve(
    rel: str,
    url: str,
    span: Span,
    targets: Mapping[str, Built],
    plain_names: Mapping[str, Built],
    line: int,
    mismatches: list[Mismatch],
    show: Callable[[str], str],
) -> tuple[str, Built] | None:
    """URL as the built file it names, seen from each base, and that file; None to leave it."""
    news = set()
    target: Built | None = None
    for base in span.bases:
        resolved = local_path(base, url)
        target = targets.get(resolved) if resolved is not None else None
        if target is None:
            same = plain_names.get(posixpath.basename(urlsplit(url).path))
            if same is not None:
                shown = resolved if resolved is not None else url
                mismatches.append(Mismatch(rel, line, url, shown, same))
            return None
        assert resolved is not None
        news.add(url_of(url, resolved, target.path, base))
    if len(news) > 1:
        raise UsageError(
            f"{show(rel)}:{line}: {url!r} is relative, and the pages that load {rel} are in "
            f"different folders ({', '.join(sorted(span.bases))}), so it names a different "
            "file for each; write it from the site's root (/…)"
        )
    return (news.pop(), target) if news and target is not None else None


def url_of(url: str, resolved: str, path: str, base: str) -> str:
    """URL, which names RESOLVED seen from BASE, made to name PATH in the same form."""
    name = posixpath.basename(resolved)
    if posixpath.dirname(resolved) == posixpath.dirname(path) and url.endswith(name):
        return url[: len(url) - len(name)] + posixpath.basename(path)
    if url.startswith("/"):
        return "/" + path
    relative = posixpath.relpath(path, posixpath.dirname(base) or ".")
    return f"./{relative}" if url.startswith("./") and not relative.startswith("../") else relative


def _local_url(path: str, bases: Sequence[str]) -> str:
    """PATH relative to the folder of BASES (from the site's root when they differ)."""
    folders = {posixpath.dirname(base) for base in bases}
    if len(folders) != 1:
        return "/" + path
    return posixpath.relpath(path, folders.pop() or ".")


def rewrite_texts(
    texts: Mapping[str, str],
    targets: Mapping[str, Built],
    built: Sequence[Built],
    advise: Advice,
    show: Callable[[str], str],
    *,
    present: Collection[str] | None = None,
    routes: Sequence[str] = (),
    explain: Callable[[WasmReference], str] | None = None,
    remote: list[RemoteShim] | None = None,
) -> dict[str, str]:
    """The TEXTS (pages, scripts, stylesheets by dist path) whose references changed, rewritten.

    A reference naming a built file's plain name where it is not stops the build, naming it
    (and how many more there are), with ADVISE's remedy; SHOW says how a file is shown. Given
    PRESENT (the other files the dist will hold), so does any `.wasm` or `wasm_exec.js` URL that
    names neither a built file nor one of them nor one of ROUTES, with EXPLAIN's remedy. A
    `wasm_exec.js` URL of another origin becomes the dist's own shim, listed in REMOTE.
    """
    pages, loaded = documents(texts)
    changed: dict[str, str] = {}
    mismatches: list[Mismatch] = []
    for rel in sorted(texts):
        text = texts[rel]
        found = spans(rel, text, pages, loaded)
        new = rewrite_file(rel, text, found, targets, built, mismatches, show, remote)
        if new != text:
            changed[rel] = new
    if mismatches:
        first = mismatches[0]
        more = len(mismatches) - 1
        also = f" ({more} more reference{'s' if more > 1 else ''} like it)" if more else ""
        raise UsageError(
            f"{show(first.file)}:{first.line}: {first.url!r} names {first.resolved}, but "
            f"{first.built.what} goes {_where(first.built)}: {advise(first)}{also}"
        )
    if present is not None:
        known = {*present, *targets, *(b.plain for b in built), *(b.path for b in built)}
        missing = unresolved(wasm_references(texts), known, routes)
        if missing:
            ref, more = missing[0], len(missing) - 1
            also = f" ({more} more reference{'s' if more > 1 else ''} like it)" if more else ""
            remedy = explain(ref) if explain is not None else "change the reference"
            raise UsageError(f"{show(ref.file)}:{ref.line}: {describe(ref)}: {remedy}{also}")
    return changed


def describe(ref: WasmReference) -> str:
    """What an unresolved reference names, for messages."""
    if ref.piece:
        return f"{ref.url!r} is built from pieces and names a {ref.name} no folder of the dist has"
    if ref.resolved is None:
        return f"{ref.url!r} points outside the dist"
    return f"{ref.url!r} names {ref.resolved}, which no target builds and no file of the dist is"


def _where(built: Built) -> str:
    folder = posixpath.dirname(built.plain)
    at = f"in {folder}/" if folder else "at the dist's root"
    return at if built.path == built.plain else f"{at} ({built.path})"
