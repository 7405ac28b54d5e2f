"""What a page of the dist references (script src, data-wasm, link href, img src, its inline
scripts) and what a web manifest does (icons, start_url, scope), each with its line."""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from wasmship.distformat.names import PAGE

HTML_SUFFIXES = (".html", ".htm")
SCRIPT_SUFFIXES = (".js", ".mjs")
WEB_MANIFEST_SUFFIX = ".webmanifest"

# The <link rel> kinds a browser fetches (not canonical, alternate, preconnect...).
LINK_RELS = frozenset(
    (
        *("stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed"),
        *("mask-icon", "manifest", "modulepreload", "preload", "prefetch"),
    )
)
_SCRIPT_TYPES = frozenset(("", "module", "text/javascript", "application/javascript"))
# The loader tag's attributes naming a file, each with a `-size` beside it: the module, and
# (--hosting static) its variants.
LOADER_FILES = ("data-wasm", "data-wasm-br", "data-wasm-gzip")
# The HTML attributes whose value is a URL (the only ones build and verify read URLs from; a
# title, alt, id, class, a meta's content and the text of a page never are). SRCSET_ATTRIBUTES
# hold a list of "URL descriptor" candidates, URL_LIST_ATTRIBUTES URLs apart by spaces.
URL_ATTRIBUTES = frozenset(
    (
        *("src", "href", "action", "formaction", "poster", "data", "manifest", "cite"),
        *("background", "longdesc", "codebase", "icon", "xlink:href", "data-src", "data-href"),
        *LOADER_FILES,
    )
)
SRCSET_ATTRIBUTES = frozenset(("srcset", "imagesrcset", "data-srcset"))
URL_LIST_ATTRIBUTES = frozenset(("ping", "archive"))


# The other attributes a browser fetches a file from (an <img src> is read above).
_MEDIA = {
    "img": ("srcset",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "link": ("imagesrcset",),
}


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset: `a.png 1x, b.png 2x` -> a.png, b.png (a URL may hold commas)."""
    urls, position = [], 0
    while position < len(value):
        while position < len(value) and (value[position].isspace() or value[position] == ","):
            position += 1
        first = position
        while position < len(value) and not value[position].isspace():
            position += 1
        url = value[first:position].rstrip(",")
        if url:
            urls.append(url)
        if url == value[first:position]:  # descriptors follow, up to the next candidate
            while position < len(value) and value[position] != ",":
                position += 1
    return urls


@dataclass(frozen=True)
class Reference:
    """One tag's reference to a file, as written in the page."""

    tag: str  # "script", "link" or "img"
    attribute: str  # "src", "href" or "data-wasm"
    url: str  # as written in the page
    integrity: str | None = None
    wasm_size: str | None = None  # data-wasm-size, for the loader's progress
    base: str = ""  # what URL is relative to, when not the page (data-wasm: the script's src)
    line: int = 0  # 1-based line of the attribute in the page
    rel: str = ""  # a link's rel, lowercase

    @property
    def resolved(self) -> str:
        """URL relative to the page."""
        return join_url(self.base, self.url) if self.base else self.url

    def describe(self) -> str:
        """How the reference reads in the page, for messages."""
        if self.tag == "link":
            return f'<link rel="{self.rel}" href="{self.url}">'
        return f'<{self.tag} {self.attribute}="{self.url}">'


@dataclass(frozen=True)
class Page:
    """What one page references: its tags, its inline scripts' code, its <base href>."""

    references: tuple[Reference, ...]
    scripts: tuple[tuple[int, str], ...]  # (line it starts on, code)
    base_href: str | None


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[Reference] = []
        self.scripts: list[tuple[int, str]] = []
        self.base_href: str | None = None
        self.script: list[tuple[int, str]] | None = None  # an inline script's (line, text)s

    def _line(self, attribute: str) -> int:
        """The line of ATTRIBUTE in the start tag at hand (a tag may span lines)."""
        line = self.getpos()[0]
        text = self.get_starttag_text() or ""
        found = re.search(rf"(?<![\w-]){re.escape(attribute)}\s*=", text, re.IGNORECASE)
        return line + text[: found.start()].count("\n") if found else line

    def _add(
        self,
        tag: str,
        attribute: str,
        url: str,
        *,
        integrity: str | None = None,
        wasm_size: str | None = None,
        base: str = "",
        rel: str = "",
    ) -> None:
        line = self._line(attribute)
        self.references.append(
            Reference(tag, attribute, url, integrity, wasm_size, base, line, rel)
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and "src" in values:
            src = values["src"]
            self._add("script", "src", src, integrity=values.get("integrity"))
            # The loader resolves its module (and, for a static host, the module's variants it
            # may fetch instead) against its own URL.
            for attribute in LOADER_FILES:
                if attribute in values:
                    self._add(
                        "script",
                        attribute,
                        values[attribute],
                        wasm_size=values.get(attribute + "-size"),
                        base=src,
                    )
        elif tag == "script" and values.get("type", "").strip().lower() in _SCRIPT_TYPES:
            self.script = []
        elif tag == "link" and "href" in values:
            rel = " ".join(values.get("rel", "").lower().split())
            if LINK_RELS & set(rel.split()):
                self._add(
                    "link", "href", values["href"], integrity=values.get("integrity"), rel=rel
                )
        elif tag == "img" and "src" in values:
            self._add("img", "src", values["src"])
        elif tag == "base" and "href" in values and self.base_href is None:
            self.base_href = values["href"]
        for attribute in _MEDIA.get(tag, ()):
            value = values.get(attribute, "")
            urls = srcset_urls(value) if attribute.endswith("srcset") else [value.strip()]
            for url in filter(None, urls):
                self._add(tag, attribute, url)

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script.append((self.getpos()[0], data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self.script:
            code = "".join(text for _, text in self.script)
            self.scripts.append((self.script[0][0], code))
        if tag == "script":
            self.script = None


def read_page(html: str) -> Page:
    """Every reference of the page HTML, in document order."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return Page(tuple(collector.references), tuple(collector.scripts), collector.base_href)


def references(html: str) -> list[Reference]:
    """Every script src, data-wasm, fetched link href and img src in HTML, in document order."""
    return list(read_page(html).references)


def lines(text: str, first_line: int = 1) -> Callable[[int], int]:
    """Offset in TEXT -> its line, the first line being FIRST_LINE."""
    breaks = [m.start() for m in re.finditer("\n", text)]
    return lambda offset: first_line + bisect.bisect_left(breaks, offset)


def join_url(base: str, url: str) -> str:
    """URL resolved against BASE's folder when both are local; URL unchanged otherwise."""
    if is_external(url) or url.startswith("/") or is_external(base):
        return url
    return posixpath.join(posixpath.dirname(urlsplit(base).path), url)


def is_external(url: str) -> bool:
    """Whether URL points off the dist (another origin, data:, blob:, ...)."""
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def local_path(page: str, url: str) -> str | None:
    """The dist-relative path URL names from PAGE, or None if it leaves the dist."""
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):
        joined = path.lstrip("/")  # the dist is the site root
    else:
        joined = posixpath.join(posixpath.dirname(page), path)
    normal = posixpath.normpath(joined) if joined else "."
    if normal == ".." or normal.startswith("../"):
        return None
    return normal


def script_sources(html: str) -> list[str]:
    """Every script src in HTML, the loader's (the one with data-wasm) first."""
    found = references(html)
    loaders = [r.base for r in found if r.attribute == "data-wasm"]
    others = [r.url for r in found if r.tag == "script" and r.attribute == "src"]
    return [*loaders, *(url for url in others if url not in loaders)]


def document_path(rel: str, base_href: str | None) -> str | None:
    """A path whose folder the page REL's relative URLs resolve against (its <base href>'s, if
    it has one); None when that is not in the dist."""
    if base_href is None:
        return rel
    if is_external(base_href):
        return None
    named = local_path(rel, base_href)
    if named is None:
        return None
    path = urlsplit(base_href).path
    return posixpath.join(named, PAGE) if path.endswith("/") or not path else named
