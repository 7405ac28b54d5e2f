"""A build's encoding work as one set of jobs on one pool of --jobs threads, the longest first.

Every variant (a file in one encoding) and every dcz delta is a job. The compress step starts
them all at once, ordered by an estimate of their time (size times the codec's cost per byte),
so the slowest brotli starts first and the other threads take the deltas and the rest beside
it. Each step then waits only for the jobs it needs. Every codec releases the GIL while it
compresses (benchmarks/gil.py), so threads use every core without copying files around; a job
reads its file when it starts, so at most one input per thread is in memory.

A job looks in the local cache, then in the shared one (builder/shared_cache.py), and only then
compresses; an entry of the shared cache is used only when it decodes to exactly the job's
input (decodes_to_input), and what the job compresses is uploaded beside the build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.builder.cache import CompressionCache, cache_key
from wasmship.builder.config import BuildConfig
from wasmship.builder.progress import JobProgress, JobState, ProgressSink
from wasmship.builder.shared_cache import SharedCache, entry_limit, parse_cache_url
from wasmship.encodings import dcz
from wasmship.encodings.decoders import DecodeError, decode
from wasmship.encodings.encoders import Settings, compress, estimated_seconds, streamed_bytes

# The Content-Encoding each codec writes, to decode an entry of the shared cache with.
CODINGS = {"brotli": "br", "gzip": "gzip", "zopfli": "gzip", "zstd": "zstd"}


def open_cache(config: BuildConfig) -> CompressionCache | None:
    """A handle on the cache this build uses (its own counts), or None with --no-cache."""
    if not config.cache:
        return None
    return CompressionCache(root=config.cache_root, max_size=config.cache_max_size)


def open_shared(config: BuildConfig) -> SharedCache | None:
    """The build's handle on the shared cache (--cache-url), or None without one or a cache."""
    if not config.cache or not config.cache_url:
        return None
    return SharedCache(parse_cache_url(config.cache_url, config.environ))


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

    def __init__(
        self, workers: int, progress: ProgressSink, shared: SharedCache | None = None
    ) -> None:
        self.shared = shared
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
        if self.shared is not None:
            self.shared.close()
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
        if hit is None and cache is not None and self.shared is not None:
            hit = self._from_shared(job)
            if hit is not None:
                cache.put(job.key, hit)
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
            if self.shared is not None:
                self.shared.put(job.key, packed)
        self._progress(self._state(job, JobState.DONE))
        return packed, False

    def warnings(self) -> list[str]:
        """The shared cache's warnings not shown yet."""
        return self.shared.drain_warnings() if self.shared is not None else []

    def _from_shared(self, job: Job) -> bytes | None:
        """JOB's entry in the shared cache, if there is one and it decodes to JOB's input."""
        assert self.shared is not None
        entry = self.shared.get(job.key, entry_limit(job.size))
        if entry is None:
            return None
        if not decodes_to_input(job, entry):
            self.shared.rejected(job.key)  # the upload of the right bytes overwrites it
            return None
        self.shared.accepted()
        return entry


def decodes_to_input(job: Job, entry: bytes) -> bool:
    """Whether ENTRY decodes (bounded by the input's size) to exactly JOB's input."""
    try:
        if job.settings.codec == "dcz":
            if job.dictionary is None:
                return False
            decoded = dcz.decompress(entry, job.dictionary.read_bytes(), job.size)
        elif job.settings.codec in CODINGS:
            decoded = decode(entry, CODINGS[job.settings.codec], max_size=job.size)
        else:
            return False
    except (DecodeError, dcz.DczError, ValueError):
        return False
    return len(decoded) == job.size and hashlib.sha256(decoded).hexdigest() == job.sha256
