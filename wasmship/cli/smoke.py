"""`wasmship smoke`: run each module of a dist once, under Node or a WASI runtime."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wasmship.cli.options import debug_option, go_option


@click.command()
@click.argument("dist", default="dist", type=click.Path(path_type=Path))
@go_option
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
    from wasmship.build.toolchain import locate_go
    from wasmship.errors import WasmshipError
    from wasmship.smoke import smoke as run_smoke

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
