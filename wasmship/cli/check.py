"""`wasmship check URL`: a deployed dist, checked as browsers and caches will see it."""

from __future__ import annotations

import click

from wasmship.cli.options import debug_option, echo_json, json_option


@click.command()
@click.argument("url")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a connection or for data.",
)
@json_option
@debug_option
def check(url: str, timeout: float, as_json: bool) -> None:
    """Check a deployed dist at URL: types, encodings, bytes, caching headers.

    Exit 1 if anything is wrong, naming the file, the header, what was expected and what came
    back.
    """
    from wasmship.check.report import show
    from wasmship.check.site import check_site
    from wasmship.cli.console import make_console
    from wasmship.errors import CheckError

    report = check_site(url, timeout=timeout)
    if as_json:
        echo_json(report.to_json())
    else:
        show(report, make_console())
    if report.failures:
        raise CheckError(f"{len(report.failures)} checks failed at {url}")
