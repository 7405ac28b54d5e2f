"""The command line: parse options, call the library, render the result. Nothing else."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from wasmship import __version__
from wasmship.errors import WasmshipError

_DEBUG_ENV = "WASMSHIP_DEBUG"
MANIFEST_NAME = "manifest.json"


class _PassThroughCommand(click.Command):
    """Keeps everything after `--` for `go build` instead of letting click take it as PACKAGE."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["go_flags"] = tuple(args[cut + 1 :])
            args = args[:cut]
        return super().parse_args(ctx, args)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        os.environ[_DEBUG_ENV] = "1"
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show a traceback for failures.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wasmship")
@debug_option
def cli() -> None:
    """Build and package Go WebAssembly for production."""


@cli.command(cls=_PassThroughCommand)
@click.argument("package", default=".", required=False)
@click.option(
    "-o",
    "--out",
    default="dist",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The dist folder to write (swapped in atomically).",
)
@click.option("--go", "go", metavar="PATH", help="The go binary (else WASMSHIP_GO, else PATH).")
@click.option("--tags", multiple=True, metavar="TAGS", help="Build tags, comma-separated.")
@click.option("--ldflags", default="", metavar="FLAGS", help="Appended to -ldflags.")
@click.option("--debug-symbols", is_flag=True, help="Keep symbols and DWARF (no -s -w).")
@click.option("--no-hash", is_flag=True, help="Keep plain file names (main.wasm).")
@click.option(
    "--html",
    "html_template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An HTML template for index.html.",
)
@click.option(
    "--force", is_flag=True, help="Replace a non-empty folder that wasmship did not write."
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds to wait for another build on the same dist.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel compression jobs [default: CPU count].",
)
@click.option(
    "--server-config",
    "server_configs",
    multiple=True,
    metavar="NAMES",
    help="Also write server configs: nginx, caddy, netlify, apache (comma-separated).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@debug_option
@click.pass_context
def build(
    ctx: click.Context,
    package: str,
    out: Path,
    go: str | None,
    tags: tuple[str, ...],
    ldflags: str,
    debug_symbols: bool,
    no_hash: bool,
    html_template: Path | None,
    force: bool,
    lock_timeout: float,
    jobs: int | None,
    server_configs: tuple[str, ...],
    quiet: bool,
    as_json: bool,
) -> None:
    """Build PACKAGE (default .) into a deployable dist folder.

    Flags after `--` go to `go build` unchanged.
    """
    from wasmship.config import BuildConfig
    from wasmship.pipeline import build as run_build
    from wasmship.report import ConsoleReporter
    from wasmship.steps.server_config import parse_server_configs

    config = BuildConfig(
        package=package,
        out=out,
        go=go,
        tags=tuple(t for group in tags for t in group.split(",") if t),
        ldflags=ldflags,
        go_flags=ctx.meta.get("go_flags", ()),
        debug_symbols=debug_symbols,
        hash_names=not no_hash,
        html_template=html_template.resolve() if html_template else None,
        force=force,
        lock_timeout=lock_timeout,
        server_configs=parse_server_configs(server_configs),
        jobs=jobs or os.cpu_count() or 1,
    )
    reporter = ConsoleReporter(quiet=quiet or as_json)
    result = run_build(config, reporter)
    if as_json:
        document: dict[str, Any] = {
            "dist": str(result.dist),
            "manifest": result.manifest,
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif not quiet:
        reporter.summary(result.manifest, str(result.dist))


@cli.command()
@click.argument("dist", type=click.Path(path_type=Path))
@click.option(
    "--strict", is_flag=True, help="Files the manifest does not know are errors, not warnings."
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when the dist is clean.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@debug_option
def verify(dist: Path, strict: bool, quiet: bool, as_json: bool) -> None:
    """Check DIST against its manifest.json before a deploy; report every problem.

    Exit 0 when clean (warnings allowed), 1 with problems, 2 on usage errors.
    """
    from wasmship.errors import VerifyFailed
    from wasmship.verify import verify_dist

    result = verify_dist(dist, strict=strict)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        for problem in result.problems:
            click.echo(problem.line())
        if result.ok and not quiet:
            count = len(result.warnings)
            warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
            click.echo(f"{dist}: {len(result.checked)} files match {MANIFEST_NAME}{warned}")
    if not result.ok:
        raise VerifyFailed(str(dist), len(result.errors))


def _fail(message: str, code: int) -> NoReturn:
    if os.environ.get(_DEBUG_ENV):
        traceback.print_exc()
    click.echo(f"wasmship: error: {message}", err=True)
    sys.exit(code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> None:
    """Entry point: the one place that turns failures into messages and exit codes."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        cli.main(standalone_mode=False, prog_name="wasmship")
    except WasmshipError as exc:
        _fail(str(exc), exc.exit_code)
    except click.exceptions.Abort:
        _fail("interrupted; the previous dist is untouched", 130)
    except KeyboardInterrupt:
        _fail("interrupted; the previous dist is untouched", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(0)


@cli.command()
@click.argument("dist", default="dist", type=click.Path(path_type=Path))
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=600.0, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@debug_option
def clean(dist: Path, lock_timeout: float, quiet: bool) -> None:
    """Remove DIST (only if wasmship wrote it) and stale staging folders beside it."""
    from wasmship.clean import clean as run_clean

    result = run_clean(dist, lock_timeout=lock_timeout)
    if not quiet:
        for path in result.removed:
            click.echo(f"removed {path}")
        if not result.removed:
            click.echo(f"nothing to clean at {dist}")


@cli.command()
@click.argument("dist", default="dist", type=click.Path(path_type=Path))
@click.option("--go", "go", metavar="PATH", help="The go binary (else WASMSHIP_GO, else PATH).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds each module may run.",
)
@debug_option
def smoke(dist: Path, go: str | None, timeout: float) -> None:
    """Run each module of DIST under Node.js; exit 1 if one traps or exits non-zero."""
    from wasmship.errors import WasmshipError
    from wasmship.smoke import smoke as run_smoke
    from wasmship.steps.toolchain import locate_go

    runs = run_smoke(dist, locate_go(go, os.environ), os.environ, timeout=timeout)
    failed = [run for run in runs if not run.ok]
    for run in runs:
        click.echo(run.stdout, nl=False)
        click.echo(run.stderr, nl=False, err=True)
        verdict = "ok" if run.ok else ("timed out" if run.timed_out else f"exit {run.returncode}")
        click.echo(f"smoke {run.target}: {verdict}", err=True)
    if failed:
        names = ", ".join(run.target for run in failed)
        raise WasmshipError(f"smoke failed for {names}")
