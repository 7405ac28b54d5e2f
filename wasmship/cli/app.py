"""The command line: parse options, call the library, render the result. Nothing else.

Each command is a small module of this package; this one groups them and is the one place that
turns failures into messages and exit codes.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from typing import NoReturn

import click

from wasmship.cli.options import (
    debug_asked,
    debug_option,
    echo_json,
    interrupt,
    json_document_printed,
    start_run,
)
from wasmship.errors import ExitCode, WasmshipError

DESTRUCTIVE = frozenset({"--force"})  # flags that replace or remove what is there


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from wasmship import __version__

    click.echo(f"wasmship, version {__version__}")
    ctx.exit()


# Each command's module, imported only when that command runs (or --help lists them): a build
# never pays for serve's HTTP server, nor --version for anything.
COMMANDS = ("build", "serve", "dev", "check", "verify", "clean", "smoke", "init", "size")


class _Commands(click.Group):
    """The group of COMMANDS, each loaded from its module wasmship.cli.<name> on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"wasmship.cli.{cmd_name}")
        command = getattr(module, cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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


def _wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for --json (before a `--` that passes flags to go)."""
    mine = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in mine


def _fail(message: str, code: int) -> NoReturn:
    if debug_asked():
        traceback.print_exc()
    if _wants_json(sys.argv[1:]) and not json_document_printed():
        # --json promises one document on stdout, failures included.
        echo_json({"ok": False, "error": message, "exit_code": code})
    click.echo(f"wasmship: error: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from wasmship.cli.github import annotate_error

        annotate_error(os.environ, message)
    sys.exit(code)


def _click_failure(exc: click.ClickException) -> NoReturn:
    """A usage error click found: its own message (with the usage line), one JSON document
    on stdout with --json."""
    if _wants_json(sys.argv[1:]) and not json_document_printed():
        echo_json({"ok": False, "error": exc.format_message(), "exit_code": exc.exit_code})
    exc.show()
    sys.exit(exc.exit_code)


# The commands that publish a dist: an interrupt leaves the one before as it was.
PUBLISHING = frozenset({"build", "dev"})


def _interrupted(argv: list[str]) -> str:
    """What an interrupt of the command in ARGV means: only a publishing command has a dist
    to speak of."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command in PUBLISHING:
        return "interrupted; the previous dist is untouched"
    return "interrupted"


def main() -> None:
    """Entry point: the one place that turns failures into messages and exit codes."""
    signal.signal(signal.SIGTERM, interrupt)
    start_run()
    try:
        cli.main(standalone_mode=False, prog_name="wasmship")
    except WasmshipError as exc:
        _fail(str(exc), exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail(_interrupted(sys.argv[1:]), ExitCode.INTERRUPTED)
    except click.exceptions.NoSuchOption as exc:
        # Never suggest a destructive flag for a mistyped one.
        safe = [p for p in exc.possibilities or () if p not in DESTRUCTIVE]
        _click_failure(
            click.exceptions.NoSuchOption(exc.option_name, possibilities=safe, ctx=exc.ctx)
        )
    except click.ClickException as exc:
        _click_failure(exc)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        # A full disk, a read-only folder, a permission: the system's words, no traceback.
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", ExitCode.FAILED)
    sys.exit(ExitCode.OK)
