"""`wasmship smoke`: run each module of a dist once, in a browser, under Node or a WASI runtime."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wasmship.cli.options import Seconds, debug_option, go_option


@click.command()
@click.argument("dist", default="dist", type=click.Path(path_type=Path))
@go_option
@click.option(
    "--browser",
    metavar="PATH",
    help="Chromium or Chrome for js modules (else chromium, chromium-browser, google-chrome "
    "or google-chrome-stable on PATH); needs pip install 'wasmship[browser]'.",
)
@click.option(
    "--settle",
    type=Seconds(min=0),
    metavar="SECONDS",
    default=2.0,
    show_default=True,
    help="Seconds a module still running in the browser must stay free of errors to pass.",
)
@click.option(
    "--timeout",
    type=Seconds(min=0.1),
    metavar="SECONDS",
    default=60.0,
    show_default=True,
    help="Seconds each module may run (in a browser: may take to start).",
)
@debug_option
def smoke(dist: Path, go: str | None, browser: str | None, settle: float, timeout: float) -> None:
    """Run each module of DIST once; exit 1 if one crashes, 2 if one needs a missing browser.

    js modules run in headless Chromium or Chrome when there is one, else under Node.js;
    wasip1 modules run under wasmtime.
    """
    from wasmship.errors import ToolchainError, WasmshipError
    from wasmship.smoke import Outcome
    from wasmship.smoke import smoke as run_smoke

    report = run_smoke(dist, go, os.environ, timeout=timeout, browser=browser, settle=settle)
    for run in report.runs:
        click.echo(run.stdout, nl=False)
        click.echo(run.stderr, nl=False, err=True)
        if run.outcome is Outcome.FAILED:
            for line in run.console:
                click.echo(line, err=True)
        click.echo(run.line(), err=True)
    failed, blocked = report.of(Outcome.FAILED), report.of(Outcome.NEEDS_BROWSER)
    if failed:
        also = f"; {_names(blocked)} could not run without a browser" if blocked else ""
        raise WasmshipError(f"smoke failed for {_names(failed)}{also}")
    if blocked:
        # Not a crash, but not a pass either: nothing showed that the module works.
        raise ToolchainError(
            f"{_names(blocked)} {'uses' if len(blocked) == 1 else 'use'} the DOM, so smoke "
            f"could not run {'it' if len(blocked) == 1 else 'them'} under Node.js; "
            f"{report.browser_hint}"
        )


def _names(targets: list[str]) -> str:
    return ", ".join(targets)
