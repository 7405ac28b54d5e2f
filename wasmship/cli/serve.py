"""`wasmship serve`: the preview server, production headers, the URL first on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wasmship.cli.options import (
    debug_option,
    dist_argument,
    echo_serving_notes,
    host_option,
    https_options,
    port_option,
    proxy_option,
    quiet_option,
    stop_on_signals,
)


@click.command()
@dist_argument
@host_option
@port_option
@proxy_option
@https_options
@quiet_option("No access log on stderr.")
@debug_option
def serve(
    dist: Path,
    host: str,
    port: int,
    proxies: tuple[str, ...],
    https: bool | None,
    cert: Path | None,
    key: Path | None,
    quiet: bool,
) -> None:
    """Serve DIST (default ./dist) locally, with production headers.

    Prints the URL as the first line on stdout; Ctrl-C stops it. Requests under a --proxy
    PREFIX (or a [[proxy]] of the wasmship.toml found upward) go to its backend.
    """
    from wasmship.delivery.tls import held
    from wasmship.preview import ServeConfig
    from wasmship.preview import serve as run_serve
    from wasmship.settings import resolve_proxies
    from wasmship.settings.serving import resolve_serve

    routes = resolve_proxies(Path.cwd(), proxies)
    settings = resolve_serve(Path.cwd(), {"https": https, "cert": cert, "key": key})
    certificate = settings.certificate(host)

    def announce(url: str) -> None:
        stop_on_signals()  # listening: from now on SIGINT and SIGTERM stop it
        click.echo(url)
        sys.stdout.flush()
        click.echo(f"wasmship: serving {dist} at {url} (Ctrl-C to stop)", err=True)
        echo_serving_notes(host, routes, certificate)

    def log(line: str) -> None:
        click.echo(line, err=True)

    config = ServeConfig(
        dist=dist, host=host, port=port, quiet=quiet, proxies=routes, certificate=certificate
    )
    with held(certificate):
        run_serve(config, announce, log)
    click.echo("wasmship: stopped", err=True)
