"""What a build tells a reporter about its long work while it runs: one event per change of a job.

Events are for showing only; nothing a build writes depends on them. They come from the threads
that do the work, so whatever receives them must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class JobState(StrEnum):
    """Where a job is: queued behind others, running on a thread, or finished."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True)
class JobProgress:
    """One encoding job (a file in one encoding, or a delta) as it stands now."""

    name: str  # the file and what it becomes: `main.3f9c2a1b.wasm br`
    state: JobState
    size: int  # the file's bytes
    total: int = 0  # bytes the encoder reports reading (a pass or more over the file); 0: it
    done: int = 0  # reports only its start and end. Of those, read so far.
    cached: bool = False  # finished from the compression cache


ProgressSink = Callable[[JobProgress], None]


def ignore_progress(job: JobProgress) -> None:
    """A sink for a build that no one watches."""
