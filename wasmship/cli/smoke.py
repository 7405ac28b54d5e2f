"""`wasmship smoke`: run each module of a dist once, in a browser, under Node or under wazero."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wasmship.cli.options import (
    Seconds,
    debug_option,
    dist_argument,
    echo_json,
    go_option,
    json_option,
    quiet_option,
)

if TYPE_CHECKING:
    from wasmship.smoke import SmokeReport


def _is_number(text: str) -> bool:
    """Whether TEXT is an argument of --call: a number as Go parses one (2, -7, 0x10, 1.5e3)."""
    try:
        float(text)
    except ValueError:
        try:
            int(text, 0)
        except ValueError:
            return False
    return True


class _SmokeCommand(click.Command):
    """Takes `--call NAME [ARG...]` out before click parses: the arguments are the words that
    follow NAME up to the next option, each a number (a wasm function takes numbers), so
    `--call add 2 3` reads as written and DIST goes before --call."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest: list[str] = []
        at = 0
        while at < len(args):
            arg = args[at]
            if arg == "--":
                rest += args[at:]
                break
            if arg == "--call" or arg.startswith("--call="):
                name = arg.partition("=")[2] if "=" in arg else None
                if name is None:
                    at += 1
                    if at >= len(args):
                        raise click.UsageError("--call needs the name of an exported function", ctx)
                    name = args[at]
                if not name or name.startswith("-"):
                    given = f", not {name!r}" if name else ""
                    raise click.UsageError(
                        f"--call needs the name of an exported function{given} "
                        "(--call NAME [ARG...])",
                        ctx,
                    )
                at += 1
                values = []
                # Every word up to the next option is an argument of the call, so a mistyped
                # number is named as such instead of spilling into DIST.
                while at < len(args) and (_is_number(args[at]) or not args[at].startswith("-")):
                    if not _is_number(args[at]):
                        raise click.UsageError(
                            f"--call {name}: {args[at]!r} is not a number (the call's arguments "
                            "are the numbers after its name, e.g. 2, -7, 0x10, 1.5; give DIST "
                            "before --call)",
                            ctx,
                        )
                    values.append(args[at])
                    at += 1
                if "call" in ctx.meta:
                    raise click.UsageError("--call is given twice: smoke makes one call", ctx)
                ctx.meta["call"] = (name, tuple(values))
                continue
            rest.append(arg)
            at += 1
        return super().parse_args(ctx, rest)


@click.command(cls=_SmokeCommand)
@dist_argument
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
    help="Seconds each module may run (in a browser: may take to start); a wasip1 module "
    "still running then is stopped.",
)
@click.option(
    "--memory",
    metavar="SIZE",
    default="512 MiB",
    show_default=True,
    help="The memory cap of a wasip1 module: growing past it fails.",
)
@click.option(
    "--target",
    "only",
    metavar="NAME",
    multiple=True,
    help="Run only this target; may repeat.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="PATH",
    help='The folder mounted at / for a wasip1 target allowed "fs" (else an empty one).',
)
@click.option(
    "--call",
    "call_placeholder",
    metavar="NAME [ARG...]",
    help="Call this export of the wasip1 target with these numbers and print what it returns.",
)
@quiet_option("Print nothing for a module that passes (with --call: only what it returns).")
@json_option
@debug_option
def smoke(
    dist: Path,
    go: str | None,
    browser: str | None,
    settle: float,
    timeout: float,
    memory: str,
    only: tuple[str, ...],
    directory: Path | None,
    call_placeholder: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run each module of DIST (default ./dist) once; exit 1 if one crashes, 3 if one needs a
    missing browser or a wasip1 module imports its host's functions.

    js modules run in headless Chromium or Chrome when there is one, else under Node.js;
    wasip1 modules run under wazero, with a memory cap, a deadline and only what their
    target's allow list grants.
    """
    from wasmship.distformat.reader import require_dist_folder
    from wasmship.errors import ToolchainError, WasmshipError
    from wasmship.settings import resolve_build
    from wasmship.smoke import Call, Outcome
    from wasmship.smoke import smoke as run_smoke
    from wasmship.units import parse_size

    if dist.is_file():
        require_dist_folder(dist)
    called = click.get_current_context().meta.get("call")
    project = resolve_build(Path.cwd(), {"go": go}).config  # the project's Go and cache folder
    report = run_smoke(
        dist,
        project.go,
        os.environ,
        cache=project.cache_root,
        timeout=timeout,
        browser=browser,
        settle=settle,
        memory=parse_size(memory),
        only=only,
        call=Call(*called) if called else None,
        directory=directory,
    )
    if as_json:
        echo_json(_document(report))
    else:
        _show(report, quiet=quiet, called=called is not None)
    failed, blocked = report.of(Outcome.FAILED), report.of(Outcome.NEEDS_BROWSER)
    hosted = report.of(Outcome.NEEDS_HOST)
    if failed:
        also = f"; {_names(blocked)} could not run without a browser" if blocked else ""
        also += f"; {_names(hosted)} could not run without its host" if hosted else ""
        raise WasmshipError(f"smoke failed for {_names(failed)}{also}")
    # Exit 3 for both: the module is not known to be wrong, this machine lacks what runs it (a
    # browser, its host's functions); a green step that ran nothing would hide a broken build.
    missing = []
    if hosted:
        one = len(hosted) == 1
        needs = "; ".join(
            f"{run.target}: {', '.join(run.needs)}"
            for run in report.runs
            if run.outcome is Outcome.NEEDS_HOST
        )
        missing.append(
            f"{_names(hosted)} {'needs its' if one else 'need their'} host's imports ({needs}), "
            f"which smoke does not provide (only WASI preview 1); run {'it' if one else 'them'} "
            f"in the host, or leave {'it' if one else 'them'} out with --target"
        )
    if blocked:
        one = len(blocked) == 1
        missing.append(
            f"{_names(blocked)} {'uses' if one else 'use'} the DOM, so smoke could not run "
            f"{'it' if one else 'them'} under Node.js; {report.browser_hint}"
        )
    if missing:
        raise ToolchainError("; ".join(missing))


def _show(report: SmokeReport, *, quiet: bool, called: bool) -> None:
    """Each module's own output, then smoke's line about it (only failures when quiet)."""
    from wasmship.smoke import Outcome

    for run in report.runs:
        if quiet and run.ok:
            if called:  # what the call returned is the answer asked for
                click.echo(run.stdout, nl=False)
            continue
        click.echo(run.stdout, nl=False)
        click.echo(run.stderr, nl=False, err=True)
        if run.outcome is Outcome.FAILED:
            for line in run.console:
                click.echo(line, err=True)
        click.echo(run.line(), err=True)


def _document(report: SmokeReport) -> dict[str, Any]:
    """What --json prints: every run with its outcome and output."""
    from wasmship.smoke import Outcome

    runs = [
        {
            "target": run.target,
            "runtime": run.runtime,
            "outcome": run.outcome.value,
            "verdict": run.verdict,
            "stdout": run.stdout,
            "stderr": run.stderr,
            "console": list(run.console),
        }
        for run in report.runs
    ]
    blocked = bool(report.of(Outcome.NEEDS_BROWSER))
    return {
        "ok": all(run.ok for run in report.runs),
        "runs": runs,
        "browser_hint": report.browser_hint if blocked else None,
    }


def _names(targets: list[str]) -> str:
    return ", ".join(targets)
