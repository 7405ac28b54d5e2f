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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasmship.distformat.page import (
    HTML_SUFFIXES,
    SCRIPT_SUFFIXES,
    SRCSET_ATTRIBUTES,
    URL_ATTRIBUTES,
    URL_LIST_ATTRIBUTES,
    document_path,
    is_external,
    lines,
    local_path,
)
from wasmship.distformat.page import read_page as read_html
from wasmship.errors import UsageError

STYLE_SUFFIXES = (".css",)
REWRITTEN_SUFFIXES = frozenset((*HTML_SUFFIXES, *SCRIPT_SUFFIXES, *STYLE_SUFFIXES))

_QUOTED = r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
_JS = re.compile(rf"(?P<s>{_QUOTED}|`(?:[^`\\]|\\.)*`)|//[^\n]*|/\*.*?\*/", re.DOTALL)
_CSS = re.compile(rf"(?P<s>{_QUOTED})|url\(\s*(?P<u>[^)\"'\s]+)\s*\)|/\*.*?\*/", re.DOTALL)
_TAG_BODY = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_HTML = re.compile(
    rf"<!--.*?-->|<(?P<raw>script|style)\b(?P<rawattrs>{_TAG_BODY})>(?P<body>.*?)</(?P=raw)\s*>"
    rf"|<[A-Za-z][^\s/>]*(?P<attrs>{_TAG_BODY})>",
    re.DOTALL | re.IGNORECASE,
)
_ATTR = re.compile(
    r"""(?P<name>[^\s"'<>/=]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+))"""
)
_SCRIPT_RELATIVE = re.compile(r"\s*,\s*import\s*\.\s*meta\s*\.\s*url\b")
_URL_CHAR = re.compile(r"[\w.~%@:/-]")


@dataclass(frozen=True)
class Built:
    """A file the build writes that the web folder may name by its plain name."""

    logical: str  # app.wasm, wasm_exec.js
    plain: str  # the dist path its plain name stands for: web/app.wasm
    path: str  # where it is: web/app.60666931.wasm (before the build: the plain path)
    what: str  # for messages: `the module of target "app"`
    integrity: str = ""  # its SRI, for a tag that names it with an integrity attribute


@dataclass(frozen=True)
class Span:
    """A place a URL may be written, by offsets in its file."""

    start: int
    end: int
    bases: tuple[str, ...]  # the dist paths a whole URL here resolves against
    joined: bool = False  # the right operand of `+`: the URL is built from pieces
    integrity: tuple[int, int] | None = None  # its tag's integrity value, made to follow


@dataclass(frozen=True)
class Mismatch:
    """A reference to a built file's plain name where the file is not."""

    file: str
    line: int
    url: str
    resolved: str
    built: Built


Advice = Callable[[Mismatch], str]  # what to do about a mismatch, in a sentence


def kind_of(rel: str) -> str | None:
    """`html`, `js` or `css` for a file whose references are rewritten; else None."""
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in SCRIPT_SUFFIXES:
        return "js"
    return "css" if suffix in STYLE_SUFFIXES else None


def documents(texts: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """Each page's document (its <base href>'s, None when off the dist) and, for each script,
    the documents of the pages that load it with <script src>."""
    pages: dict[str, str | None] = {}
    loaded: dict[str, list[str]] = {}
    for rel, text in texts.items():
        if kind_of(rel) != "html":
            continue
        page = read_html(text)
        document = document_path(rel, page.base_href)
        pages[rel] = document
        if document is None:
            continue
        for ref in page.references:
            if ref.tag == "script" and ref.attribute == "src" and not is_external(ref.url):
                script = local_path(document, ref.url)
                if script is not None and script not in loaded.get(script, []):
                    loaded.setdefault(script, []).append(document)
    return pages, loaded


def spans(
    rel: str, text: str, pages: Mapping[str, str | None], loaded: Mapping[str, list[str]]
) -> list[Span]:
    """Where REL's text may write URLs, each with what a whole one resolves against."""
    kind = kind_of(rel)
    if kind == "html":
        document = pages.get(rel, rel)
        bases = (document,) if document is not None else ()
        return list(_html_spans(text, bases))
    if kind == "js":
        return list(_js_spans(text, 0, len(text), tuple(loaded.get(rel, [])) or (rel,), rel))
    return list(_css_spans(text, 0, len(text), (rel,)))


def _js_spans(text: str, start: int, end: int, bases: tuple[str, ...], own: str) -> Iterator[Span]:
    for m in _JS.finditer(text, start, end):
        if m["s"] is None:
            continue  # a comment
        before = text[start : m.start()].rstrip()
        joined = before.endswith("+") or before.endswith("+=")
        script_relative = _SCRIPT_RELATIVE.match(text, m.end()) is not None
        yield Span(m.start() + 1, m.end() - 1, (own,) if script_relative else bases, joined)


def _css_spans(text: str, start: int, end: int, bases: tuple[str, ...]) -> Iterator[Span]:
    for m in _CSS.finditer(text, start, end):
        if m["s"] is not None:
            yield Span(m.start("s") + 1, m.end("s") - 1, bases)
        elif m["u"] is not None:
            yield Span(m.start("u"), m.end("u"), bases)


def _html_spans(text: str, bases: tuple[str, ...]) -> Iterator[Span]:
    own = bases[0] if bases else ""
    for m in _HTML.finditer(text):
        attrs = "rawattrs" if m["raw"] else "attrs"
        if m[attrs] is not None:
            values = {}
            for a in _ATTR.finditer(text, m.start(attrs), m.end(attrs)):
                group = next(g for g in ("dq", "sq", "bare") if a[g] is not None)
                values[a["name"].lower()] = (a.start(group), a.end(group))
            integrity = values.pop("integrity", None)
            for name, (start, end) in values.items():
                if name in URL_ATTRIBUTES:
                    yield Span(start, end, bases, integrity=integrity)
                elif name in SRCSET_ATTRIBUTES or name in URL_LIST_ATTRIBUTES:
                    yield from _candidates(text, start, end, bases, name in SRCSET_ATTRIBUTES)
                elif name.startswith("on") and bases:  # an event handler: a script
                    yield from _js_spans(text, start, end, bases, own)
                elif name == "style":
                    yield from _css_spans(text, start, end, bases)
        if m["raw"] and m["raw"].lower() == "script" and bases:
            yield from _js_spans(text, m.start("body"), m.end("body"), bases, own)
        elif m["raw"]:
            yield from _css_spans(text, m.start("body"), m.end("body"), bases)


def _candidates(
    text: str, start: int, end: int, bases: tuple[str, ...], srcset: bool
) -> Iterator[Span]:
    """The URLs of a srcset (`a.png 1x, b.png 2x`) or of a list apart by spaces (ping)."""
    position = start
    while position < end:
        while position < end and (text[position].isspace() or text[position] == ","):
            position += 1
        first = position
        while position < end and not text[position].isspace():
            position += 1
        last = position
        while srcset and last > first and text[last - 1] == ",":
            last -= 1
        if last > first:
            yield Span(first, last, bases)
        if srcset and last == position:  # descriptors follow, up to the next candidate
            while position < end and text[position] != ",":
                position += 1


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
            if is_external(url):
                continue
            name = m[1]
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


def rewrite_texts(
    texts: Mapping[str, str],
    targets: Mapping[str, Built],
    built: Sequence[Built],
    advise: Advice,
    show: Callable[[str], str],
) -> dict[str, str]:
    """The TEXTS (pages, scripts, stylesheets by dist path) whose references changed, rewritten.

    A reference naming a built file's plain name where it is not stops the build, naming it
    (and how many more there are), with ADVISE's remedy; SHOW says how a file is shown.
    """
    pages, loaded = documents(texts)
    changed: dict[str, str] = {}
    mismatches: list[Mismatch] = []
    for rel in sorted(texts):
        text = texts[rel]
        found = spans(rel, text, pages, loaded)
        new = rewrite_file(rel, text, found, targets, built, mismatches, show)
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
    return changed


def _where(built: Built) -> str:
    folder = posixpath.dirname(built.plain)
    at = f"in {folder}/" if folder else "at the dist's root"
    return at if built.path == built.plain else f"{at} ({built.path})"
