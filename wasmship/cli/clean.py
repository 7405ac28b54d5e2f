"""`wasmship clean`: remove a dist wasmship wrote, and nothing else; or empty the cache folder."""

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
@click.option(
    "--cache",
    is_flag=True,
    help="Empty wasmship's cache folder (every bucket) instead of removing a dist.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --cache: the cache folder [default: WASMSHIP_CACHE_DIR, else the user cache "
    "folder].",
)
@click.option(
    "--dry-run", is_flag=True, help="With --cache: say what each bucket holds; remove nothing."
)
@quiet_option()
@json_option
@debug_option
def clean(
    dist: Path,
    lock_timeout: float,
    cache: bool,
    cache_dir: Path | None,
    dry_run: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Remove DIST (default ./dist; only if wasmship wrote it) and stale staging folders beside
    it; with --cache, empty the cache folder instead."""
    from wasmship.errors import UsageError

    if cache:
        source = click.get_current_context().get_parameter_source("dist")
        if source is not click.core.ParameterSource.DEFAULT:
            raise UsageError("clean --cache empties the cache folder; it takes no DIST")
        _clean_cache(cache_dir, dry_run=dry_run, quiet=quiet, as_json=as_json)
        return
    for flag, given in (("--cache-dir", cache_dir is not None), ("--dry-run", dry_run)):
        if given:
            raise UsageError(f"{flag} goes with --cache")
    from wasmship.cleanup import clean as run_clean

    result = run_clean(dist, lock_timeout=lock_timeout)
    if as_json:
        echo_json({"ok": True, "dist": str(dist), "removed": [str(p) for p in result.removed]})
    elif not quiet:
        for path in result.removed:
            click.echo(f"removed {path}")
        if not result.removed:
            click.echo(f"nothing to clean at {dist}")


def _clean_cache(cache_dir: Path | None, *, dry_run: bool, quiet: bool, as_json: bool) -> None:
    """Empty the cache folder (or, with DRY_RUN, say what it holds) and tell the user."""
    from wasmship.cleanup import clean_cache
    from wasmship.settings import resolve_build
    from wasmship.units import human_size

    # The folder the project's builds use: --cache-dir, WASMSHIP_CACHE_DIR, wasmship.toml's.
    root = resolve_build(Path.cwd(), {"cache_dir": cache_dir}).config.cache_root
    result = clean_cache(root, dry_run=dry_run)
    if as_json:
        echo_json(result.as_dict())
        return
    if quiet:
        return
    click.echo(f"cache folder {result.root}")
    for bucket in result.buckets:
        held = f", {bucket.in_use} in use (kept)" if bucket.in_use else ""
        click.echo(
            f"  {bucket.name:<16} {bucket.entries:>6} entries {human_size(bucket.bytes):>10}{held}"
        )
    removed = sum(b.removed for b in result.buckets)
    size = human_size(sum(b.removed_bytes for b in result.buckets))
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {removed} entries, {size}")
