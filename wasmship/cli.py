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

from wasmship.errors import WasmshipError

_DEBUG_ENV = "WASMSHIP_DEBUG"


class _BuildCommand(click.Command):
    """Reads wasmship.toml into click's default_map, and keeps what follows `--` for go build.

    click's own precedence then gives defaults < file < environment (WASMSHIP_*) < flags.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["go_flags"] = tuple(args[cut + 1 :])
            args = args[:cut]
        if not any(a in ("-h", "--help") for a in args):
            from wasmship.configfile import config_defaults, find_config, load_config

            explicit = _prescan(args, "--config") or os.environ.get("WASMSHIP_CONFIG")
            path = Path(explicit).resolve() if explicit else find_config(Path.cwd())
            if path is not None:
                file = load_config(path, self)
                ctx.meta["config_file"] = file
                ctx.default_map = {**(ctx.default_map or {}), **config_defaults(file, self)}
        return super().parse_args(ctx, args)


def _prescan(args: list[str], flag: str) -> str | None:
    """The value of FLAG in ARGS before click parses them (the file decides the defaults)."""
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _with_envvars(command: click.Command) -> click.Command:
    """Every build option can also come from WASMSHIP_<FLAG> (e.g. WASMSHIP_LOCK_TIMEOUT)."""
    per_run = {"config", "as_json", "quiet", "debug"}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in per_run or param.envvar:
            continue
        flag = max(param.opts, key=len).lstrip("-")
        param.envvar = "WASMSHIP_" + flag.upper().replace("-", "_")
    return command


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


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from wasmship import __version__

    click.echo(f"wasmship, version {__version__}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@debug_option
def cli() -> None:
    """Build and package Go WebAssembly for production."""


@cli.command(cls=_BuildCommand)
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
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
@click.option(
    "--zstd", is_flag=True, help="Also write .zst variants (pip install 'wasmship[zstd]')."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The compression cache [default: WASMSHIP_CACHE_DIR, else the user cache folder].",
)
@click.option(
    "--no-cache", is_flag=True, help="Compress everything again; read and write no cache."
)
@click.option(
    "--cache-max-size",
    default="1GiB",
    show_default=True,
    metavar="SIZE",
    help="Bound of the cache; least recently used entries go first.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@debug_option
@click.pass_context
def build(ctx: click.Context, /, **options: Any) -> None:
    """Build PACKAGE (default .) into a deployable dist folder.

    Flags after `--` go to `go build` unchanged. Settings may also come from wasmship.toml
    and WASMSHIP_* environment variables; flags win.
    """
    from wasmship.budget import exceeded_message
    from wasmship.codecs import encoders
    from wasmship.configfile import build_config
    from wasmship.errors import BudgetExceeded
    from wasmship.github import append_step_summary, summary_markdown
    from wasmship.pipeline import build as run_build
    from wasmship.report import ConsoleReporter

    config = build_config(ctx, options, ctx.meta.get("config_file"))
    encoders(config.profile, config.gzip, config.zstd)  # a missing extra fails before go build
    quiet, as_json = options["quiet"], options["as_json"]
    reporter = ConsoleReporter(quiet=quiet or as_json)
    result = run_build(config, reporter)
    budgets = [b.as_json() for b in result.budgets]
    if as_json:
        document: dict[str, Any] = {
            "dist": str(result.dist),
            "manifest": result.manifest,
            "timings": {k: round(v, 4) for k, v in result.timings.items()},
            "budgets": budgets,
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif not quiet:
        reporter.summary(result.manifest, str(result.dist))
    append_step_summary(os.environ, summary_markdown(result.manifest, budgets))
    over = [b for b in result.budgets if b.exceeded]
    if over:
        raise BudgetExceeded(exceeded_message(over))


_with_envvars(build)


@cli.command()
@click.argument("dist", type=click.Path(path_type=Path), default="dist", required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="The port to listen on (0 picks a free one).",
)
@click.option("-q", "--quiet", is_flag=True, help="No access log on stderr.")
@debug_option
def serve(dist: Path, host: str, port: int, quiet: bool) -> None:
    """Serve DIST (default ./dist) locally, with production headers.

    Prints the URL as the first line on stdout; Ctrl-C stops it.
    """
    from wasmship.serve import ServeConfig, is_loopback
    from wasmship.serve import serve as run_serve

    def announce(url: str) -> None:
        click.echo(url)
        sys.stdout.flush()
        click.echo(f"wasmship: serving {dist} at {url} (Ctrl-C to stop)", err=True)
        if not is_loopback(host):
            click.echo(f"wasmship: warning: {host} is reachable from other machines", err=True)

    def log(line: str) -> None:
        click.echo(line, err=True)

    run_serve(ServeConfig(dist=dist, host=host, port=port, quiet=quiet), announce, log)
    click.echo("wasmship: stopped", err=True)


@cli.command()
@click.argument("url")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a connection or for data.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@debug_option
def check(url: str, timeout: float, as_json: bool) -> None:
    """Check a deployed dist at URL: types, encodings, bytes, caching headers.

    Exit 1 if anything is wrong, naming the file, the header, what was expected and what came
    back.
    """
    from rich.console import Console

    from wasmship.check import check_site
    from wasmship.check_report import show
    from wasmship.errors import CheckError

    try:
        report = check_site(url, timeout=timeout)
    except CheckError as exc:
        if as_json:
            click.echo(json.dumps({"url": url, "ok": False, "error": str(exc)}, indent=2))
        raise
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        show(report, Console(highlight=False))
    if report.failures:
        raise CheckError(f"{len(report.failures)} checks failed at {url}")


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
    from wasmship.steps.manifest import MANIFEST
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
            click.echo(f"{dist}: {len(result.checked)} files match {MANIFEST}{warned}")
    if not result.ok:
        raise VerifyFailed(str(dist), len(result.errors))


def _fail(message: str, code: int) -> NoReturn:
    if os.environ.get(_DEBUG_ENV):
        traceback.print_exc()
    click.echo(f"wasmship: error: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from wasmship.github import annotate_error

        annotate_error(os.environ, message)
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
    except OSError as exc:
        # A full disk, a read-only folder, a permission: the system's words, no traceback.
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
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


@cli.command()
@click.option("--go", "go", metavar="PATH", help="The go binary (else WASMSHIP_GO, else PATH).")
@debug_option
def init(go: str | None) -> None:
    """Write a commented wasmship.toml for the current Go module (never overwrites)."""
    from wasmship.init import CI_STEP, MAKEFILE_TARGET, module_root
    from wasmship.init import init as run_init
    from wasmship.steps.toolchain import locate_go

    binary = locate_go(go, os.environ)
    path, packages = run_init(module_root(binary, Path.cwd(), os.environ), binary, os.environ)
    click.echo(
        f"wrote {path} with {len(packages)} target(s): "
        + ", ".join(f"{p.name} ({p.path})" for p in packages)
    )
    click.echo("\nA Makefile target to copy:\n\n" + MAKEFILE_TARGET)
    click.echo("A CI step to copy:\n\n" + CI_STEP)
