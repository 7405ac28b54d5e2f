"""`wasmship verify [DIST]`: every byte against the manifest, before a deploy."""

from __future__ import annotations

from pathlib import Path

import click

from wasmship.cli.options import (
    debug_option,
    dist_argument,
    echo_json,
    json_option,
    quiet_option,
)


@click.command()
@dist_argument
@click.option(
    "--strict", is_flag=True, help="Files the manifest does not know are errors, not warnings."
)
@quiet_option("Print nothing when the dist is clean.")
@json_option
@debug_option
def verify(dist: Path, strict: bool, quiet: bool, as_json: bool) -> None:
    """Check DIST (default ./dist) against its manifest.json before a deploy; report every
    problem.

    Exit 0 when clean (warnings allowed), 1 with problems, 2 on usage errors, 4 when DIST is
    no dist (no such folder, no manifest.json).
    """
    from wasmship.distformat.names import MANIFEST
    from wasmship.errors import VerifyFailed
    from wasmship.verify import verify_dist

    result = verify_dist(dist, strict=strict)
    if as_json:
        echo_json(result.as_dict())
    else:
        for problem in result.problems:
            click.echo(problem.line())
        if result.ok and not quiet:
            count = len(result.warnings)
            warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
            click.echo(f"{dist}: {len(result.checked)} files match {MANIFEST}{warned}")
    if not result.ok:
        raise VerifyFailed(
            str(dist),
            len(result.errors),
            unresolved=result.count("unresolved"),
            references=result.count("reference"),
        )
