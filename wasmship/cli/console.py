"""The consoles commands print to: full lines in logs, no escape codes where none are wanted."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

LOG_WIDTH = 10_000  # not a terminal (a CI log, a file): never cut a table or a file name


def make_console(*, stderr: bool = False, quiet: bool = False) -> Console:
    """A rich Console for stdout (or stderr): its width when a terminal, unbounded otherwise;
    NO_COLOR (set and not empty, as no-color.org says) means no escape codes at all."""
    from rich.console import Console  # here: commands that print nothing never load rich

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        stderr=stderr,
        quiet=quiet,
        highlight=False,
        width=None if terminal else LOG_WIDTH,
        color_system=None if plain else "auto",
    )


def wants_live_display(quiet: bool) -> bool:
    """Whether a build shows live progress: only on a terminal that takes escape codes (not a
    log, not TERM=dumb, not NO_COLOR, which promises none), and not when asked to be quiet."""
    if quiet or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()
