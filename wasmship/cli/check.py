"""`wasmship check URL`: a deployed dist, checked as browsers and caches will see it."""

from __future__ import annotations

import click

from wasmship.cli.options import Seconds, debug_option, echo_json, json_option, quiet_option


@click.command()
@click.argument("url")
@click.option(
    "--timeout",
    type=Seconds(min=0, min_open=True),
    metavar="SECONDS",
    default=10.0,
    show_default=True,
    help="Seconds each request may take, from connecting to the body's last byte.",
)
@quiet_option("Print nothing when every check passes; only the problems when one fails.")
@json_option
@debug_option
def check(url: str, timeout: float, quiet: bool, as_json: bool) -> None:
    """Check a deployed dist at URL: types, encodings, bytes, caching headers.

    Prints a line per file that passes and each problem in full. Exit 1 if anything is wrong,
    naming the file, the header, what was expected and what came back; 2 for a URL that
    cannot be checked at all.
    """
    from wasmship.check.report import failure_message, show
    from wasmship.check.site import check_site
    from wasmship.cli.console import make_console
    from wasmship.errors import CheckError

    report = check_site(url, timeout=timeout)
    if as_json:
        echo_json(report.to_json())
    else:
        show(report, make_console(), quiet=quiet)
    if report.failures:
        raise CheckError(failure_message(report))
