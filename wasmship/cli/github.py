"""GitHub Actions: the size table in the step summary, and failures as ::error:: annotations."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wasmship.distformat.model import Manifest
from wasmship.units import human_size

if TYPE_CHECKING:
    from wasmship.size import SizeReport


def summary_markdown(manifest: Manifest, budgets: list[dict[str, Any]]) -> str:
    """The build's files and sizes (and budgets) as a Markdown table."""
    lines = ["### wasmship build", "", "| file | size | br | gzip |", "|---|---:|---:|---:|"]
    for entry in sorted(manifest.current_files(), key=lambda e: -e.size):
        cells = [f"`{entry.path}`", human_size(entry.size)]
        for encoding in ("br", "gzip"):
            variant = entry.encodings.get(encoding)
            cells.append(
                f"{human_size(variant.size)} ({variant.size / entry.size:.0%})" if variant else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    if budgets:
        lines += ["", "| budget | limit | size | |", "|---|---:|---:|---|"]
        for budget in budgets:
            size = "-" if budget["size"] is None else human_size(budget["size"])
            verdict = "❌ over" if budget["exceeded"] else "✅"
            lines.append(
                f"| {budget['target']}.{budget['encoding']} | {human_size(budget['limit'])} "
                f"| {size} | {verdict} |"
            )
    return "\n".join(lines) + "\n\n"


def size_markdown(reports: list[SizeReport]) -> str:
    """Each module's size change since the build before (--size-report), as Markdown."""
    from wasmship.size.diff import signed_size

    lines = ["### wasmship size", ""]
    for report in reports:
        size = report.size
        lines.append(
            f"`{size.module}`: {human_size(size.total)}, {size.coverage:.1%} attributed to "
            f"{len(size.packages)} packages"
        )
        if report.diff is None:
            lines += ["", f"_{report.note}_", ""]
            continue
        lines += ["", report.diff.line(), "", "| package | raw | br est. | |"]
        lines.append("|---|---:|---:|---|")
        for change in report.diff.packages[:15]:
            lines.append(
                f"| `{change.name}` | {signed_size(change.raw)} | {signed_size(change.br)} "
                f"| {change.status} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def append_step_summary(environ: Mapping[str, str], text: str) -> None:
    """Append TEXT to $GITHUB_STEP_SUMMARY when it is set."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def annotate_error(environ: Mapping[str, str], message: str) -> None:
    """An ::error:: workflow command (stderr: stdout may be a --json document)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title=wasmship::{escaped}", file=sys.stderr)
