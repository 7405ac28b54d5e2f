"""`wasmship size`: which Go packages a dist's module bytes come from, and what grew."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wasmship.cli.options import debug_option, echo_json, go_option, json_option, quiet_option

if TYPE_CHECKING:
    from rich.console import Console

    from wasmship.builder.config import TargetSpec
    from wasmship.cli.configfile import FileConfig
    from wasmship.distformat.model import TargetEntry
    from wasmship.size import SizeReport
    from wasmship.size.source import Source


@click.command()
@click.argument("package", required=False)
@click.option(
    "-o",
    "--out",
    "dist",
    type=click.Path(path_type=Path),
    default=None,
    help="The dist to measure [default: the build's, from wasmship.toml, else dist].",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Measure this target's module [default: every js target]; may repeat.",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The wasmship.toml to read [default: found upward from here].",
)
@go_option
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    metavar="N",
    help="Packages listed in the terminal.",
)
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as one self-contained HTML file (a zoomable treemap).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where size data is kept for diffs [default: the compression cache's folder].",
)
@quiet_option("Print nothing (with --html: write the file only).")
@json_option
@debug_option
def size(
    package: str | None,
    dist: Path | None,
    targets: tuple[str, ...],
    config: Path | None,
    go: str | None,
    top: int,
    html: Path | None,
    cache_dir: Path | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Attribute the dist's module to Go packages (code, data, brotli estimate) and diff it
    against the build before.

    PACKAGE is the main package the module was built from (default: the one the manifest
    records); it is built again with names kept, so run this where you build.
    """
    from wasmship.builder.toolchain import locate_go
    from wasmship.cachedir import cache_root
    from wasmship.cli.console import make_console
    from wasmship.distformat.reader import read_manifest
    from wasmship.errors import UsageError
    from wasmship.size import choose_targets, measure
    from wasmship.size.source import SourceError

    cwd = Path.cwd()
    file = _config_file(config, cwd)
    root = file.root if file else cwd
    folder = cwd / dist if dist is not None else root / _configured_out(file)
    _check_dist(folder)
    manifest = read_manifest(folder)
    chosen = choose_targets(manifest, targets, folder)
    if as_json and len(chosen) > 1:
        raise UsageError(
            "--json reports one module: name it with --target "
            f"(js targets: {', '.join(t.name for t in chosen)})"
        )
    if package and len(chosen) > 1:
        raise UsageError("PACKAGE is the program of one module: name its target with --target")
    binary = locate_go(go, os.environ)
    store = cache_root(os.environ, cache_dir)
    specs = {spec.name: spec for spec in (file.targets if file else ())}
    reports = []
    for target in chosen:
        source = _source(target, package, cwd, root, specs)
        try:
            found = measure(
                folder, manifest, target, source, go=binary, environ=os.environ, cache_dir=store
            )
        except SourceError as exc:
            if package:
                raise
            raise SourceError(
                f"{exc}\n(built {source.package} in {source.run_dir}, as the manifest says; if "
                "the module comes from elsewhere, name its main package: `wasmship size ./cmd/app`)"
            ) from exc
        reports.append(found)
    if html is not None:
        _write_html(html, folder, reports)
    if as_json:
        echo_json(reports[0].to_json())
    elif not quiet:
        console = make_console()
        for report in reports:
            render_report(console, report, top)
        if html is not None:
            console.print(f"report: {html}")


def _config_file(explicit: Path | None, cwd: Path) -> FileConfig | None:
    from wasmship.cli.build import build
    from wasmship.cli.configfile import find_config, load_config

    path = explicit.resolve() if explicit else find_config(cwd)
    return load_config(path, build) if path is not None else None


def _configured_out(file: FileConfig | None) -> Path:
    out = file.options.get("out") if file is not None else None
    return Path(out) if out else Path("dist")


def _check_dist(folder: Path) -> None:
    from wasmship.errors import UsageError

    if folder.is_file():
        raise UsageError(
            f"{folder} is a file, not a dist folder: give the folder `wasmship build` wrote "
            "(-o/--out), which holds manifest.json and the module"
        )
    if not folder.exists():
        raise UsageError(
            f"{folder} does not exist: run `wasmship build` first, or name the dist with -o"
        )


def _source(
    target: TargetEntry,
    package: str | None,
    cwd: Path,
    root: Path,
    specs: Mapping[str, TargetSpec],
) -> Source:
    """Where and how TARGET's module was built: PACKAGE if given, else its [[target]] table,
    else the import path the manifest records, built from the project's folder."""
    from wasmship.builder.config import BuildConfig
    from wasmship.builder.steps.compile import run_dir_for, target_run_dir
    from wasmship.size.source import source_of_entry

    spec = specs.get(target.name)
    if package:
        run_dir, pattern = run_dir_for(cwd, package)
    elif spec is not None:
        config = BuildConfig(workdir=root, targets=tuple(specs.values()))
        run_dir, pattern = target_run_dir(config, spec)
    else:
        run_dir, pattern = run_dir_for(root, target.package)
    return source_of_entry(target, run_dir, pattern, spec.env if spec else ())


def _write_html(path: Path, dist: Path, reports: list[SizeReport]) -> None:
    from wasmship.cli.console import make_console
    from wasmship.size.html import render_html

    if path.resolve().is_relative_to(dist.resolve()):
        make_console(stderr=True).print(
            f"[yellow]wasmship: {path} is inside the dist: it would be deployed with it, and "
            "`verify --strict` reports it[/]",
            soft_wrap=True,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(reports), encoding="utf-8")


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
