"""`wasmship clean`: remove a dist wasmship wrote, and nothing else."""

from __future__ import annotations

from pathlib import Path

import click

from wasmship.cli.options import (
    debug_option,
    dist_argument,
    echo_json,
    json_option,
    lock_timeout_option,
    quiet_option,
)


@click.command()
@dist_argument
@lock_timeout_option
@quiet_option()
@json_option
@debug_option
def clean(dist: Path, lock_timeout: float, quiet: bool, as_json: bool) -> None:
    """Remove DIST (default ./dist; only if wasmship wrote it) and stale staging folders
    beside it."""
    from wasmship.cleanup import clean as run_clean

    result = run_clean(dist, lock_timeout=lock_timeout)
    if as_json:
        echo_json({"ok": True, "dist": str(dist), "removed": [str(p) for p in result.removed]})
    elif not quiet:
        for path in result.removed:
            click.echo(f"removed {path}")
        if not result.removed:
            click.echo(f"nothing to clean at {dist}")
