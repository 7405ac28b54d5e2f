"""GitHub Actions: the size table in the step summary, and failures as ::error:: annotations."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from wasmship.dist.manifest import Manifest
from wasmship.sizes import human_size


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
