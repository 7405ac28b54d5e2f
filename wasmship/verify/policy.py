"""Every inline script of a page is allowed by the page's Content-Security-Policy: the header
the manifest's [headers] rules give it and any <meta http-equiv> in it. A page edited after the
build runs a script whose hash the policy does not name: a browser blocks it."""

from __future__ import annotations

from collections.abc import Iterable

from wasmship.builder.csp import HEADER, allowed, meta_policies, source_hash
from wasmship.distformat.headers import HeaderRule, headers_for
from wasmship.distformat.page import HTML_SUFFIXES, read_page
from wasmship.verify.files import Checker


def check_policies(check: Checker, files: Iterable[str], rules: Iterable[HeaderRule]) -> None:
    """Each page's inline scripts against each policy it is sent or carries."""
    rules = tuple(rules)
    for rel in files:
        if not rel.lower().endswith(HTML_SUFFIXES):
            continue
        data = check.contents.get(rel)
        if data is None:
            try:
                data = (check.dist / rel).read_bytes()
            except OSError:
                continue
        text = data.decode("utf-8", "replace")
        sent = [v for n, v in headers_for(rules, "/" + rel) if n.lower() == HEADER.lower()]
        policies = [("its header", v) for v in sent]
        policies += [("its <meta>", v) for v in meta_policies(text)]
        for line, code in read_page(text).scripts:
            digest = source_hash(code)
            for where, policy in policies:
                sources = allowed(policy, "script-src")
                if "'unsafe-inline'" in sources or digest in sources:
                    continue
                check.error(
                    rel,
                    f"an inline <script> whose sha256 ({digest}) is not in the "
                    f"Content-Security-Policy ({where}): a browser blocks it (the page changed "
                    "after the build? build again)",
                    line,
                    kind="reference",
                )
                break
