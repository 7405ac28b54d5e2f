"""The serving rules every server config states, computed once from the manifest entries.

Every config states the same rules: the file's Content-Type (application/wasm for the module),
the precompressed sibling the request's Accept-Encoding allows, `Vary: Accept-Encoding`,
immutable caching for content-hashed files, `no-cache` for the entry points, and `nosniff`.
Each renderer (nginx.py, caddy.py, netlify.py, apache.py) only spells them in its syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wasmship import __version__
from wasmship.delivery.negotiation import REVALIDATE_CACHE, cache_control, media_type, vary
from wasmship.distformat.digests import available_dictionary
from wasmship.distformat.headers import HeaderRule, headers_for
from wasmship.distformat.model import FileEntry
from wasmship.distformat.names import CODINGS, MANIFEST, content_type

# The rules are serve's: the same codings in the same order of preference, the same suffixes.
ENCODING_ORDER = tuple(coding.token for coding in CODINGS)
SUFFIXES = {coding.token: coding.suffix for coding in CODINGS}
REGEX_SPECIAL = set("\\^$.|?*+()[]{}")


def accepted(token: str) -> str:
    """A regex for an Accept-Encoding that names TOKEN (PCRE and RE2; match ignoring case)."""
    return f"(?:^|[ ,]){token}(?:$|[ ,;])"


def refused(token: str) -> str:
    """A regex for an Accept-Encoding that names TOKEN with q=0: the client refuses it."""
    return f"(?:^|[ ,]){token} *; *q=0(?:\\.0*)?(?:$|[ ,;])"


# Accept-Encoding names dcz, and not with q=0.
DCZ_ACCEPTED = accepted("dcz")
DCZ_REFUSED = refused("dcz")


@dataclass(frozen=True)
class ServingRule:
    """How a server must send one file of the dist."""

    path: str  # the file's name in this build, e.g. main.3f9c2a1b.wasm
    pattern: str  # a regex for the URL path, stable across rebuilds (any content hash)
    content_type: str  # as the manifest has it, e.g. "text/javascript; charset=utf-8"
    cache_control: str
    encodings: tuple[str, ...]  # the precompressed variants this file has, in ENCODING_ORDER
    kept: tuple[str, ...] = ()  # earlier builds' files of the same name kept in the dist (--keep)
    dictionary_match: str = ""  # Use-As-Dictionary pattern relative to the file: main.*.wasm
    deltas: tuple[tuple[str, str], ...] = ()  # (Available-Dictionary value, delta file suffix)

    @property
    def mime_type(self) -> str:
        """The media type without parameters: application/wasm, text/javascript, ..."""
        return media_type(self.content_type)

    @property
    def vary(self) -> str | None:
        """The Vary its responses need (the same rule `wasmship serve` applies)."""
        return vary(bool(self.encodings), bool(self.deltas))

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type, if any."""
        for param in self.content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return None


@dataclass(frozen=True)
class Site:
    """What a config states beside the files' rules: the dist's own settings."""

    spa: bool = False  # --spa: a path without an extension that is not a file gets the page
    headers: tuple[HeaderRule, ...] = ()  # [headers]: the project's own, by path pattern

    def own_headers(self, rule: ServingRule) -> list[tuple[str, str]]:
        """The project's headers for the responses of RULE's file (checked: config-safe)."""
        return headers_for(self.headers, "/" + rule.path)


@dataclass(frozen=True)
class ServerConfig:
    """One kind of server config: its --server-config name, file name and renderer."""

    name: str
    path: str
    render: Callable[[list[ServingRule], tuple[str, ...], Site], str]  # -> the file's text
    helper: str = ""  # its key in the manifest's deploy_helpers, when not NAME
    spa_only: bool = False  # written only for a single-page app (Netlify's _redirects)

    @property
    def key(self) -> str:
        """Its key in the manifest's deploy_helpers."""
        return self.helper or self.name

    def wanted(self, site: Site) -> bool:
        """Whether a dist of SITE gets this file when its NAME is asked for."""
        return site.spa or not self.spa_only


def regex_escape(text: str) -> str:
    """Escape TEXT for PCRE (nginx, Apache) and RE2 (Caddy) alike: only the metacharacters."""
    return "".join("\\" + c if c in REGEX_SPECIAL else c for c in text)


def name_pattern(entry: FileEntry) -> str:
    """`main.3f9c2a1b.wasm` -> `(?:^|/)main\\.[0-9a-f]+\\.wasm$`: any later hash matches too."""
    if entry.hashed:  # of the name only (Apache's FilesMatch sees no folder): css/site.css
        logical = entry.logical.rsplit("/", 1)[-1]
        stem, dot, ext = logical.rpartition(".")
        name = regex_escape(stem) + r"\.[0-9a-f]+\." + regex_escape(ext)
        if not dot:
            name = regex_escape(logical) + r"\.[0-9a-f]+"
    else:
        name = regex_escape(entry.path.rsplit("/", 1)[-1])
    return f"(?:^|/){name}$"


def serving_rules(
    entries: Iterable[FileEntry], kept: Iterable[FileEntry] = ()
) -> list[ServingRule]:
    """The rules for every file of the dist plus manifest.json, sorted by path.

    A kept file of an earlier build matches its current namesake's pattern (any hash), so it
    joins that rule; one whose name the new build no longer has gets a rule of its own.
    """
    current = list(entries)
    by_pattern: dict[str, list[str]] = {}
    for old in kept:
        by_pattern.setdefault(name_pattern(old), []).append(old.path)
        if name_pattern(old) not in {name_pattern(a) for a in current}:
            current.append(old)
    rules = [
        ServingRule(
            path=a.path,
            pattern=name_pattern(a),
            content_type=a.content_type,
            cache_control=cache_control(a.immutable),
            encodings=tuple(e for e in ENCODING_ORDER if e in a.encodings),
            kept=tuple(p for p in sorted(by_pattern.get(name_pattern(a), [])) if p != a.path),
            dictionary_match=a.dictionary_pattern or "",
            deltas=tuple(
                sorted(
                    (available_dictionary(e.dictionary or ""), e.path.removeprefix(a.path))
                    for e in a.deltas
                )
            ),
        )
        for a in current
    ]
    rules.append(
        ServingRule(
            path=MANIFEST,
            pattern=f"(?:^|/){regex_escape(MANIFEST)}$",
            content_type=content_type(MANIFEST),
            cache_control=REVALIDATE_CACHE,
            encodings=(),
        )
    )
    return sorted(rules, key=lambda r: r.path)


def comment_header(kind: str, comment: str) -> list[str]:
    return [f"{comment} {kind}: written by wasmship {__version__}; a deploy helper, not content."]


def bare_pattern(pattern: str) -> str:
    """A rule's pattern without its anchors: the file name part only."""
    return pattern.removeprefix("(?:^|/)").removesuffix("$")


def helpers_pattern(helper_paths: tuple[str, ...]) -> str:
    names = "|".join(regex_escape(p) for p in helper_paths)
    return f"(?:^|/)(?:{names})$"
