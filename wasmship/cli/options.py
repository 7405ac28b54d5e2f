"""Options that several commands share, each defined once."""

from __future__ import annotations

import json
import math
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wasmship.distformat.lock import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from wasmship.delivery.proxy_routes import ProxyRoute
    from wasmship.delivery.tls import Certificate

DEBUG_ENV = "WASMSHIP_DEBUG"
F = TypeVar("F", bound=Callable[..., Any])


class _Run:
    """What this run's command line asked of the failure path, which runs after click's context
    is gone: kept here rather than in os.environ, which child processes (go, node) inherit."""

    debug = False
    json_printed = False  # this run's one JSON document has gone to stdout


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        _Run.debug = True
    return value


def debug_asked() -> bool:
    """Whether --debug (or WASMSHIP_DEBUG) asks for a traceback with a failure."""
    return _Run.debug or bool(os.environ.get(DEBUG_ENV))


def start_run() -> None:
    """Forget the last run's flags (one process may run the command line more than once)."""
    _Run.debug = _Run.json_printed = False


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show a traceback for failures.",
)

dist_argument = click.argument(
    "dist", type=click.Path(path_type=Path), default="dist", required=False
)  # DIST, default ./dist: the same in verify, serve, clean and smoke

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


def https_options(command: F) -> F:
    """--https, --cert and --key (serve, dev; also `https`, `cert`, `key` in wasmship.toml)."""
    file = click.Path(dir_okay=False, path_type=Path)  # checked by settings, as the file's are
    for option in (
        click.option("--key", type=file, metavar="FILE", help="The private key of --cert."),
        click.option(
            "--cert",
            type=file,
            metavar="FILE",
            help="Serve HTTPS with this PEM certificate (e.g. from mkcert); needs --key.",
        ),
        click.option(
            "--https",
            is_flag=True,
            default=None,
            help="Serve HTTPS with a self-signed certificate made once for this machine.",
        ),
    ):
        command = option(command)
    return command


class Seconds(click.FloatRange):
    """A number of seconds: finite, at least MIN (nan and inf are no length of time)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        seconds = super().convert(seconds, param, ctx)
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


def echo_json(document: object) -> None:
    """Print the run's one JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, sort_keys=True))
    _Run.json_printed = True


def json_document_printed() -> bool:
    """Whether echo_json has run (a failure then adds no second document)."""
    return _Run.json_printed


def deprecated(old: str, new: str) -> None:
    """One line on stderr for a flag kept so that scripts do not break."""
    click.echo(f"wasmship: note: {old} is deprecated; use {new}", err=True)


def interrupt(signum: int, frame: object) -> None:
    """A signal handler: the signal ends the command as Ctrl-C does (KeyboardInterrupt)."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def stop_on_signals() -> None:
    """SIGINT and SIGTERM both stop a long-running command (serve, dev), even one a script
    started in the background: the shell starts it with SIGINT ignored, which Python keeps."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)


proxy_option = click.option(
    "--proxy",
    "proxies",
    multiple=True,
    metavar="PREFIX=URL",
    help="Forward requests under PREFIX to the backend at URL, path kept "
    "(/api=http://127.0.0.1:8080); repeatable; adds to wasmship.toml's [[proxy]] tables.",
)


def echo_serving_notes(
    host: str, routes: tuple[ProxyRoute, ...], certificate: Certificate | None
) -> None:
    """What serve and dev say on stderr once listening: each --proxy route, a host that others
    cannot reach, and how to trust a certificate wasmship made."""
    from wasmship.delivery.tls import trust_hint
    from wasmship.preview import reach_warning

    for route in routes:
        click.echo(f"wasmship: {route.prefix} -> {route.url}", err=True)
    warning = reach_warning(host)
    if warning:
        click.echo(f"wasmship: warning: {warning}", err=True)
    hint = trust_hint(certificate) if certificate is not None else None
    if hint:
        click.echo(f"wasmship: {hint}", err=True)
