"""`wasmship size`: which Go packages a dist's module bytes come from, and what grew."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wasmship.cli.options import (
    debug_option,
    deprecated,
    echo_json,
    go_option,
    json_option,
    quiet_option,
)

if TYPE_CHECKING:
    from wasmship.builder.config import TargetSpec
    from wasmship.distformat.model import TargetEntry
    from wasmship.size import SizeReport
    from wasmship.size.source import Source


@click.command()
@click.argument("dist_or_package", metavar="[DIST] [PACKAGE]", nargs=-1)
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=None, hidden=True)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Measure this target's module, js or wasip1 [default: every js target, else every "
    "wasip1 one]; may repeat.",
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
    "--treemap",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the report to FILE: one self-contained HTML page (a zoomable treemap).",
)
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path), hidden=True)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where size data is kept for diffs [default: the compression cache's folder].",
)
@quiet_option("Print nothing (with --treemap: write the file only).")
@json_option
@debug_option
def size(
    dist_or_package: tuple[str, ...],
    out: Path | None,
    targets: tuple[str, ...],
    config: Path | None,
    go: str | None,
    top: int,
    treemap: Path | None,
    html: Path | None,
    cache_dir: Path | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Attribute the module of DIST to Go packages (code, data, brotli estimate) and diff it
    against the build before.

    DIST is the dist to measure (default: the build's, from wasmship.toml, else ./dist).
    PACKAGE is the main package the module was built from (default: the one the manifest
    records), and picks the target built from it; it is built again with names kept, so run
    this where you build. One argument that is not a folder holding manifest.json is PACKAGE.
    """
    from wasmship.builder.steps.compile import run_dir_for
    from wasmship.cli.console import make_console
    from wasmship.distformat.reader import read_manifest
    from wasmship.errors import UsageError
    from wasmship.settings import resolve_build
    from wasmship.size import choose_targets, measure, targets_of_package
    from wasmship.size.source import SourceError, import_path_of
    from wasmship.toolchain.locate import locate_go

    dist, package = _positionals(dist_or_package, out, quiet)
    treemap = _treemap(treemap, html, quiet)
    cwd = Path.cwd()
    # The build's settings say where its dist, its Go and its cache are; the flags override.
    overrides = {"out": dist, "go": go, "cache_dir": cache_dir, "config": config}
    project = resolve_build(cwd, overrides).config
    root = project.workdir
    folder = root / project.out  # `out` given here is already from the working directory
    _check_dist(folder)
    manifest = read_manifest(folder)
    chosen = choose_targets(manifest, targets, folder)
    binary = locate_go(project.go, os.environ)
    if package:
        run_dir, pattern = run_dir_for(cwd, package)
        # Under each goos the dist has, js first: a wasip1 package may build only for wasip1.
        found_path = None
        for goos in dict.fromkeys(sorted((t.goos for t in manifest.targets), key="js".__ne__)):
            found_path = found_path or import_path_of(binary, pattern, run_dir, os.environ, goos)
        chosen = targets_of_package(manifest, chosen, bool(targets), package, found_path, folder)
    if as_json and len(chosen) > 1:
        raise UsageError(
            "--json reports one module: name it with --target "
            f"(targets: {', '.join(t.name for t in chosen)})"
        )
    if package and len(chosen) > 1:
        raise UsageError("PACKAGE is the program of one module: name its target with --target")
    store = project.cache_root
    specs = {spec.name: spec for spec in project.targets}
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
    if treemap is not None:
        _write_html(treemap, folder, reports)
    if as_json:
        echo_json(reports[0].to_json())
    elif not quiet:
        from wasmship.cli.size_table import render_report

        console = make_console()
        for report in reports:
            render_report(console, report, top)
        if treemap is not None:
            console.print(f"report: {treemap}")


def _positionals(
    given: tuple[str, ...], out: Path | None, quiet: bool
) -> tuple[Path | None, str | None]:
    """DIST and PACKAGE from `[DIST] [PACKAGE]` and the deprecated -o/--out: one argument is
    DIST when it is a folder holding manifest.json, else PACKAGE (as before DIST was one)."""
    from wasmship.distformat.names import MANIFEST
    from wasmship.errors import UsageError

    if len(given) > 2:
        raise click.UsageError(f"at most DIST and PACKAGE, got {len(given)} arguments")
    dist: str | None = None
    package: str | None = None
    if len(given) == 2:
        dist, package = given
    elif given:
        one = given[0]
        dist, package = (one, None) if (Path(one) / MANIFEST).is_file() else (None, one)
    if out is not None:
        if not quiet:
            deprecated("size -o/--out DIST", "wasmship size DIST")
        if dist is not None:
            raise UsageError(f"the dist is named twice: {dist} and -o {out}; give it once")
        return out, package
    return (Path(dist) if dist is not None else None), package


def _treemap(treemap: Path | None, html: Path | None, quiet: bool) -> Path | None:
    """--treemap FILE, or the deprecated --html FILE it replaces."""
    from wasmship.errors import UsageError

    if html is None:
        return treemap
    if not quiet:
        deprecated("size --html FILE", "--treemap FILE")
    if treemap is not None:
        raise UsageError("--html is the old name of --treemap: give only --treemap")
    return html


def _check_dist(folder: Path) -> None:
    from wasmship.distformat.reader import require_dist_folder
    from wasmship.errors import DistError

    if not folder.exists():
        raise DistError(
            f"{folder} does not exist: run `wasmship build` first, or name the dist: "
            "`wasmship size DIST`"
        )
    require_dist_folder(folder, "`wasmship build` wrote (`wasmship size DIST`)")


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
