"""`wasmship clean`: remove a dist wasmship wrote, and nothing else."""

from __future__ import annotations

from pathlib import Path

import click

from wasmship.cli.options import debug_option, lock_timeout_option, quiet_option


@click.command()
@click.argument("dist", default="dist", type=click.Path(path_type=Path))
@lock_timeout_option
@quiet_option()
@debug_option
def clean(dist: Path, lock_timeout: float, quiet: bool) -> None:
    """Remove DIST (only if wasmship wrote it) and stale staging folders beside it."""
    from wasmship.cleanup import clean as run_clean

    result = run_clean(dist, lock_timeout=lock_timeout)
    if not quiet:
        for path in result.removed:
            click.echo(f"removed {path}")
        if not result.removed:
            click.echo(f"nothing to clean at {dist}")
