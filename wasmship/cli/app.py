"""The command line: parse options, call the library, render the result. Nothing else.

Each command is a small module of this package; this one groups them and is the one place that
turns failures into messages and exit codes.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import NoReturn

import click

from wasmship.cli import build, check, clean, init, serve, smoke, verify
from wasmship.cli.options import DEBUG_ENV, debug_option
from wasmship.errors import WasmshipError


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


for command in (
    build.build,
    serve.serve,
    check.check,
    verify.verify,
    clean.clean,
    smoke.smoke,
    init.init,
):
    cli.add_command(command)


def _fail(message: str, code: int) -> NoReturn:
    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    click.echo(f"wasmship: error: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from wasmship.cli.github import annotate_error

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
