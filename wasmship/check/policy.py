"""The Content-Security-Policy a deployed page is sent, against the one the build wrote.

A host that sends none leaves the page's <meta> policy (which cannot carry frame-ancestors,
report-uri or sandbox); one that sends a policy allowing 'unsafe-inline' or 'unsafe-eval', or
missing a directive of the dist's, sends a weaker one; one without the hash of a page's inline
script (the early fetch of the built-in page) blocks that script. All are warnings: the page
still runs (the loader fetches the module itself when its early fetch is blocked).
"""

from __future__ import annotations

from wasmship.builder.csp import UNSAFE, allowed

NAME = "Content-Security-Policy"


def policy_outcome(expected: str, got: str | None) -> tuple[bool, str]:
    """(as strong as EXPECTED, why not) for the policy GOT (None: not sent)."""
    if got is None:
        return False, "only the pages' <meta> policy applies"
    if got == expected:
        return True, ""
    for part in expected.split(";"):
        words = part.split()
        if not words:
            continue
        sources = allowed(got, words[0].lower())
        if not sources:
            return False, f"weaker: no {words[0]}"
        unsafe = sorted(s for s in sources if s.lower() in UNSAFE)
        if unsafe:
            return False, f"weaker: {words[0]} allows {' '.join(unsafe)}"
        hashes = [w for w in words[1:] if w.lower().startswith("'sha256-")]
        blocked = [h for h in hashes if h not in sources]
        if blocked and words[0].lower() in ("script-src", "style-src"):
            return False, f"blocks the page's inline code: {words[0]} has no {blocked[0]}"
    return True, ""
