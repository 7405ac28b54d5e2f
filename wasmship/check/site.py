"""Fetch every file of a deployed dist and check each response against the manifest's rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import quote, urljoin, urlsplit

from wasmship.check.dictionaries import check_dictionary_transport
from wasmship.check.findings import NONE, OPTIONAL_CODINGS, OWN_HEADER, CheckReport, Outcome, Result
from wasmship.check.policy import NAME as POLICY
from wasmship.check.policy import policy_outcome
from wasmship.check.routes import check_client_routes
from wasmship.delivery.client import (
    MANIFEST_BODY,
    PAGE_BODY,
    Fetcher,
    Reply,
    entry_body,
    url_problem,
)
from wasmship.delivery.negotiation import (
    IMMUTABLE_CACHE,
    JAVASCRIPT_TYPES,
    NOSNIFF,
    ONE_YEAR,
    SHORT_MAX_AGE,
    cache_directives,
    content_type_matches,
    header_tokens,
    media_type,
    negotiable,
    response_vary,
)
from wasmship.distformat.headers import headers_for
from wasmship.distformat.model import BROWSER_DECODED, FileEntry, Hosting, Manifest, Variant
from wasmship.distformat.names import MANIFEST
from wasmship.distformat.page import script_sources
from wasmship.distformat.reader import loads_manifest
from wasmship.encodings.decoders import IDENTITY
from wasmship.errors import CheckError, ManifestError, UsageError
from wasmship.preview import is_loopback


def base_of(url: str) -> str:
    """The folder URL a dist is at: `…/app` and `…/app/index.html` both give `…/app/`."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        path = path.rsplit("/", 1)[0] + "/" if "." in last else path + "/"
    return parts._replace(path=path, query="", fragment="").geturl()


def find_manifest(fetcher: Fetcher, url: str) -> tuple[str, Manifest]:
    """The manifest's URL and document: at URL's folder, else beside the page's scripts."""
    first = urljoin(base_of(url), MANIFEST)
    tried = [first]
    reply = fetcher.follow(first, {"Accept-Encoding": IDENTITY}, limit=MANIFEST_BODY)
    if reply.status == 200:
        return reply.url, _parse_manifest(reply)
    page = fetcher.follow(url, {"Accept-Encoding": IDENTITY}, limit=PAGE_BODY)
    if page.status == 200 and media_type(page.header("Content-Type") or "") == "text/html":
        for src in script_sources(page.body.decode("utf-8", "replace")):
            candidate = urljoin(base_of(urljoin(page.url, src)), MANIFEST)
            if candidate in tried:
                continue
            tried.append(candidate)
            reply = fetcher.follow(candidate, {"Accept-Encoding": IDENTITY}, limit=MANIFEST_BODY)
            if reply.status == 200:
                return reply.url, _parse_manifest(reply)
    raise CheckError(
        f"no manifest.json at {' or '.join(tried)} (last status {reply.status}); "
        "deploy manifest.json with the dist, or give the URL of the dist's folder"
    )


def _parse_manifest(reply: Reply) -> Manifest:
    try:
        return loads_manifest(reply.body)
    except ManifestError as exc:
        raise CheckError(f"{reply.url}: {exc}") from exc


def _max_age(directives: dict[str, str]) -> int | None:
    try:
        return int(directives["max-age"])
    except (KeyError, ValueError):
        return None


def cache_ok(entry: FileEntry, header: str | None) -> tuple[bool, str]:
    """Whether Cache-Control HEADER suits ENTRY, and what was expected."""
    directives = cache_directives(header)
    max_age = _max_age(directives)
    if entry.immutable:
        ok = (
            "immutable" in directives
            and max_age is not None
            and max_age >= ONE_YEAR
            and not {"no-cache", "no-store"} & directives.keys()
        )
        return ok, IMMUTABLE_CACHE
    expected = f"no-cache (or max-age<={SHORT_MAX_AGE}, or must-revalidate)"
    if "immutable" in directives:
        return False, expected
    if {"no-cache", "no-store"} & directives.keys():
        return True, expected
    if max_age is not None:
        return max_age <= SHORT_MAX_AGE, expected
    return "must-revalidate" in directives, expected


def expected_type(entry: FileEntry) -> str:
    """The Content-Type to ask for, in words when several are right."""
    want = media_type(entry.content_type)
    return f"a JavaScript type ({want})" if want in JAVASCRIPT_TYPES else want


def check_reply(
    entry: FileEntry,
    reply: Reply,
    coding: str,
    *,
    negotiates: bool = True,
    own: Sequence[tuple[str, str]] = (),
) -> Iterator[Result]:
    """Every rule for one response to a request that accepted only CODING (Vary only from a
    host that NEGOTIATES), and the project's OWN headers ([headers])."""
    request = f"Accept-Encoding: {coding}"

    def result(check: str, ok: bool, expected: str, actual: str | None) -> Result:
        outcome: Outcome = "ok" if ok else "fail"
        return Result(entry.path, check, outcome, expected, actual or NONE, request)

    yield result("status", reply.status == 200, "200", str(reply.status))
    if reply.status != 200:
        return
    got_type = reply.header("Content-Type")
    yield result(
        "Content-Type",
        content_type_matches(entry.content_type, got_type or ""),
        expected_type(entry),
        got_type,
    )
    got_coding = (reply.header("Content-Encoding") or "").strip().lower()
    want_coding = NONE if coding == IDENTITY else coding
    identity = got_coding in ("", IDENTITY)
    coding_ok = identity if coding == IDENTITY else got_coding == coding
    if not coding_ok and identity and coding in OPTIONAL_CODINGS:
        # Not offered by this host: the file itself comes instead, which is never wrong.
        yield Result(entry.path, "Content-Encoding", "warn", want_coding, NONE, request)
    else:
        yield result("Content-Encoding", coding_ok, want_coding, got_coding)
    digest = reply.decoded_sha256  # decoded as it arrived (delivery.client.Body)
    if digest is None:
        yield result("body", False, f"sha256 {entry.sha256}", reply.decode_error)
    else:
        yield result("body", digest == entry.sha256, f"sha256 {entry.sha256}", f"sha256 {digest}")
    cache = reply.header("Cache-Control")
    ok, expected = cache_ok(entry, cache)
    yield result("Cache-Control", ok, expected, cache)
    expected_vary = response_vary(entry) if negotiates else None
    if expected_vary:
        vary = reply.header("Vary")
        tokens = header_tokens(vary)
        ok = "*" in tokens or header_tokens(expected_vary) <= tokens
        yield result("Vary", ok, expected_vary, vary)
    sniff = reply.header("X-Content-Type-Options")
    yield result("X-Content-Type-Options", (sniff or "").lower() == NOSNIFF, NOSNIFF, sniff)
    for name, value in own:
        got = reply.header(name)
        if name.lower() == POLICY.lower():  # the dist's policy: weaker or missing warns
            strong, why = policy_outcome(value, got)
            outcome: Outcome = "ok" if strong else "warn"
            shown = f"{got or NONE} ({why})" if why else got or NONE
            yield Result(entry.path, OWN_HEADER + name, outcome, value, shown, request)
        else:
            yield result(OWN_HEADER + name, got == value, value, got)


def check_file(
    fetcher: Fetcher,
    base: str,
    entry: FileEntry,
    hosting: Hosting = Hosting.NEGOTIATE,
    own: Sequence[tuple[str, str]] = (),
) -> Iterator[Result]:
    """Fetch ENTRY once as identity and, from a host that negotiates, once per encoding the
    dist has, checking each; from a static host, the module's variants the loader fetches."""
    url = urljoin(base, quote(entry.path))
    negotiates = hosting is Hosting.NEGOTIATE
    codings = [IDENTITY, *(v.coding for v in entry.plain_variants)] if negotiates else [IDENTITY]
    for coding in codings:
        reply = fetcher.get(url, {"Accept-Encoding": coding}, limit=entry_body(entry))
        yield from check_reply(entry, reply, coding, negotiates=negotiates, own=own)
    if not negotiates and media_type(entry.content_type) == "application/wasm":
        yield from check_fetched_variants(fetcher, base, entry)
    known = negotiable(entry)
    for variant in entry.variants:
        if variant not in known:
            yield Result(
                entry.path, "Content-Encoding", "warn", "a coding wasmship knows", variant.coding
            )


def check_fetched_variants(fetcher: Fetcher, base: str, entry: FileEntry) -> Iterator[Result]:
    """A static host's module variants, asked for by their own URLs as the loader does."""
    for variant in entry.plain_variants:
        if variant.coding in BROWSER_DECODED:
            yield from check_fetched_variant(fetcher, base, entry, variant)


def check_fetched_variant(
    fetcher: Fetcher, base: str, entry: FileEntry, variant: Variant
) -> Iterator[Result]:
    """VARIANT is there, its bytes as they are (whatever Content-Encoding labels them), cached
    as its module is."""
    url = urljoin(base, quote(variant.path))
    reply = fetcher.get(url, {"Accept-Encoding": IDENTITY}, limit=entry_body(entry))
    request = f"Accept-Encoding: {IDENTITY}"

    def result(check: str, ok: bool, expected: str, actual: str | None) -> Result:
        outcome: Outcome = "ok" if ok else "fail"
        return Result(variant.path, check, outcome, expected, actual or NONE, request)

    yield result("status", reply.status == 200, "200", str(reply.status))
    if reply.status != 200:
        return
    digest = reply.sha256  # the bytes as sent: a variant is fetched as it is stored
    yield result("body", digest == variant.sha256, f"sha256 {variant.sha256}", f"sha256 {digest}")
    ok, expected = cache_ok(entry, reply.header("Cache-Control"))
    yield result("Cache-Control", ok, expected, reply.header("Cache-Control"))


def check_site(url: str, *, timeout: float = 10.0) -> CheckReport:
    """Check every file of every target of the dist deployed at URL."""
    problem = url_problem(url)
    if problem is not None:
        shown = url if url and url.isprintable() else repr(url)
        raise UsageError(
            f"cannot check {shown}: {problem}; "
            "give the address of the deployed dist, e.g. https://example.org/app/"
        )
    parts = urlsplit(url)
    results: list[Result] = []
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        results.append(
            Result(
                url, "scheme", "warn", "https://", "http://", "browsers need HTTPS off localhost"
            )
        )
    fetcher = Fetcher(timeout)
    try:
        manifest_url, manifest = find_manifest(fetcher, url)
        files = manifest.files_by_path()
        results.append(Result(MANIFEST, "manifest", "ok", "found", manifest_url))
        base = base_of(manifest_url)
        for entry in files.values():
            own = headers_for(manifest.headers, "/" + entry.path)
            results.extend(check_file(fetcher, base, entry, manifest.hosting, own))
            if manifest.hosting is Hosting.NEGOTIATE:  # a static host sends no deltas
                results.extend(check_dictionary_transport(fetcher, base, entry, files))
        results.extend(check_client_routes(fetcher, base, manifest))
    finally:
        fetcher.close()
    return CheckReport(url=url, manifest_url=manifest_url, results=tuple(results))
