"""Where the project's pages, scripts, stylesheets and web manifests write URLs.

A span is a place a browser reads a URL from: a URL attribute of a tag (page.URL_ATTRIBUTES; a
srcset's candidates; an event handler read as a script, a style attribute as CSS), a string
literal in a script (a file, an inline <script>, an import map's JSON, a web manifest), a CSS
url() or string. Comments and text are never spans. Each span carries the dist paths a whole URL
written there resolves against, as in a browser (see builder/rewrite.py).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from wasmship.distformat.page import (
    HTML_SUFFIXES,
    LINK_RELS,
    SCRIPT_SUFFIXES,
    SRCSET_ATTRIBUTES,
    URL_ATTRIBUTES,
    URL_LIST_ATTRIBUTES,
    WEB_MANIFEST_SUFFIX,
    document_path,
    is_external,
    local_path,
)
from wasmship.distformat.page import read_page as read_html

STYLE_SUFFIXES = (".css",)
REWRITTEN_SUFFIXES = frozenset(
    (*HTML_SUFFIXES, *SCRIPT_SUFFIXES, *STYLE_SUFFIXES, WEB_MANIFEST_SUFFIX)
)

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
# A module specifier (`import "x"`, `from "x"`, `import("x")`): it resolves against the script
# itself, wherever the page that loads it is; a service worker's URL must stay what it is.
_SPECIFIER = re.compile(r"(?:(?<![\w$.])(?:from|import)|(?<![\w$.])import\s*\()$")
_REGISTER = re.compile(r"serviceWorker\s*\.\s*register\s*\($")
_TAG_NAME = re.compile(r"<([A-Za-z][^\s/>]*)")
# Where a URL names a document a person goes to (a link, a form, a frame): its name is public.
_NAVIGATION = frozenset((("a", "href"), ("area", "href"), ("iframe", "src"), ("frame", "src")))
# The tags whose file's integrity the browser checks (an `integrity` attribute is added).
_SRI_RELS = frozenset(("stylesheet", "modulepreload"))

# The members of a web manifest that hold URLs (icons' and screenshots' src, start_url, scope,
# shortcuts' url, share_target's action...); its name, description and the like never do.
_MANIFEST_URL = re.compile(
    r'"(?:src|start_url|scope|url|action|href)"\s*:\s*"(?P<v>(?:[^"\\\n]|\\.)*)"'
)


@dataclass(frozen=True)
class Span:
    """A place a URL may be written, by offsets in its file."""

    start: int
    end: int
    bases: tuple[str, ...]  # the dist paths a whole URL here resolves against
    joined: bool = False  # the right operand of `+`: the URL is built from pieces
    integrity: tuple[int, int] | None = None  # its tag's integrity value, made to follow
    stable: bool = False  # a URL whose name must not change (a link, a service worker's)
    sri_slot: int | None = None  # where an `integrity` attribute goes, for a tag that checks it


def kind_of(rel: str) -> str | None:
    """`html`, `js`, `css` or `json` (a web manifest) for a file whose references are read and
    rewritten; else None."""
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in SCRIPT_SUFFIXES:
        return "js"
    if suffix == WEB_MANIFEST_SUFFIX:
        return "json"
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
    if kind == "json":  # a web manifest's URL members, against the manifest's own URL
        return [Span(m.start("v"), m.end("v"), (rel,)) for m in _MANIFEST_URL.finditer(text)]
    return list(_css_spans(text, 0, len(text), (rel,)))


def _js_spans(text: str, start: int, end: int, bases: tuple[str, ...], own: str) -> Iterator[Span]:
    for m in _JS.finditer(text, start, end):
        if m["s"] is None:
            continue  # a comment
        before = text[max(start, m.start() - 200) : m.start()].rstrip()
        joined = before.endswith("+") or before.endswith("+=")
        script_relative = _SCRIPT_RELATIVE.match(text, m.end()) is not None
        own_relative = script_relative or _SPECIFIER.search(before) is not None
        stable = _REGISTER.search(before) is not None
        span_bases = (own,) if own_relative and own else bases
        yield Span(m.start() + 1, m.end() - 1, span_bases, joined, stable=stable)


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
            named = _TAG_NAME.match(text, m.start())
            tag = named.group(1).lower() if named else ""
            rels = set(text[slice(*values["rel"])].lower().split()) if "rel" in values else set()
            for name, (start, end) in values.items():
                if name in URL_ATTRIBUTES:
                    stable = (tag, name) in _NAVIGATION or name in ("action", "formaction")
                    stable |= tag == "link" and name == "href" and not rels & LINK_RELS
                    checked = (tag == "script" and name == "src") or (
                        tag == "link" and name == "href" and bool(rels & _SRI_RELS)
                    )
                    quoted = text[end : end + 1] in ("'", '"')
                    slot = end + 1 if checked and integrity is None and quoted else None
                    yield Span(start, end, bases, integrity=integrity, stable=stable, sri_slot=slot)
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
