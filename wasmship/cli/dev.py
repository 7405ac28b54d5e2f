"""`wasmship dev`: the URL first on stdout, then one line per build; Ctrl-C stops it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wasmship.cli.options import (
    debug_option,
    echo_serving_notes,
    go_option,
    host_option,
    https_options,
    port_option,
    proxy_option,
    quiet_option,
    stop_on_signals,
)

if TYPE_CHECKING:
    from wasmship.builder.config import BuildConfig
    from wasmship.dev.session import DevEvent

SHOWN_CHANGES = 3  # changed files named on a build's line; more are counted


@click.command()
@click.argument("package", required=False)
@host_option
@port_option
@proxy_option
@https_options
@go_option
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The wasmship.toml to read [default: found upward from here].",
)
@click.option(
    "--poll", is_flag=True, help="Poll for changes instead of native file watching (inotify)."
)
@click.option(
    "--backend",
    metavar="CMD",
    help="Start the app's own server (e.g. 'go run ./cmd/api'), restart it when its Go files "
    "change, stop it with dev; split as a shell would, run without one.",
)
@click.option("--backend-shell", is_flag=True, help="Run --backend CMD through sh -c.")
@quiet_option("Print only the URL and failed builds.")
@debug_option
def dev(
    package: str | None,
    host: str,
    port: int,
    proxies: tuple[str, ...],
    go: str | None,
    config: Path | None,
    backend: str | None,
    cert: Path | None,
    key: Path | None,
    **flags: bool,
) -> None:
    """Build PACKAGE (default .) for the browser, serve it, and rebuild and reload on save.

    Builds use the fast profile in a private folder (never ./dist), with the settings of
    wasmship.toml; open pages reload when a build is ready and show Go's errors when one fails.
    Prints the URL as the first line on stdout; Ctrl-C stops it.
    """
    from wasmship.delivery.tls import held
    from wasmship.dev.backend import Backend
    from wasmship.dev.session import DevOptions, DevSession, Notice
    from wasmship.settings import resolve_proxies
    from wasmship.settings.serving import resolve_serve

    quiet = flags["quiet"]

    def configure() -> BuildConfig:
        return _build_config(package, go, config)

    def on_event(event: DevEvent) -> None:
        if isinstance(event, Notice):
            click.echo(f"wasmship: {event.message}", err=True)
            return
        line, error = render(event)
        if line and (error or not quiet):
            click.echo(line)
        if error:
            click.echo(f"wasmship: error: {error}", err=True)

    routes = resolve_proxies(Path.cwd(), proxies, config)
    tls = resolve_serve(
        Path.cwd(), {"https": flags["https"], "cert": cert, "key": key, "config": config}
    )
    certificate = tls.certificate(host)
    poll = True if flags["poll"] else None
    options = DevOptions(host=host, port=port, poll=poll, proxies=routes, certificate=certificate)
    session = DevSession(configure, options, on_event)
    server = None
    if backend is not None:  # its command is split (and checked) before anything starts
        server = Backend(backend, _echo_err, shell=flags["backend_shell"], go=go, poll=poll)
    url = session.start()
    stop_on_signals()  # listening: from now on SIGINT and SIGTERM stop it
    click.echo(url)
    sys.stdout.flush()
    click.echo(f"wasmship: dev server at {url}, building into {session.dist}", err=True)
    click.echo("wasmship: rebuilds on save; Ctrl-C to stop", err=True)
    echo_serving_notes(host, routes, certificate)
    try:
        if server is not None:
            server.start()
            click.echo(f"wasmship: backend: {backend}", err=True)
        with held(certificate):
            session.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.stop()  # its whole process group, waited for
        session.stop(wait=False)  # a build under way ends with the process (and its go)
    click.echo("wasmship: stopped", err=True)


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


def _build_config(package: str | None, go: str | None, config: Path | None) -> BuildConfig:
    """The project's build settings (wasmship.toml, WASMSHIP_*), with this command's flags."""
    from wasmship.settings import resolve_build

    overrides = {"package": package, "go": go, "config": config}
    return resolve_build(Path.cwd(), overrides).config


def render(event: DevEvent) -> tuple[str, str]:
    """A build's line (its clock time, duration, what changed) and the error to print, if any."""
    from wasmship.dev.session import Built

    if not isinstance(event, Built):
        return "", ""
    at = time.strftime("%H:%M:%S")
    what = "built" if event.number == 1 else "rebuilt"
    if event.failure is not None:
        what = "build failed"
    line = f"{at} {what} in {event.seconds:.2f}s"
    names = [_shown(p) for p in event.changes]
    if names:
        more = len(names) - SHOWN_CHANGES
        line += ": " + ", ".join(names[:SHOWN_CHANGES]) + (f" and {more} more" if more > 0 else "")
    return line, event.failure.message if event.failure else ""


def _shown(path: Path) -> str:
    """PATH relative to the working directory when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
