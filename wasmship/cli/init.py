"""`wasmship init`: a commented wasmship.toml for the Go module here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wasmship.cli.options import debug_option, echo_json, go_option, json_option, quiet_option

if TYPE_CHECKING:
    from wasmship.scaffold import Proposal


@click.command()
@go_option
@quiet_option("Print nothing but a warning.")
@json_option
@debug_option
def init(go: str | None, quiet: bool, as_json: bool) -> None:
    """Write a commented wasmship.toml for the current folder (never overwrites).

    The project is this folder and its subfolders, as for `go build` here:
    its pages and its main packages (`package = "."` when the folder is a
    main package); the Go module around it is only read for import paths.

    Targets come from what the project's files say: a page or script that
    loads X.wasm from folder F (fetch("/web/app.wasm")) makes a target X
    with folder = F, built from the package the Makefile, scripts or
    go:generate lines build into it (else the syscall/js main nearest the
    page). A main with //go:wasmexport, //go:wasmimport or built with
    GOOS=wasip1 is a wasip1 target (a reactor when it exports). A dist has
    one page: one syscall/js main no page loads gets the built-in page, the
    others are listed commented out with how to switch; servers and tools
    too, each with the reason. The web folder with the page that loads the
    module (web/, static/, public/, site/, docs/, the root, or an example
    site) becomes `static`. With no target the file is still written, all
    commented out, and a warning says so (exit 0).

    \b
    The file's keys are `wasmship build`'s flags without their dashes:
      --lock-timeout 5  ->  lock-timeout = 5
      --no-hash         ->  hash = false
      --server-config   ->  server-config = ["nginx", "caddy"]
    Tables:
      [[target]]  name, package, goos ("js" or "wasip1"), folder, tags, ldflags, env
      [budget]    TARGET.ENCODING = SIZE, e.g. main.br = "2 MiB"
    Precedence: defaults < wasmship.toml < WASMSHIP_* variables < flags.
    """
    from wasmship.scaffold import CI_STEP, MAKEFILE_TARGET, module_root
    from wasmship.scaffold import init as run_init
    from wasmship.toolchain.golist import BROWSER_API
    from wasmship.toolchain.locate import locate_go

    binary = locate_go(go, os.environ)
    here = Path.cwd()
    # The project is this folder's subtree; the module root only names its import paths.
    proposal = run_init(here, binary, os.environ, module_root(binary, here, os.environ))
    warning = None
    if not proposal.targets:
        # Still a success: the file is written, and an edit makes it build what the user wants.
        warning = (
            f"no browser target found: no main package under {here} uses {BROWSER_API}; "
            f"uncomment the [[target]] to build in {proposal.path.name}"
        )
    if as_json:
        echo_json(_document(proposal, warning))
        return
    if not quiet:
        _show(proposal)
    if warning:
        click.echo(f"wasmship: warning: {warning}", err=True)
    if not quiet:
        click.echo("\nA Makefile target to copy:\n\n" + MAKEFILE_TARGET)
        click.echo("A CI step to copy:\n\n" + CI_STEP)


def _show(proposal: Proposal) -> None:
    """What init wrote, a line per target, candidate and web folder."""
    click.echo(f"wrote {proposal.path}")
    for package in proposal.targets:
        click.echo(f"  target {package.name} ({package.path}): {package.why}")
    for package in proposal.candidates:
        click.echo(f"  commented out {package.path}: {package.reason}")
    for folder in proposal.static:
        if folder.reason is None:
            click.echo(f'  static = "{folder.path}"')
        else:
            click.echo(f'  commented out static = "{folder.path}": {folder.reason}')
    if proposal.routes:
        click.echo(f"  routes = {list(proposal.routes)}: the service worker answers them")


def _document(proposal: Proposal, warning: str | None) -> dict[str, Any]:
    """What --json prints: the file written, what became a target and what did not, and why."""
    return {
        "ok": True,
        "path": str(proposal.path),
        "targets": [
            {"name": p.name, "package": p.path, "goos": p.goos, "folder": p.folder, "why": p.why}
            for p in proposal.targets
        ],
        "candidates": [
            {"name": p.name, "package": p.path, "reason": p.reason} for p in proposal.candidates
        ],
        "static": [{"path": f.path, "reason": f.reason} for f in proposal.static],
        "routes": list(proposal.routes),
        "warnings": [warning] if warning else [],
    }
