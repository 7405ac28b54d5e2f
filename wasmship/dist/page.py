"""What a page of the dist references: script and link URLs, their SRI, the loader's module."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

LINK_RELS = frozenset(("stylesheet", "modulepreload", "preload"))


@dataclass(frozen=True)
class Reference:
    """One tag's reference to a file, as written in the page."""

    tag: str  # "script" or "link"
    attribute: str  # "src", "href" or "data-wasm"
    url: str  # as written in the page
    integrity: str | None = None
    wasm_size: str | None = None  # data-wasm-size, for the loader's progress
    base: str = ""  # what URL is relative to, when not the page (data-wasm: the script's src)

    @property
    def resolved(self) -> str:
        """URL relative to the page."""
        return join_url(self.base, self.url) if self.base else self.url

    def describe(self) -> str:
        """How the reference reads in the page, for messages."""
        return f'<{self.tag} {self.attribute}="{self.url}">'


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[Reference] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "script" and "src" in values:
            src = values["src"]
            self.references.append(Reference("script", "src", src, values.get("integrity")))
            if "data-wasm" in values:
                # The loader resolves its module against its own URL.
                self.references.append(
                    Reference(
                        "script",
                        "data-wasm",
                        values["data-wasm"],
                        wasm_size=values.get("data-wasm-size"),
                        base=src,
                    )
                )
        elif (
            tag == "link"
            and "href" in values
            and LINK_RELS & set(values.get("rel", "").lower().split())
        ):
            self.references.append(
                Reference("link", "href", values["href"], values.get("integrity"))
            )


def join_url(base: str, url: str) -> str:
    """URL resolved against BASE's folder when both are local; URL unchanged otherwise."""
    if is_external(url) or url.startswith("/") or is_external(base):
        return url
    return posixpath.join(posixpath.dirname(urlsplit(base).path), url)


def references(html: str) -> list[Reference]:
    """Every script src, data-wasm and stylesheet/preload href in HTML, in document order."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.references


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
