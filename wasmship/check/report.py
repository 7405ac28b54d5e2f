"""Showing a CheckReport: a line per file that passed, each failure and warning in full."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from wasmship.check.findings import NONE, OPTIONAL_CODINGS, CheckReport, Result
from wasmship.check.routes import ROUTE_CHECKS
from wasmship.delivery.negotiation import IMMUTABLE_CACHE, media_type
from wasmship.encodings.decoders import IDENTITY


def by_file(results: Iterable[Result]) -> dict[str, list[Result]]:
    """The results grouped by file (or URL), in the order they were checked."""
    grouped: dict[str, list[Result]] = {}
    for result in results:
        grouped.setdefault(result.file, []).append(result)
    return grouped


def decoded_codings(results: Sequence[Result]) -> list[str]:
    """The codings whose bodies were checked (identity last): `br`, `gzip`, `dcz`, `identity`."""
    asked = {r.request: r.expected for r in results if r.check == "Content-Encoding"}
    codings = dict.fromkeys(asked.get(r.request, NONE) for r in results if r.check == "body")
    named = [coding for coding in codings if coding != NONE]
    return [*named, IDENTITY] if NONE in codings else named


def summary(results: Sequence[Result]) -> str:
    """What passed for one file, in a few words: `application/wasm, br/gzip/identity decode
    to the manifest's sha256, immutable`."""

    def actual(check: str) -> list[str]:
        return list(dict.fromkeys(r.actual for r in results if r.check == check))

    said = ["/".join(dict.fromkeys(media_type(t) for t in actual("Content-Type")))]
    codings = decoded_codings(results)
    if codings:
        verb = "decodes" if len(codings) == 1 else "decode"
        said.append(f"{'/'.join(codings)} {verb} to the manifest's sha256")
    cache = [r for r in results if r.check == "Cache-Control"]
    if cache:
        immutable = cache[0].expected == IMMUTABLE_CACHE
        said.append("immutable" if immutable else ", ".join(actual("Cache-Control")))
    said += [f"Use-As-Dictionary: {header}" for header in actual("Use-As-Dictionary")]
    said += [f"found at {url}" for url in actual("manifest")]
    said += [f"{r.check}: {r.actual}" for r in results if r.check in ROUTE_CHECKS]
    return ", ".join(part for part in said if part)


def describe(result: Result, requests: list[str]) -> str:
    """`main.1a2b.wasm: Content-Type: expected application/wasm, got text/plain (…)`."""
    prefix = "Accept-Encoding: "
    if len(requests) > 1 and all(r.startswith(prefix) for r in requests):
        requests = [prefix + " / ".join(r.removeprefix(prefix) for r in requests)]
    where = f" ({'; '.join(requests)})" if requests else ""
    return f"{result.file}: {result.check}: expected {result.expected}, got {result.actual}{where}"


def problems(results: Sequence[Result]) -> list[str]:
    """Each failure, then each warning, as a line; the same finding on several requests once."""
    same: dict[Result, list[str]] = {}
    found = [r for r in results if r.outcome != "ok"]
    for result in sorted(found, key=lambda r: r.outcome != "fail"):
        key = Result(result.file, result.check, result.outcome, result.expected, result.actual)
        same.setdefault(key, []).extend([result.request] if result.request else [])
    return [
        f"{'FAIL' if key.outcome == 'fail' else 'warning'}: {describe(key, requests)}"
        for key, requests in same.items()
    ]


def show(report: CheckReport, console: Console, *, quiet: bool = False) -> None:
    """A line per file that passed, every failure and warning on its own line where its file
    would be, then the count; QUIET: nothing on success, only the problems on failure."""
    if quiet and not report.failures:
        return
    groups = by_file(report.results)
    passed = {file: results for file, results in groups.items() if not problems(results)}
    width = max((len(file) for file in passed), default=0)
    for file, results in groups.items():
        if file in passed:
            if not quiet:
                line = Text.assemble(("ok", "green"), "  ", file.ljust(width), "  ")
                console.print(line.append(summary(results)), soft_wrap=True)
            continue
        for problem in problems(results):
            style = "red" if problem.startswith("FAIL") else "yellow"
            console.print(problem, soft_wrap=True, markup=False, style=style)
    if quiet:
        return
    failed, warned = len(report.failures), len(report.warnings)
    checked = len(report.results)
    warnings = "warning" if warned == 1 else "warnings"
    counted = f"{checked} checks at {report.manifest_url}: {failed} failed, {warned} {warnings}"
    console.print(counted, soft_wrap=True, markup=False, style="red" if failed else "green")
    for note in notes(report):
        console.print(note, soft_wrap=True, markup=False, style="yellow")


# Where the docs say what a dist needs from a host that sends only its files.
PLAIN_HOST_DOCS = "docs/deploy.md#what-a-plain-static-host-needs"


def notes(report: CheckReport) -> list[str]:
    """What the failures and warnings mean as a whole: the host's settings or the files."""
    said = []
    host, failed = report.host_failures, report.failures
    if failed and len(host) == len(failed):
        headers = ", ".join(sorted({r.check for r in host}))
        said.append(
            "note: every file is there with the manifest's bytes; what fails are headers the "
            f"host's settings send ({headers}), not the dist. A plain static host works in a "
            f"browser without them; to pass, set them: see {PLAIN_HOST_DOCS}"
        )
    elif host:
        said.append(
            f"note: {len(host)} of the {len(failed)} failures are headers the host's settings "
            f"send; the other {len(failed) - len(host)} are the files themselves (status, bytes)"
        )
    unserved = sorted({r.expected for r in report.warnings if r.expected in OPTIONAL_CODINGS})
    if unserved:
        said.append(
            f"note: the host does not serve the {'/'.join(unserved)} variants; clients get br, "
            "gzip or the file itself (nginx needs a module for zstd: see docs/server-configs.md)"
        )
    return said


def failure_message(report: CheckReport) -> str:
    """The one line `check` fails with."""
    failed, host = len(report.failures), len(report.host_failures)
    if failed and host == failed:
        return (
            f"{failed} checks failed at {report.url}, all of them headers the host's settings "
            "send (the dist's files are intact)"
        )
    return f"{failed} checks failed at {report.url}"
