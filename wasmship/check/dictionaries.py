"""`check URL`, Compression Dictionary Transport: modules say Use-As-Dictionary, deltas decode."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import quote, urljoin, urlsplit

from wasmship.check.findings import NONE, Outcome, Result
from wasmship.delivery.client import Fetcher, entry_body
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import FileEntry
from wasmship.encodings import dcz

_MATCH = re.compile(r'(?:^|[;,\s])match\s*=\s*"([^"]*)"')


def pattern_covers(header: str | None, url: str) -> bool:
    """Whether a Use-As-Dictionary HEADER's match pattern covers URL (resolved against URL)."""
    found = _MATCH.search(header or "")
    if not found:
        return False
    pattern = urlsplit(urljoin(url, found.group(1))).path
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, urlsplit(url).path) is not None


def check_dictionary_transport(
    fetcher: Fetcher, base: str, entry: FileEntry, files: Mapping[str, FileEntry]
) -> Iterator[Result]:
    """A module or shim offers itself as a dictionary; each delta is served for its dictionary."""
    url = urljoin(base, quote(entry.path))
    pattern = entry.dictionary_pattern
    if pattern is not None:
        reply = fetcher.get(url, {"Accept-Encoding": "br, gzip"}, limit=entry_body(entry))
        header = reply.header("Use-As-Dictionary")
        # Required once the dist has deltas; before that, a missing header only costs the
        # next update its delta.
        missing: Outcome = "fail" if any(f.deltas for f in files.values()) else "warn"
        outcome: Outcome = "ok" if pattern_covers(header, url) else missing
        expected = f'match="{pattern}" (any later hash)'
        yield Result(entry.path, "Use-As-Dictionary", outcome, expected, header or NONE)
    by_hash = {f.sha256: f for f in files.values()}
    for variant in entry.deltas:
        yield from check_delta(fetcher, base, url, entry, variant.dictionary or "", by_hash)


def check_delta(
    fetcher: Fetcher,
    base: str,
    url: str,
    entry: FileEntry,
    dictionary_sha256: str,
    by_hash: Mapping[str, FileEntry],
) -> Iterator[Result]:
    """Offer the kept earlier file as dictionary: the answer must be dcz and decode to ENTRY."""
    available = dcz.available_dictionary(dictionary_sha256)
    request = f"Accept-Encoding: dcz, br; Available-Dictionary: {available}"

    def result(check: str, ok: bool, expected: str, actual: str | None) -> Result:
        return Result(entry.path, check, "ok" if ok else "fail", expected, actual or NONE, request)

    kept = by_hash.get(dictionary_sha256)
    if kept is None:
        yield result("dictionary", False, f"a file with sha256 {dictionary_sha256}", None)
        return
    original = fetcher.get(
        urljoin(base, quote(kept.path)),
        {"Accept-Encoding": "identity"},
        limit=entry_body(kept, hold=True),
    )
    if original.status != 200 or sha256_hex(original.body) != dictionary_sha256:
        yield result("dictionary", False, f"{kept.path} (200, its sha256)", str(original.status))
        return
    offered = {"Accept-Encoding": "dcz, br", "Available-Dictionary": available}
    reply = fetcher.get(url, offered, limit=entry_body(entry, hold=True))
    got = (reply.header("Content-Encoding") or "").strip().lower()
    yield result("Content-Encoding", reply.status == 200 and got == "dcz", "dcz", got or None)
    if got != "dcz":
        return
    try:
        decoded = dcz.decompress(reply.body, original.body, entry.size)
    except dcz.DczError as exc:
        yield result("body", False, f"sha256 {entry.sha256}", str(exc))
        return
    digest = sha256_hex(decoded)
    yield result("body", digest == entry.sha256, f"sha256 {entry.sha256}", f"sha256 {digest}")
