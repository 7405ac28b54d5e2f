"""Showing a CheckReport: a table with a row per file and check, then each failure in full."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from wasmship.check.results import CheckReport, Result

_RANK = {"ok": 0, "warn": 1, "fail": 2}
_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def rows(report: CheckReport) -> list[tuple[Result, str]]:
    """One row per (file, check): the worst of its requests, and what came back for each."""
    grouped: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        grouped.setdefault((result.file, result.check), []).append(result)
    table: list[tuple[Result, str]] = []
    for results in grouped.values():
        worst = max(results, key=lambda r: _RANK[r.outcome])
        if worst.outcome != "ok":
            table.append((worst, worst.actual))
        elif worst.check == "body":
            codings = ", ".join(r.request.removeprefix("Accept-Encoding: ") for r in results)
            table.append((worst, f"decodes to the manifest's sha256 ({codings})"))
        else:
            table.append((worst, ", ".join(dict.fromkeys(r.actual for r in results))))
    return table


def describe(result: Result, requests: list[str]) -> str:
    """`main.1a2b.wasm: Content-Type: expected application/wasm, got text/plain (…)`."""
    prefix = "Accept-Encoding: "
    if len(requests) > 1 and all(r.startswith(prefix) for r in requests):
        requests = [prefix + " / ".join(r.removeprefix(prefix) for r in requests)]
    where = f" ({'; '.join(requests)})" if requests else ""
    return f"{result.file}: {result.check}: expected {result.expected}, got {result.actual}{where}"


def problems(report: CheckReport) -> list[str]:
    """Each failure, then each warning, as a line; the same finding on several requests once."""
    same: dict[Result, list[str]] = {}
    for result in (*report.failures, *report.warnings):
        key = Result(result.file, result.check, result.outcome, result.expected, result.actual)
        same.setdefault(key, []).extend([result.request] if result.request else [])
    return [
        f"{'FAIL' if key.outcome == 'fail' else 'warning'}: {describe(key, requests)}"
        for key, requests in same.items()
    ]


def show(report: CheckReport, console: Console) -> None:
    """Print the table, then every failure and warning on its own unwrapped line."""
    table = Table(show_edge=False, pad_edge=False)
    for column in ("file", "check", "result", "got"):
        table.add_column(column, overflow="fold")
    for result, got in rows(report):
        table.add_row(result.file, result.check, _MARK[result.outcome], got)
    console.print(table)
    for line in problems(report):
        console.print(line, soft_wrap=True, markup=False)
    failed, warned = len(report.failures), len(report.warnings)
    checked = len(report.results)
    summary = f"{checked} checks at {report.manifest_url}: {failed} failed, {warned} warnings"
    console.print(summary, soft_wrap=True, markup=False, style="red" if failed else "green")
