"""A build's encoding work as one set of jobs on one pool of --jobs threads, the longest first.

Every variant (a file in one encoding) and every dcz delta is a job. The compress step starts
them all at once, ordered by an estimate of their time (size times the codec's cost per byte),
so the slowest brotli starts first and the other threads take the deltas and the rest beside
it. Each step then waits only for the jobs it needs. Every codec releases the GIL while it
compresses (benchmarks/gil.py), so threads use every core without copying files around; a job
reads its file when it starts, so at most one input per thread is in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.builder.cache import CompressionCache, cache_key
from wasmship.builder.config import BuildConfig
from wasmship.builder.progress import JobProgress, JobState, ProgressSink
from wasmship.encodings.encoders import Settings, compress, estimated_seconds, streamed_bytes


def open_cache(config: BuildConfig) -> CompressionCache | None:
    """A handle on the cache this build uses (its own counts), or None with --no-cache."""
    if not config.cache:
        return None
    return CompressionCache(root=config.cache_root, max_size=config.cache_max_size)


@dataclass(frozen=True)
class Job:
    """One piece of encoding work: a file, the exact settings, and a delta's dictionary."""

    name: str  # what the progress display shows: `main.3f9c2a1b.wasm br`
    source: Path
    sha256: str
    size: int
    settings: Settings
    dictionary: Path | None = None
    # Where the result is looked up and stored; the step that made the job reads its counts.
    cache: CompressionCache | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The job's identity and its cache key: equal input and settings give equal bytes."""
        return cache_key(self.sha256, self.settings)


@dataclass(frozen=True)
class Encoded:
    """A finished job: the bytes, and whether they came from the cache."""

    job: Job
    data: bytes
    cached: bool


class EncodingJobs:
    """The build's pool: jobs start in order of their estimated time, results wait for them."""

    def __init__(self, workers: int, progress: ProgressSink) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="encode")
        self._progress = progress
        self._started: dict[str, Future[tuple[bytes, bool]]] = {}
        self._caches: list[CompressionCache] = []

    def start(self, jobs: Iterable[Job]) -> None:
        """Queue every job not queued yet, the longest first (a tie keeps the given order)."""
        fresh: dict[str, Job] = {}
        for job in jobs:  # equal input and settings: one job, the first one named
            if job.key not in self._started:
                fresh.setdefault(job.key, job)
        queue = sorted(fresh.values(), key=lambda j: -estimated_seconds(j.settings, j.size))
        for job in queue:  # all in line before the first starts
            self._progress(self._state(job, JobState.WAITING))
        for job in queue:
            if job.cache is not None and all(job.cache is not c for c in self._caches):
                self._caches.append(job.cache)
            self._started[job.key] = self._pool.submit(self._run, job)

    def results(self, jobs: Sequence[Job]) -> list[Encoded]:
        """The results of JOBS in their order, starting any not started yet."""
        self.start(jobs)
        done = [self._started[job.key].result() for job in jobs]
        return [Encoded(job, data, cached) for job, (data, cached) in zip(jobs, done, strict=True)]

    def close(self, *, failed: bool = False) -> None:
        """Stop the pool (dropping what waits if the build FAILED), then bound the cache."""
        self._pool.shutdown(wait=not failed, cancel_futures=True)
        if failed:
            return
        written = {cache.root: cache for cache in self._caches if cache.stats.written}
        for cache in written.values():
            cache.evict()  # once per cache folder, however many handles wrote to it

    def _state(self, job: Job, state: JobState, done: int = 0, cached: bool = False) -> JobProgress:
        total = streamed_bytes(job.settings, job.size)
        return JobProgress(job.name, state, job.size, total, done, cached)

    def _run(self, job: Job) -> tuple[bytes, bool]:
        cache = job.cache
        hit = cache.get(job.key) if cache is not None else None
        if hit is not None:
            self._progress(self._state(job, JobState.DONE, cached=True))
            return hit, True
        self._progress(self._state(job, JobState.RUNNING))

        def told(done: int) -> None:
            self._progress(self._state(job, JobState.RUNNING, done))

        dictionary = job.dictionary.read_bytes() if job.dictionary is not None else None
        packed = compress(job.source.read_bytes(), job.settings, dictionary, told)
        if cache is not None:
            cache.put(job.key, packed)
        self._progress(self._state(job, JobState.DONE))
        return packed, False
