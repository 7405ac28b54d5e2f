"""The live display of a build's long work in a terminal: each encoding job, its bytes, its time.

Only on a terminal that takes escape codes (console.wants_live_display): a log, --quiet and
--json get exactly the step lines they always had. The display shows while a step runs and
goes when it ends; the step's one line takes its place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import (
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress_bar import ProgressBar
from rich.text import Text

from wasmship.builder.progress import JobProgress, JobState
from wasmship.cli.build_report import ConsoleReporter
from wasmship.units import human_size

WAITING_ROWS = 3  # the next jobs in line get a row each; the rest are counted


class LiveReporter(ConsoleReporter):
    """A ConsoleReporter that shows the running step's encoding jobs till its line replaces them."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = JobsDisplay(self.out)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        with super().step(name):
            self.jobs.show()  # jobs an earlier step started may still run in this one
            try:
                yield
            finally:
                self.jobs.hide()

    def progress(self, job: JobProgress) -> None:
        self.jobs.update(job)


class JobsDisplay:
    """Every job of the build in queue order: running ones with their bytes and time, the next
    few waiting, a line counting them all. Updated from the encoding threads."""

    def __init__(self, console: Console) -> None:
        self.jobs: dict[str, JobProgress] = {}  # in the order they were queued
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._visible: set[str] = set()
        self._open = False  # a step is running: the display may show
        self._shown = False
        self.progress = _JobsProgress(
            TextColumn("{task.description}"),
            _JobBar(),
            TextColumn("{task.fields[bytes]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,  # the step's line replaces it
            refresh_per_second=4,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def update(self, job: JobProgress) -> None:
        """Record where JOB stands and show it (while a step runs)."""
        with self._lock:
            known = job.name in self.jobs
            self.jobs[job.name] = job
            if not known:
                self._tasks[job.name] = self.progress.add_task(
                    job.name, start=False, total=None, visible=False, bytes=""
                )
            task = self._tasks[job.name]
            if job.state is JobState.RUNNING and not self.progress.tasks_started(task):
                self.progress.start_task(task)
            self.progress.update(
                task, total=job.total or None, completed=job.done, bytes=_bytes(job)
            )
            self._arrange()
            if job.state is not JobState.WAITING:  # not on each job queued: once all are
                self._start_if_needed()

    def show(self) -> None:
        """A step starts: show the jobs still unfinished, and those it starts."""
        with self._lock:
            self._open = True
            self._start_if_needed()

    def hide(self) -> None:
        """A step ends: its line replaces the display."""
        with self._lock:
            self._open = False
            if self._shown:
                self.progress.stop()
                self._shown = False

    def _start_if_needed(self) -> None:
        unfinished = any(job.state is not JobState.DONE for job in self.jobs.values())
        if self._open and not self._shown and unfinished:
            self.progress.start()
            self._shown = True

    def _arrange(self) -> None:
        """Rows for the running jobs and the next few waiting; the header counts them all."""
        waiting = [j.name for j in self.jobs.values() if j.state is JobState.WAITING]
        running = [j.name for j in self.jobs.values() if j.state is JobState.RUNNING]
        done = [j for j in self.jobs.values() if j.state is JobState.DONE]
        cached = sum(1 for j in done if j.cached)
        header = f"encoding: {len(running)} running, {len(waiting)} waiting, {len(done)} done"
        if cached:
            header += f" ({cached} from the cache)"
        self.progress.header = Text(header)
        visible = {*running, *waiting[:WAITING_ROWS]}
        for name in visible ^ self._visible:
            self.progress.update(self._tasks[name], visible=name in visible)
        self._visible = visible


def _bytes(job: JobProgress) -> str:
    """`1.0 MiB of 2.5 MiB`, and which pass over the file it is when the encoder makes two."""
    if job.state is not JobState.RUNNING:
        return ""
    if not job.total or not job.size:
        return "no byte count"  # zopfli, zstd and dcz run in one call: start and end only
    passes = job.total // job.size
    current = min(job.done // job.size, passes - 1)
    text = f"{human_size(job.done - current * job.size)} of {human_size(job.size)}"
    return text + (f", pass {current + 1} of {passes}" if passes > 1 else "")


class _JobsProgress(Progress):
    """rich's Progress with a line above the jobs that counts them."""

    header: RenderableType = Text("")

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.header
        yield self.make_tasks_table(self.tasks)

    def tasks_started(self, task: TaskID) -> bool:
        """Whether TASK has started (its elapsed time runs)."""
        with self._lock:
            return self._tasks[task].started


class _JobBar(ProgressColumn):
    """A bar for a job that reports its bytes, a pulse for one that cannot, `waiting` in line."""

    def render(self, task: Task) -> RenderableType:
        if not task.started:
            return Text("waiting", style="dim")
        return ProgressBar(
            total=task.total, completed=task.completed, width=24, animation_time=task.get_time()
        )
