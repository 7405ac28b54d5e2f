"""The dist's Content-Security-Policy: what its pages may run and load, with no 'unsafe-*'.

Scripts and styles come from the dist's own origin ('self'), WebAssembly may compile
('wasm-unsafe-eval'), and each inline <script> or <style> of a page is allowed by its SHA-256 as
the page is shipped (after every rewrite). Plugins and <base> are off ('none'). A project that
loads from other origins adds sources in wasmship.toml ([csp]). The policy goes out as a header
for every page (a [headers] rule of the manifest: serve, dev, the Go handler and every server
config send it) and as a <meta http-equiv> in each page for hosts where headers cannot be set,
without the directives a meta policy cannot carry (frame-ancestors, report-uri, sandbox).

An event handler attribute (onclick=) or a style attribute could only run with
'unsafe-hashes' or 'unsafe-inline': the policy leaves them out and the build warns.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

HEADER = "Content-Security-Policy"
DEFAULTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("default-src", ("'self'",)),
    ("script-src", ("'self'", "'wasm-unsafe-eval'")),
    ("style-src", ("'self'",)),
    ("img-src", ("'self'", "data:")),
    ("font-src", ("'self'",)),
    ("connect-src", ("'self'",)),
    ("worker-src", ("'self'",)),
    ("manifest-src", ("'self'",)),
    ("object-src", ("'none'",)),
    ("base-uri", ("'none'",)),
)
NOT_IN_META = frozenset(("frame-ancestors", "report-uri", "report-to", "sandbox"))
DIRECTIVE = re.compile(r"^[a-z][a-z-]*$")
# A source: a keyword in quotes, a scheme, a host (with scheme, port, path, wildcard); nothing
# that could end the directive or the header (`;` `,` quotes inside, spaces, control chars).
SOURCE = re.compile(r"^(?:'[a-z0-9+/=-]+'|[A-Za-z][A-Za-z0-9+.-]*:|[A-Za-z0-9*][\w.*:/~%@+-]*)$")
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'")

_TAG_BODY = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_RAW = re.compile(
    rf"<!--.*?-->|<(?P<tag>script|style)\b(?P<attrs>{_TAG_BODY})>(?P<body>.*?)</(?P=tag)\s*>",
    re.DOTALL | re.IGNORECASE,
)
_ATTR = re.compile(r"""([^\s"'<>/=]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_INLINE_ATTR = re.compile(
    r"""<[A-Za-z][^\s/>]*(?:[^>"']|"[^"]*"|'[^']*')*?\s(?P<name>on[a-z]+|style)\s*=""",
    re.IGNORECASE,
)
_RUN_TYPES = frozenset(("", "module", "text/javascript", "application/javascript", "importmap"))
_BASE = re.compile(r"<base\b", re.IGNORECASE)
_CHARSET = re.compile(r"<meta\s+charset\s*=[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


class BadPolicy(ValueError):
    """A [csp] entry that cannot go into the policy: the message says which and why."""


@dataclass(frozen=True)
class Inline:
    """What a page runs inline: its scripts' and styles' hashes, and what no hash allows."""

    scripts: tuple[str, ...]
    styles: tuple[str, ...]
    attributes: tuple[tuple[int, str], ...]  # (line, name) of onclick=, style=
    has_base: bool


def source_hash(code: str) -> str:
    """`'sha256-…'`: the CSP source allowing inline CODE exactly as it is."""
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def inline_of(page: str) -> Inline:
    """The inline scripts and styles of PAGE (HTML), and its event and style attributes."""
    scripts, styles = [], []
    for m in _RAW.finditer(page):
        if m["tag"] is None:
            continue
        attrs = {a[1].lower(): a[2] or a[3] or a[4] or "" for a in _ATTR.finditer(m["attrs"])}
        if m["tag"].lower() == "style":
            styles.append(source_hash(m["body"]))
        elif "src" not in attrs and attrs.get("type", "").strip().lower() in _RUN_TYPES:
            scripts.append(source_hash(m["body"]))
    blanked = _RAW.sub(lambda m: re.sub(r"[^\n]", " ", m[0]) if m["tag"] else m[0], page)
    attributes = tuple(
        (blanked.count("\n", 0, m.start("name")) + 1, m["name"].lower())
        for m in _INLINE_ATTR.finditer(blanked)
    )
    return Inline(
        tuple(dict.fromkeys(scripts)),
        tuple(dict.fromkeys(styles)),
        attributes,
        _BASE.search(blanked) is not None,
    )


def check_extra(table: Mapping[str, object]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A [csp] table (directive -> list of sources) checked; BadPolicy says what is wrong."""
    found = []
    for directive, sources in table.items():
        if not DIRECTIVE.match(directive) or len(directive) > 40:
            raise BadPolicy(f"{directive!r} is not a directive name (e.g. connect-src)")
        if isinstance(sources, str):
            sources = sources.split()
        if not isinstance(sources, list) or len(sources) > 32:
            raise BadPolicy(
                f'{directive}: expected a list of sources, e.g. ["https://api.example"]'
            )
        for source in sources:
            if not isinstance(source, str) or len(source) > 200 or not SOURCE.match(source):
                raise BadPolicy(
                    f"{directive}: {source!r} is not a source (a host, a scheme, 'self')"
                )
            if source.lower() in UNSAFE:
                raise BadPolicy(f"{directive}: {source} is what this policy exists to leave out")
        found.append((directive, tuple(sources)))
    return tuple(found)


def policy(
    inline: Iterable[Inline], extra: Sequence[tuple[str, tuple[str, ...]]] = ()
) -> list[tuple[str, list[str]]]:
    """The directives for pages running INLINE, with EXTRA sources added (in order)."""
    pages = list(inline)
    directives = {name: list(sources) for name, sources in DEFAULTS}
    if any(p.has_base for p in pages):
        directives["base-uri"] = ["'self'"]  # a page's own <base href> must keep working
    directives["script-src"] += sorted({h for p in pages for h in p.scripts})
    directives["style-src"] += sorted({h for p in pages for h in p.styles})
    for name, sources in extra:
        have = directives.setdefault(name, [])
        if have == ["'none'"]:
            have.clear()
        have += [s for s in sources if s not in have]
    return list(directives.items())


def render(directives: Sequence[tuple[str, list[str]]], *, meta: bool = False) -> str:
    """The policy as a header value (or, META, as a <meta> may carry it)."""
    return "; ".join(
        " ".join([name, *sources])
        for name, sources in directives
        if not (meta and name in NOT_IN_META)
    )


def with_meta(page: str, value: str) -> str | None:
    """PAGE with `<meta http-equiv="Content-Security-Policy">` first in its head (after its
    charset); None when it has no <head> or <meta charset> to put it after."""
    at = _CHARSET.search(page) or _HEAD.search(page)
    if at is None:
        return None
    content = html.escape(value, quote=False).replace('"', "&quot;")
    tag = f'<meta http-equiv="{HEADER}" content="{content}">'
    return f"{page[: at.end()]}\n{tag}{page[at.end() :]}"


def meta_policies(page: str) -> list[str]:
    """The policies PAGE's <meta http-equiv=Content-Security-Policy> tags carry."""
    found = []
    for m in re.finditer(r"<meta\b[^>]*>", page, re.IGNORECASE):
        attrs = {a[1].lower(): a[2] or a[3] or a[4] or "" for a in _ATTR.finditer(m[0], 5)}
        if attrs.get("http-equiv", "").strip().lower() == HEADER.lower():
            found.append(html.unescape(attrs.get("content", "")))
    return found


def allowed(value: str, directive: str) -> list[str]:
    """The sources VALUE (one policy) gives DIRECTIVE, falling back to default-src."""
    parsed: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            parsed.setdefault(words[0].lower(), words[1:])
    return parsed.get(directive, parsed.get("default-src", []))
