"""What `wasmship dev` changes in a page it serves: its reload script, and the CSP to allow it.

The built files are never touched: the dev server rewrites HTML responses only, so a dev build's
files are exactly a fast build's. The script is an external, same-origin file (no inline code),
so a page with a strict Content-Security-Policy runs it as it runs the loader; where the page's
policy would still block it (scripts allowed by hash only, 'strict-dynamic', no connect-src for
the event stream), the policy in the served copy gains exactly what the dev script needs.
"""

from __future__ import annotations

import html
import re

RESERVED = "/__wasmship/"  # the dev server's own paths; never a path of a dist
SCRIPT_PATH = RESERVED + "dev.js"
EVENTS_PATH = RESERVED + "events"

_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)

# For each kind of request the dev script makes, the directives that govern it, most specific
# first: the first one a policy has is the one the browser applies.
SCRIPT_DIRECTIVES = ("script-src-elem", "script-src", "default-src")
CONNECT_DIRECTIVES = ("connect-src", "default-src")


def script_tag(build: str, integrity: str) -> str:
    """The tag the dev server adds to a page: the reload script, told which build the page is."""
    return (
        f'<script defer src="{SCRIPT_PATH}" integrity="{integrity}" '
        f'data-build="{html.escape(build)}"></script>'
    )


def inject(page: str, tag: str, integrity: str) -> str:
    """PAGE with TAG before </head> (after any CSP meta), and its CSP policies allowing it."""
    page = _META.sub(lambda m: _allow_in_meta(m.group(0), integrity), page)
    for pattern, before in ((_HEAD_END, True), (_BODY_START, False)):
        match = pattern.search(page)
        if match:
            at = match.start() if before else match.end()
            return page[:at] + (tag + "\n" if before else "\n" + tag) + page[at:]
    return page + tag + "\n"


def _allow_in_meta(meta: str, integrity: str) -> str:
    """A <meta http-equiv=Content-Security-Policy> with its policy allowing the dev script."""
    attributes = {
        m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "", m.span())
        for m in _ATTRIBUTE.finditer(meta, 5)
    }
    equiv = attributes.get("http-equiv", ("", (0, 0)))[0]
    if equiv.strip().lower() != "content-security-policy" or "content" not in attributes:
        return meta
    content, (start, end) = attributes["content"]
    policy = allow_dev(html.unescape(content), integrity)
    return f'{meta[:start]}content="{html.escape(policy, quote=True)}"{meta[end:]}'


def allow_dev(policy: str, integrity: str) -> str:
    """POLICY (one CSP, or several joined by commas) allowing the dev script and its events.

    Nothing else is loosened: a directive that already allows them is kept as it is, and where
    only default-src governs, a specific directive is added with default-src's sources.
    """
    return ", ".join(_allow_one(p, integrity) for p in policy.split(","))


def _allow_one(policy: str, integrity: str) -> str:
    parsed = [d.split() for d in policy.split(";") if d.strip()]
    directives = [(words[0].lower(), words[1:]) for words in parsed]
    script = _governing(directives, SCRIPT_DIRECTIVES)
    if script is not None and not _allows_script(directives[script][1], integrity):
        # 'self' is ignored beside 'strict-dynamic'; the script's hash (the tag carries its
        # integrity) is honoured either way.
        directives = _add(directives, script, "script-src", ["'self'", f"'{integrity}'"])
    connect = _governing(directives, CONNECT_DIRECTIVES)
    if connect is not None and not _allows_same_origin(directives[connect][1]):
        directives = _add(directives, connect, "connect-src", ["'self'"])
    return "; ".join(" ".join([name, *sources]) for name, sources in directives)


def _allows_same_origin(sources: list[str]) -> bool:
    return any(s.lower() in ("'self'", "*", "http:") for s in sources)


def _allows_script(sources: list[str], integrity: str) -> bool:
    if f"'{integrity}'" in sources:
        return True
    return _allows_same_origin(sources) and "'strict-dynamic'" not in sources


def _governing(directives: list[tuple[str, list[str]]], names: tuple[str, ...]) -> int | None:
    """The index of the directive the browser applies for NAMES; None when none restricts it."""
    for name in names:
        for index, (directive, _) in enumerate(directives):
            if directive == name:
                return index
    return None


def _add(
    directives: list[tuple[str, list[str]]], index: int, name: str, sources: list[str]
) -> list[tuple[str, list[str]]]:
    """The directive at INDEX with SOURCES added; a default-src is left as it is and directive
    NAME is added with its sources plus SOURCES, so that nothing else is loosened."""
    governing, present = directives[index]
    kept = [s for s in present if s.lower() != "'none'"]  # 'none' beside a source is an error
    added = kept + [s for s in sources if s not in kept]
    if governing == "default-src":
        return [*directives, (name, added)]
    return [*directives[:index], (governing, added), *directives[index + 1 :]]
