"""Step: the dist's Content-Security-Policy (builder/csp.py): a header rule for every page,
recorded in the manifest for serve, dev, the Go handler and the server configs, and a
<meta http-equiv> in each page for hosts that cannot set headers."""

from __future__ import annotations

from wasmship.builder.context import BuildContext
from wasmship.builder.csp import HEADER, inline_of, policy, render, with_meta
from wasmship.builder.dist_files import add_file
from wasmship.distformat.headers import BadHeaders, HeaderRule, check_header
from wasmship.distformat.page import HTML_SUFFIXES


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
    found = {logical: inline_of(text) for logical, text in pages.items()}
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
