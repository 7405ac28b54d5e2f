"""`wasmship build`: flags as overrides of the resolved settings (wasmship.settings); then the
pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from wasmship.builder.budgets import BudgetResult
    from wasmship.builder.config import BuildConfig
    from wasmship.builder.pipeline import BuildResult
    from wasmship.cli.build_report import ConsoleReporter

from wasmship.cli.options import (
    debug_option,
    echo_json,
    go_option,
    json_option,
    lock_timeout_option,
    quiet_option,
)


class _BuildCommand(click.Command):
    """Keeps what follows `--` for go build."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["go_flags"] = tuple(args[cut + 1 :])
            args = args[:cut]
        return super().parse_args(ctx, args)


def overrides_of(ctx: click.Context) -> dict[str, Any]:
    """The settings given as flags on this command line: a flag left at its default is not
    one, so it does not hide wasmship.toml or WASMSHIP_*."""
    from click.core import ParameterSource

    from wasmship.settings.keys import KEYS_BY_NAME

    return {
        name: value
        for name, value in ctx.params.items()
        if name in KEYS_BY_NAME and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }


@click.command(cls=_BuildCommand)
@click.argument("package", default=".", required=False)
@click.option(
    "-o",
    "--out",
    default="dist",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The dist folder to write (swapped in atomically).",
)
@go_option
@click.option("--tags", multiple=True, metavar="TAGS", help="Build tags, comma-separated.")
@click.option("--ldflags", default="", metavar="FLAGS", help="Appended to -ldflags.")
@click.option("--debug-symbols", is_flag=True, help="Keep symbols and DWARF (no -s -w).")
@click.option("--no-hash", is_flag=True, help="Keep plain file names (main.wasm).")
@click.option(
    "--html",
    "html",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An HTML template for index.html.",
)
@click.option(
    "--static",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your own web folder: copied in, references to main.wasm etc. rewritten to hashed names.",
)
@click.option(
    "--static-exclude",
    multiple=True,
    metavar="GLOBS",
    help="Also leave these out of --static (e.g. '*.psd,drafts/'); may repeat.",
)
@click.option(
    "--static-include",
    multiple=True,
    metavar="GLOBS",
    help="Copy these from --static even when a rule leaves them out; may repeat.",
)
@click.option(
    "--keep-names",
    multiple=True,
    metavar="GLOBS",
    help="Files of --static never given a hashed name (e.g. 'press/*.png'); may repeat.",
)
@click.option(
    "--routes",
    multiple=True,
    metavar="PATHS",
    help="Paths (or globs, e.g. 'api/*') a service worker answers, not files; may repeat.",
)
@click.option(
    "--force", is_flag=True, help="Replace a non-empty folder that wasmship did not write."
)
@lock_timeout_option
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    default=None,
    help="Parallel compile and compression jobs [default: CPU count].",
)
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    metavar="N",
    help="Keep the hashed files of the last N builds for open tabs and as delta bases (0: none).",
)
@click.option(
    "--target",
    "only",
    multiple=True,
    metavar="NAME",
    help="Build only this [[target]] of wasmship.toml; may repeat.",
)
@click.option(
    "--budget",
    "budget",
    multiple=True,
    metavar="TARGET:ENC=SIZE",
    help="Fail when a module exceeds a size, e.g. main:br=2MiB; may repeat.",
)
@click.option(
    "--size-report",
    is_flag=True,
    help="Attribute each module to Go packages (see `wasmship size`): in --json, and the diff "
    "when a module grew past --size-threshold.",
)
@click.option(
    "--size-threshold",
    default="1KiB",
    show_default=True,
    metavar="SIZE",
    help="With --size-report: print the size diff when a module grew by more than this.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The wasmship.toml to read [default: found upward from here].",
)
@click.option(
    "--server-config",
    "server_configs",
    multiple=True,
    metavar="NAMES",
    help="Also write server configs: nginx, caddy, netlify, apache (comma-separated).",
)
@click.option(
    "--profile",
    type=click.Choice(["release", "fast"]),
    default="release",
    show_default=True,
    help="release: smallest files; fast: cheap settings for local iteration.",
)
@click.option(
    "--gzip",
    "gzip_encoder",
    type=click.Choice(["zlib", "zopfli"]),
    default="zlib",
    show_default=True,
    help="The gzip encoder; zopfli is smaller and slower (pip install 'wasmship[zopfli]').",
)
@click.option("--zstd", is_flag=True, help="Also write .zst variants (zstd, RFC 8878).")
@click.option(
    "--hosting",
    type=click.Choice(["negotiate", "static"]),
    default="negotiate",
    show_default=True,
    help="static: for hosts that never send Content-Encoding (GitHub Pages, S3): the loader "
    "fetches the module's .gz and decodes it in the browser.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="A service worker (sw.js) caches the page's files, so the app runs offline; built "
    "without it after a build with it, sw.js unregisters itself (docs/offline.md).",
)
@click.option(
    "--spa",
    is_flag=True,
    help="A single-page app: a path the dist lacks whose last segment has no dot "
    "(/settings/profile) gets index.html, in serve, dev, the Go handler and the server configs.",
)
@click.option(
    "--csp-off",
    is_flag=True,
    help="Write no Content-Security-Policy: for a Go program that evaluates strings as code "
    "(eval, new Function), which the dist's strict policy blocks.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="wasmship's cache folder [default: WASMSHIP_CACHE_DIR, else the user cache folder].",
)
@click.option(
    "--no-cache", is_flag=True, help="Compress everything again; read and write no cache."
)
@click.option(
    "--cache-url",
    default="",
    metavar="URL",
    help="A shared compression cache on an HTTP server that stores what is PUT (WebDAV); "
    "token in WASMSHIP_CACHE_TOKEN (docs/ci.md).",
)
@click.option(
    "--cache-max-size",
    default="1GiB",
    show_default=True,
    metavar="SIZE",
    help="Bound of the whole cache folder; least recently used entries go first.",
)
@quiet_option()
@json_option
@debug_option
@click.pass_context
def build(ctx: click.Context, /, **options: Any) -> None:
    """Build PACKAGE (default .) into a deployable dist folder.

    Flags after `--` go to `go build` unchanged. Settings may also come from wasmship.toml
    and WASMSHIP_* environment variables; flags win.
    """
    from wasmship.builder.budgets import exceeded_message
    from wasmship.builder.pipeline import build as run_build
    from wasmship.cli.github import append_step_summary, size_markdown, summary_markdown
    from wasmship.encodings.encoders import encoders
    from wasmship.errors import BudgetExceeded
    from wasmship.settings import resolve_build

    settings = resolve_build(Path.cwd(), overrides_of(ctx), go_flags=ctx.meta.get("go_flags", ()))
    config = settings.config
    encoders(config.profile, config.gzip, config.zstd)  # a missing extra fails before go build
    quiet, as_json = settings.quiet, options["as_json"]
    reporter = _reporter(quiet=quiet or as_json)
    result = run_build(config, reporter)
    budgets = [b.as_json() for b in result.budgets]
    sizes = _size_reports(config, result) if settings.size_report else {}
    if as_json:
        document: dict[str, Any] = {
            "dist": str(result.dist),
            "manifest": result.manifest.to_json(),
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
            "budgets": budgets,
            **({"size": {k: r.to_json() for k, r in sizes.items()}} if sizes else {}),
            "up_to_date": result.up_to_date,
        }
        echo_json(document)
    elif not quiet:
        reporter.summary(result.manifest, str(result.dist))
        reporter.budgets(result.budgets)
        for report in sizes.values():
            if report.diff is not None and report.diff.grew(settings.size_threshold):
                click.echo(f"size: {report.diff.line()}")
    append_step_summary(os.environ, summary_markdown(result.manifest, budgets))
    if sizes:
        append_step_summary(os.environ, size_markdown(list(sizes.values())))
    over = [b for b in result.budgets if b.exceeded]
    if over:
        raise BudgetExceeded(exceeded_message(over, _growth(config, result, over, sizes)))


def _reporter(*, quiet: bool) -> ConsoleReporter:
    """The build's reporter: with a live display on a terminal, else step lines only (and then
    rich is loaded only if there is something to print)."""
    from wasmship.cli.build_report import ConsoleReporter
    from wasmship.cli.console import wants_live_display

    if wants_live_display(quiet):
        from wasmship.cli.live_progress import LiveReporter

        return LiveReporter()
    return ConsoleReporter(quiet=quiet)


def _size_reports(config: BuildConfig, result: BuildResult) -> Any:
    """With --size-report: each built js module attributed to packages, and diffed."""
    from wasmship.size.after_build import size_reports

    return size_reports(config, result.manifest, result.dist)


def _growth(
    config: BuildConfig, result: BuildResult, over: list[BudgetResult], sizes: dict[str, Any]
) -> dict[str, str]:
    """For each exceeded budget's target: which packages grew since the build before."""
    import contextlib

    from wasmship.errors import WasmshipError
    from wasmship.size.after_build import growth_lines

    known = {name: r.diff.line() if r.diff else r.note for name, r in sizes.items()}
    missing = [b.budget.target for b in over if b.budget.target not in known]
    # The budget failure stands on its own: a failed attribution only leaves the reason out.
    with contextlib.suppress(WasmshipError):
        known.update(growth_lines(config, result.manifest, result.dist, missing) if missing else {})
    return known
