"""Human output of a build: a line per step with its time, then a table of files and sizes."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from wasmship.builder.budgets import BudgetResult
from wasmship.builder.pipeline import SilentReporter
from wasmship.cli.console import make_console
from wasmship.distformat.model import FileEntry, Manifest, Variant
from wasmship.units import human_size

if TYPE_CHECKING:
    from rich.console import Console


class ConsoleReporter(SilentReporter):
    """Prints each finished step with its time; quiet prints nothing but warnings."""

    def __init__(self, *, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet

    # The consoles are made on first use: a quiet build that has nothing to say never loads rich.
    @cached_property
    def out(self) -> Console:
        return make_console(quiet=self.quiet)

    @cached_property
    def err(self) -> Console:
        return make_console(stderr=True)

    def done(self, name: str, note: str) -> None:
        if not note or self.quiet:
            return  # a step with nothing to do in this build (no --static, say)
        seconds = self.timings.get(name, 0.0)
        self.out.print(f"[green]✓[/] {name:<13} {seconds:7.2f}s  [dim]{_text(note)}[/]")

    def warn(self, message: str) -> None:
        # One line, greppable; the message is data (file names, `[csp]`), never markup.
        self.err.print(f"[yellow]wasmship: {_text(message)}[/]", soft_wrap=True)

    def summary(self, manifest: Manifest, dist: str) -> None:
        """The table of files: raw size, br, gzip (and zstd, dcz delta) sizes with ratios."""
        entries = sorted(manifest.current_files(), key=lambda e: -e.size)
        columns = ["br", "gzip"] + [
            name for name in ("zstd", "dcz") if any(_variant(e, name) for e in entries)
        ]
        from rich.table import Table

        table = Table(title=None, show_edge=False, pad_edge=False)
        table.add_column("file")
        table.add_column("size", justify="right")
        for encoding in columns:
            table.add_column(encoding, justify="right")
            table.add_column("ratio", justify="right")
        for entry in entries:
            row = [_text(entry.path), human_size(entry.size)]
            for encoding in columns:
                variant = _variant(entry, encoding)
                if variant:
                    ratio = variant.size / entry.size
                    row += [
                        human_size(variant.size),
                        f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}",
                    ]
                else:
                    row += ["-", "-"]
            table.add_row(*row)
        self.out.print(table)
        self.out.print(f"[bold]dist ready:[/] {_text(dist)}")

    def budgets(self, results: list[BudgetResult]) -> None:
        """A line per budget, passing or not (exceeded ones fail the build after this)."""
        for result in results:
            self.out.print(budget_line(result), soft_wrap=True)


def _text(data: str) -> str:
    """DATA shown as it is: rich reads `[...]` as markup and would drop `[csp]`."""
    from rich.markup import escape

    return escape(data)


def budget_line(result: BudgetResult) -> str:
    """`budget main.br: 550.6 KiB of 2.0 MiB (27 %), ok`."""
    label, limit = result.budget.label, human_size(result.budget.limit)
    if result.size is None:
        return f"budget {label}: no such variant in this build (limit {limit})"
    share = f"{result.size / result.budget.limit:.0%}" if result.budget.limit else "-"
    verdict = "[red]over[/]" if result.exceeded else "[green]ok[/]"
    return f"budget {label}: {human_size(result.size)} of {limit} ({share}), {verdict}"


def _variant(entry: FileEntry, encoding: str) -> Variant | None:
    """ENTRY's variant for ENCODING; for dcz, the smallest delta of any dictionary."""
    if encoding != "dcz":
        return entry.encodings.get(encoding)
    return min(entry.deltas, key=lambda v: v.size, default=None)
