"""Options that several commands share, each defined once."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from wasmship.distformat.publish import DEFAULT_LOCK_TIMEOUT

DEBUG_ENV = "WASMSHIP_DEBUG"
F = TypeVar("F", bound=Callable[..., Any])


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        os.environ[DEBUG_ENV] = "1"
    return value


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show a traceback for failures.",
)

go_option = click.option(
    "--go", "go", metavar="PATH", help="The go binary (else WASMSHIP_GO, else PATH)."
)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
)

host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, metavar="ADDRESS", help="The address to bind."
)

port_option = click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    default=8000,
    show_default=True,
    help="The port to listen on (0 picks a free one).",
)


class Seconds(click.FloatRange):
    """A number of seconds: finite, at least MIN (nan and inf are no length of time)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


lock_timeout_option = click.option(
    "--lock-timeout",
    type=Seconds(min=0),
    metavar="SECONDS",
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait for another build on the same dist.",
)


def quiet_option(help: str = "Print nothing on success.") -> Callable[[F], F]:
    """-q/--quiet, with what it silences in this command's words."""
    return click.option("-q", "--quiet", is_flag=True, help=help)


class _JsonDocument:
    """Whether this run's one JSON document has gone to stdout (a failure then adds none)."""

    printed = False


def echo_json(document: object) -> None:
    """Print the run's one JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, sort_keys=True))
    _JsonDocument.printed = True


def json_document_printed() -> bool:
    """Whether echo_json has run."""
    return _JsonDocument.printed
