"""Human output of a build: a line per step with its time, then a table of files and sizes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

from wasmship.size import human_size
from wasmship.steps.manifest import unique_files


class ConsoleReporter:
    """Prints each finished step with its time; quiet prints nothing but warnings."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.out = Console(highlight=False, quiet=quiet)
        self.err = Console(stderr=True, highlight=False)
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start

    def done(self, name: str, note: str) -> None:
        if not note:
            return  # a step with nothing to do in this build (no --static, say)
        seconds = self.timings.get(name, 0.0)
        self.out.print(f"[green]✓[/] {name:<13} {seconds:7.2f}s  [dim]{note}[/]")

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]wasmship: {message}[/]", soft_wrap=True)  # one line, greppable

    def summary(self, manifest: dict[str, Any], dist: str) -> None:
        """The table of files: raw size, br, gzip (and zstd, dcz delta) sizes with ratios."""
        entries = sorted((e for _, e in unique_files(manifest)), key=lambda e: -e["size"])
        columns = ["br", "gzip"] + [
            name for name in ("zstd", "dcz") if any(_variant(e, name) for e in entries)
        ]
        table = Table(title=None, show_edge=False, pad_edge=False)
        table.add_column("file")
        table.add_column("size", justify="right")
        for encoding in columns:
            table.add_column(encoding, justify="right")
            table.add_column("ratio", justify="right")
        for entry in entries:
            row = [entry["path"], human_size(entry["size"])]
            for encoding in columns:
                variant = _variant(entry, encoding)
                if variant:
                    ratio = variant["size"] / entry["size"]
                    row += [
                        human_size(variant["size"]),
                        f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}",
                    ]
                else:
                    row += ["-", "-"]
            table.add_row(*row)
        self.out.print(table)
        self.out.print(f"[bold]dist ready:[/] {dist}")


def _variant(entry: dict[str, Any], encoding: str) -> dict[str, Any] | None:
    """ENTRY's variant for ENCODING; for dcz, the smallest delta of any dictionary."""
    variants: dict[str, dict[str, Any]] = entry.get("encodings", {})
    if encoding != "dcz":
        return variants.get(encoding)
    deltas = [v for v in variants.values() if v.get("coding") == "dcz"]
    return min(deltas, key=lambda v: int(v["size"]), default=None)
