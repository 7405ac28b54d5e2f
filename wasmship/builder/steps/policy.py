"""Step: the dist's Content-Security-Policy (builder/csp.py): a header rule for every page,
recorded in the manifest for serve, dev, the Go handler and the server configs, and a
<meta http-equiv> in each page for hosts that cannot set headers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from wasmship.builder.context import BuildContext
from wasmship.builder.csp import HEADER, Inline, inline_of, policy, render, with_meta
from wasmship.builder.dist_files import add_file
from wasmship.distformat.headers import BadHeaders, HeaderRule, check_header
from wasmship.distformat.page import HTML_SUFFIXES, SCRIPT_SUFFIXES, lines, read_page

# An absolute URL of another origin written as a literal in a script or a stylesheet (a fetch,
# an import, a WebSocket, a url()): a load the strict policy would block.
_ABSOLUTE = re.compile(r"""["'`(]\s*((?:https?|wss?)://[^\s"'`)<>]+)""")


def write_policy(ctx: BuildContext) -> None:
    """Hash every page's inline scripts and styles into one policy; send it and embed it."""
    pages = {
        logical: (ctx.staging / entry.path).read_text(encoding="utf-8", errors="replace")
        for logical, entry in sorted(ctx.files.items())
        if entry.path.lower().endswith(HTML_SUFFIXES)
    }
    if not pages:
        ctx.notes["policy"] = "no page"
        return
    if ctx.config.csp_off:
        ctx.notes["policy"] = "none (--csp-off)"
        return
    found = {logical: inline_of(text) for logical, text in pages.items()}
    if not ctx.config.csp:
        # A project that has said nothing about its policy gets the strict one only when its
        # pages run under it: a deploy that builds must not stop working in the browser.
        needs = _beyond_strict(ctx, pages, found)
        if needs is not None:
            ctx.warnings.append(
                f"{needs}: no Content-Security-Policy written, as the strict one would block "
                "it; list the other origins under [csp] in wasmship.toml (for example "
                'script-src = ["https://cdn.example"]) and move event handlers into scripts '
                "to have one"
            )
            ctx.notes["policy"] = "none: the pages need more than the strict policy"
            return
    for logical, inline in found.items():
        for line, name in inline.attributes:
            ctx.warnings.append(
                f"{ctx.files[logical].path}:{line}: a {name}= attribute runs only under "
                "'unsafe-hashes' or 'unsafe-inline', which the dist's policy leaves out: "
                "move it into a script or stylesheet file"
            )
    directives = policy(found.values(), ctx.config.csp)
    value = render(directives)
    try:
        check_header(HEADER, value)
    except BadHeaders as exc:
        ctx.warnings.append(f"no Content-Security-Policy header: {exc}")
    else:
        suffixes = sorted(
            {"." + e.path.rsplit(".", 1)[-1].lower() for e in map(ctx.files.get, pages) if e}
        )
        ctx.header_rules.extend(HeaderRule(f"/*{s}", ((HEADER, value),)) for s in suffixes)
    meta = render(directives, meta=True)
    for logical, text in pages.items():
        placed = with_meta(text, meta)
        if placed is None:
            ctx.warnings.append(f"{ctx.files[logical].path}: no <head>: no CSP <meta> put in it")
            continue
        entry = ctx.files[logical]
        add_file(ctx, logical, placed.encode("utf-8"), hashed=False)
        assert ctx.files[logical].path == entry.path
    scripts = len({h for inline in found.values() for h in inline.scripts})
    ctx.notes["policy"] = f"{len(pages)} page(s), {scripts} inline script hash(es)"


def _beyond_strict(
    ctx: BuildContext, pages: dict[str, str], found: dict[str, Inline]
) -> str | None:
    """Where the project's pages need more than the strict policy (file:line and what), or
    None: an event handler attribute (onclick=), or a file loaded from another origin by a page,
    a script or a stylesheet of the static folder."""
    for logical, inline in found.items():
        for line, name in inline.attributes:
            if name != "style":  # a style attribute only loses its look; a handler its action
                return f"{ctx.files[logical].path}:{line}: a {name}= attribute"
    for logical, text in pages.items():
        page = read_page(text)
        for ref in page.references:
            if urlsplit(ref.url).scheme.lower() in ("http", "https") or ref.url.startswith("//"):
                return f"{ctx.files[logical].path}:{ref.line}: {ref.url} from another origin"
        for first, code in page.scripts:
            if m := _ABSOLUTE.search(code):
                line = lines(code, first)(m.start(1))
                return f"{ctx.files[logical].path}:{line}: {m[1]} from another origin"
    for logical in ctx.static_files:
        entry = ctx.files.get(logical)
        if entry is None or not entry.path.lower().endswith((*SCRIPT_SUFFIXES, ".css")):
            continue
        text = (ctx.staging / entry.path).read_text(encoding="utf-8", errors="replace")
        if m := _ABSOLUTE.search(text):
            return f"{entry.path}:{lines(text)(m.start(1))}: {m[1]} from another origin"
    return None
