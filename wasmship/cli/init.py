"""`wasmship init`: a commented wasmship.toml for the Go module here."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wasmship.cli.options import debug_option, go_option


@click.command()
@go_option
@debug_option
def init(go: str | None) -> None:
    """Write a commented wasmship.toml for the current Go module (never overwrites).

    \b
    The file's keys are `wasmship build`'s flags without their dashes:
      --lock-timeout 5  ->  lock-timeout = 5
      --no-hash         ->  hash = false
      --server-config   ->  server-config = ["nginx", "caddy"]
    Tables:
      [[target]]  name, package, goos ("js" or "wasip1"), tags, ldflags, env
      [budget]    TARGET.ENCODING = SIZE, e.g. main.br = "2 MiB"
    Precedence: defaults < wasmship.toml < WASMSHIP_* variables < flags.
    """
    from wasmship.build.toolchain import locate_go
    from wasmship.init import CI_STEP, MAKEFILE_TARGET, module_root
    from wasmship.init import init as run_init

    binary = locate_go(go, os.environ)
    path, packages = run_init(module_root(binary, Path.cwd(), os.environ), binary, os.environ)
    click.echo(
        f"wrote {path} with {len(packages)} target(s): "
        + ", ".join(f"{p.name} ({p.path})" for p in packages)
    )
    click.echo("\nA Makefile target to copy:\n\n" + MAKEFILE_TARGET)
    click.echo("A CI step to copy:\n\n" + CI_STEP)
