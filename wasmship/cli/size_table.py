"""`wasmship size`'s table: the top packages with a bar, what is unattributed, the diff."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from wasmship.size import SizeReport


def render_report(console: Console, report: SizeReport, top: int) -> None:
    """The top packages as a table with a bar, what is unattributed, and the diff."""
    from rich.table import Table

    from wasmship.units import human_size

    module = report.size
    br = f", br {human_size(module.br)}" if module.br is not None else ""
    console.print(
        f"[bold]{module.module}[/] ({module.path}): {human_size(module.total)}{br}; "
        f"{module.coverage:.1%} attributed to {len(module.packages)} packages",
        soft_wrap=True,
    )
    table = Table(show_edge=False, pad_edge=False)
    for name in ("package", "code", "data", "total", "share", "br est."):
        table.add_column(name, justify="left" if name == "package" else "right")
    table.add_column("", justify="left")
    largest = max((p.total for p in module.packages), default=1) or 1
    for package in module.packages[:top]:
        table.add_row(
            package.name,
            human_size(package.code),
            human_size(package.data),
            human_size(package.total),
            f"{package.total / module.total:.1%}",
            human_size(package.br_estimate),
            _bar(package.total / largest),
        )
    hidden = module.packages[top:]
    if hidden:
        rest = sum(p.total for p in hidden)
        table.add_row(
            f"[dim]{len(hidden)} more packages[/]",
            "",
            "",
            human_size(rest),
            f"{rest / module.total:.1%}",
            human_size(sum(p.br_estimate for p in hidden)),
            "",
        )
    unattributed = sum(module.unattributed.values())
    parts = ", ".join(f"{k} {human_size(v)}" for k, v in sorted(module.unattributed.items()))
    table.add_row(
        "[dim]unattributed[/]",
        "",
        "",
        human_size(unattributed),
        f"{unattributed / module.total:.1%}",
        human_size(module.unattributed_br),
        "",
    )
    console.print(table)
    if parts:
        console.print(f"[dim]unattributed: {parts}[/]", soft_wrap=True)
    if report.diff is not None:
        console.print(f"since {report.diff.before}: {report.diff.line()}", soft_wrap=True)
    elif report.note:
        console.print(f"[dim]{report.note}[/]", soft_wrap=True)


def _bar(share: float, width: int = 20) -> str:
    """A bar of WIDTH cells, SHARE of it filled (eighths of a cell at the end)."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
