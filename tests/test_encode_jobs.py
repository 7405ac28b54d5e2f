"""Encoding as one set of jobs: streamed encoders keep one-shot's bytes, the longest job starts
first, deltas start with the variants, and the cache and progress events say what happened."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import pytest
import zopfli.gzip
import zstandard

from tests.conftest import FIXTURES, Go, base_env
from wasmship.builder import jobs, pipeline
from wasmship.builder.cache import CompressionCache
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext
from wasmship.builder.jobs import EncodingJobs, Job
from wasmship.builder.pipeline import SilentReporter, build
from wasmship.builder.progress import JobProgress, JobState
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import Hosting
from wasmship.encodings import dcz, streaming
from wasmship.encodings.encoders import (
    DELTA_LEVELS,
    SECONDS_PER_MB,
    GzipEncoder,
    Profile,
    Settings,
    compress,
    delta_settings,
    encoders,
    streamed_bytes,
)
from wasmship.errors import StepFailed


@dataclass(frozen=True)
class Inputs:
    """Real inputs: two versions of a Go module (one line apart) and a text file over 1 MiB."""

    module: bytes
    previous: bytes
    text: bytes


def go_build(go: Go, source: Path, out: Path) -> bytes:
    env = base_env(GOOS="js", GOARCH="wasm", CGO_ENABLED="0")
    cmd = [go.binary, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."]
    subprocess.run(cmd, cwd=source, env=env, check=True, capture_output=True)
    return out.read_bytes()


@pytest.fixture(scope="session")
def inputs(go: Go, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    root = tmp_path_factory.mktemp("encode-inputs")
    source = root / "hello"
    shutil.copytree(FIXTURES / "hello", source)
    previous = go_build(go, source, root / "v1.wasm")
    main = source / "main.go"
    main.write_text(main.read_text().replace("fmt.Println(message)", 'fmt.Println(message, "v2")'))
    module = go_build(go, source, root / "v2.wasm")
    # Go's own net/http sources: real text, and more than brotli's 1 MiB size-hint threshold.
    text = b"".join(p.read_bytes() for p in sorted((go.goroot / "src/net/http").glob("*.go")))
    assert module != previous and len(module) > 2 << 20 and len(text) > 1 << 20
    return Inputs(module, previous, text[: 1300 * 1024])


def streamed(
    data: bytes, settings: Settings, dictionary: bytes | None = None
) -> tuple[bytes, list[int]]:
    told: list[int] = []
    return compress(data, settings, dictionary, told.append), told


def one_shot_gzip(data: bytes, level: int, strategies: list[int]) -> bytes:
    packed = []
    for strategy in strategies:
        packer = zlib.compressobj(level, zlib.DEFLATED, 31, 8, strategy)
        packed.append(packer.compress(data) + packer.flush())
    return min(packed, key=len)  # min keeps the first of equal lengths, as the encoder does


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("kind", ["module", "text"])
def test_streamed_brotli_equals_one_shot(inputs: Inputs, profile: Profile, kind: str) -> None:
    data = inputs.module if kind == "module" else inputs.text
    content_type = "application/wasm" if kind == "module" else "text/javascript"
    settings = encoders(profile)[0].settings_for(len(data), content_type)
    assert settings.codec == "brotli" and settings.mode == (
        "generic" if kind == "module" else "text"
    )
    mode = brotli.MODE_TEXT if settings.mode == "text" else brotli.MODE_GENERIC
    reference = brotli.compress(data, mode=mode, quality=settings.level, lgwin=settings.window)
    packed, told = streamed(data, settings)
    assert packed == reference
    # Told after each 1 MiB read, up to the whole file.
    assert told == [
        min(len(data), n)
        for n in range(streaming.CHUNK, len(data) + streaming.CHUNK, streaming.CHUNK)
    ]
    assert told[-1] == streamed_bytes(settings, len(data))


def test_brotli_fed_in_small_first_chunks_writes_other_bytes(inputs: Inputs) -> None:
    # Why the first chunk is 1 MiB: below it, brotli (q5 here) fixes a small size hint and
    # chooses another hasher. The identity tests above would catch a smaller CHUNK.
    data = inputs.text
    reference = brotli.compress(data, quality=5, lgwin=22)
    packer = brotli.Compressor(quality=5, lgwin=22)
    small = b"".join(packer.process(data[i : i + 65536]) for i in range(0, len(data), 65536))
    assert small + packer.finish() != reference


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("kind", ["module", "text"])
def test_streamed_gzip_equals_one_shot(inputs: Inputs, profile: Profile, kind: str) -> None:
    data = inputs.module if kind == "module" else inputs.text
    settings = encoders(profile)[1].settings_for(len(data), "application/wasm")
    strategies = [0, 1] if profile is Profile.RELEASE else [0]
    assert settings.codec == "gzip" and len(settings.mode.split(",")) == len(strategies)
    packed, told = streamed(data, settings)
    assert packed == one_shot_gzip(data, settings.level, strategies)
    assert told[-1] == streamed_bytes(settings, len(data)) == len(data) * len(strategies)
    assert told == sorted(told)


@pytest.mark.parametrize("profile", list(Profile))
def test_zstd_and_deltas_run_in_one_call_and_report_no_bytes(
    inputs: Inputs, profile: Profile
) -> None:
    data = inputs.module
    settings = encoders(profile, zstd=True)[2].settings_for(len(data), "application/wasm")
    params = zstandard.ZstdCompressionParameters.from_level(
        settings.level, source_size=len(data), window_log=settings.window
    )
    packed, told = streamed(data, settings)
    assert packed == zstandard.ZstdCompressor(compression_params=params).compress(data)
    assert told == [] and streamed_bytes(settings, len(data)) == 0
    sha = hashlib.sha256(inputs.previous).hexdigest()
    delta = delta_settings(profile, len(data), sha)
    body, told = streamed(data, delta, inputs.previous)
    assert body == dcz.compress(data, inputs.previous, DELTA_LEVELS[profile])
    assert told == [] and streamed_bytes(delta, len(data)) == 0
    assert dcz.decompress(body, inputs.previous, len(data)) == data


def test_zopfli_runs_in_one_call(inputs: Inputs) -> None:
    data = inputs.text[: 64 * 1024]  # zopfli is slow: a slice shows the same
    settings = encoders(Profile.RELEASE, GzipEncoder.ZOPFLI)[1].settings_for(len(data), "text/css")
    packed, told = streamed(data, settings)
    assert packed == zopfli.gzip.compress(data, numiterations=settings.level)
    assert told == []


def test_every_chosen_setting_has_a_time_estimate() -> None:
    chosen = {
        (e.codec, e.level)
        for profile in Profile
        for gzip in GzipEncoder
        for e in encoders(profile, gzip, zstd=True)
    }
    chosen |= {("dcz", level) for level in DELTA_LEVELS.values()}
    assert chosen <= set(SECONDS_PER_MB)


def job(
    folder: Path,
    name: str,
    data: bytes,
    settings: Settings,
    dictionary: Path | None = None,
    cache: CompressionCache | None = None,
) -> Job:
    """A job over DATA written to FOLDER/NAME."""
    (folder / name).write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return Job(
        f"{name} {settings.codec}", folder / name, sha, len(data), settings, dictionary, cache
    )


class Recorder:
    """A progress sink that keeps every event, from whichever thread."""

    def __init__(self) -> None:
        self.events: list[JobProgress] = []
        self._lock = threading.Lock()

    def __call__(self, event: JobProgress) -> None:
        with self._lock:
            self.events.append(event)

    def order(self, state: JobState) -> list[str]:
        """The jobs in the order they first reached STATE."""
        return list(dict.fromkeys(e.name for e in self.events if e.state is state))


def test_the_longest_job_starts_first_and_results_equal_compress(
    inputs: Inputs, tmp_path: Path
) -> None:
    fast = encoders(Profile.FAST)
    small = inputs.text[:20_000]
    jobs = [
        job(tmp_path, "small.js", small, fast[0].settings_for(len(small), "text/javascript")),
        job(
            tmp_path,
            "main.wasm",
            inputs.module,
            fast[1].settings_for(len(inputs.module), "application/wasm"),
        ),
        job(
            tmp_path,
            "main.wasm",
            inputs.module,
            fast[0].settings_for(len(inputs.module), "application/wasm"),
        ),
    ]
    sha = hashlib.sha256(inputs.previous).hexdigest()
    (tmp_path / "old.wasm").write_bytes(inputs.previous)
    settings = delta_settings(Profile.FAST, len(inputs.module), sha)
    delta = job(tmp_path, "main.wasm", inputs.module, settings, dictionary=tmp_path / "old.wasm")
    recorder = Recorder()
    pool = EncodingJobs(1, recorder)  # one worker: the queue order is the run order
    pool.start([*jobs, delta])
    assert recorder.order(JobState.WAITING)[-1] == "small.js brotli"  # queued last, the shortest
    made = pool.results([delta, *jobs])  # any order: results follow the jobs asked for
    pool.close()
    assert [m.job for m in made] == [delta, *jobs]
    assert made[0].data == compress(inputs.module, settings, inputs.previous)
    for result in made[1:]:
        data = (tmp_path / result.job.source.name).read_bytes()
        assert result.data == compress(data, result.job.settings) and not result.cached
    # gzip 6 and the delta (equal estimates) before brotli 5 of the module; the small file last.
    assert recorder.order(JobState.RUNNING) == [
        "main.wasm gzip",
        "main.wasm dcz",
        "main.wasm brotli",
        "small.js brotli",
    ]
    size = len(inputs.module)
    brotli_told = [
        e.done
        for e in recorder.events
        if e.name == "main.wasm brotli" and e.state is JobState.RUNNING
    ]
    assert brotli_told == [0, *(min(size, n) for n in range(1 << 20, size + (1 << 20), 1 << 20))]


def test_the_cache_answers_a_second_pool_and_equal_jobs_run_once(
    inputs: Inputs, tmp_path: Path
) -> None:
    cache = CompressionCache(tmp_path / "cache")
    settings = encoders(Profile.FAST)[1].settings_for(len(inputs.text), "text/plain")
    twin = job(tmp_path, "b.txt", inputs.text, settings, cache=cache)
    first = [job(tmp_path, "a.txt", inputs.text, settings, cache=cache), twin]
    recorder = Recorder()
    pool = EncodingJobs(2, recorder)
    made = pool.results(first)
    pool.close()
    assert made[0].data == made[1].data and not made[0].cached
    assert recorder.order(JobState.WAITING) == ["a.txt gzip"]  # same input and settings: one job
    assert cache.stats.written == 1
    again = Recorder()
    pool = EncodingJobs(2, again)
    (hit,) = pool.results([twin])
    pool.close()
    assert hit.cached and hit.data == made[0].data
    assert [(e.state, e.cached) for e in again.events] == [
        (JobState.WAITING, False),
        (JobState.DONE, True),
    ]


class StepRecorder(SilentReporter):
    """Keeps each progress event with the step that was running when it came."""

    def __init__(self) -> None:
        super().__init__()
        self.current = ""
        self.events: list[tuple[str, JobProgress]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        with super().step(name):
            yield

    def progress(self, job: JobProgress) -> None:
        self.events.append((self.current, job))


def test_a_delta_starts_with_the_variants_not_after_them(
    go: Go, hello: Path, tmp_path: Path
) -> None:
    # One worker and no cache: every job runs, in queue order.
    config = BuildConfig(workdir=hello, go=go.binary, profile=Profile.FAST, jobs=1, cache=False)
    build(config, SilentReporter())
    main = hello / "main.go"
    main.write_text(main.read_text().replace("fmt.Println(message)", 'fmt.Println(message, "v2")'))
    reporter = StepRecorder()
    result = build(config, reporter)
    delta = next(j for _, j in reporter.events if " dcz from " in j.name)
    queued = [(step, j.name) for step, j in reporter.events if j.state is JobState.WAITING]
    assert ("compress", delta.name) in queued  # queued by compress, with the variants
    started = list(dict.fromkeys(j.name for _, j in reporter.events if j.state is JobState.RUNNING))
    # One worker, longest first: the delta runs before every variant of the small files.
    shim = next(name for name in started if name.startswith("wasm_exec."))
    assert started.index(delta.name) < started.index(shim)
    assert {"keep", "compress", "deltas"} <= set(result.timings)
    module = result.manifest.targets[0].files["main.wasm"]
    assert len(module.deltas) == 1


def test_each_file_is_encoded_once_though_the_loader_needs_the_module_s_variants_early(
    go: Go, hello: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --hosting static: the loader names the module's .br and .gz (sizes included) before the
    # compress step runs; compress takes those jobs' results from the pool, not encoding again.
    encoded: list[tuple[str, str]] = []
    lock = threading.Lock()
    real = jobs.compress

    def counted(data: bytes, settings: Settings, *rest: Any) -> bytes:
        with lock:
            encoded.append((sha256_hex(data), settings.codec))
        return real(data, settings, *rest)

    monkeypatch.setattr(jobs, "compress", counted)
    config = BuildConfig(
        workdir=hello, go=go.binary, profile=Profile.FAST, cache=False, hosting=Hosting.STATIC
    )
    reporter = StepRecorder()
    result = build(config, reporter)
    module = result.manifest.targets[0].files["main.wasm"]
    assert sorted(c for sha, c in encoded if sha == module.sha256) == ["brotli", "gzip"]
    assert len(encoded) == len(set(encoded))  # every other file too: once per setting
    assert {v.key for v in module.variants} == {"br", "gzip"}
    queued = [(step, j.name) for step, j in reporter.events if j.state is JobState.WAITING]
    early = sorted(name for step, name in queued if step == "loader")
    assert early == [f"{module.path} br", f"{module.path} gzip"]
    names = [name for _, name in queued]
    assert all(names.count(name) == 1 for name in early)  # not queued again by compress


def encoding_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("encode")}


def test_the_pipeline_closes_its_pool_after_the_steps(go: Go, hello: Path) -> None:
    before = encoding_threads()
    build(BuildConfig(workdir=hello, go=go.binary, profile=Profile.FAST, cache=False))
    assert encoding_threads() - before == set()


def test_a_failed_step_closes_the_pool_and_leaves_no_thread(
    go: Go, hello: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[EncodingJobs] = []

    def server_config(ctx: BuildContext) -> None:  # a full disk, after the deltas
        seen.append(ctx.pool)
        raise OSError(28, "No space left on device")

    steps = [server_config if s is pipeline.write_server_config else s for s in pipeline.STEPS]
    monkeypatch.setattr(pipeline, "STEPS", tuple(steps))
    before = encoding_threads()
    config = BuildConfig(workdir=hello, go=go.binary, profile=Profile.FAST, cache=False)
    with pytest.raises(StepFailed):
        build(config)
    (pool,) = seen
    settings = encoders(Profile.FAST)[1].settings_for(400, "text/plain")
    with pytest.raises(RuntimeError):  # shut down: it takes no more work
        pool.start([job(hello, "late.txt", b"late" * 100, settings)])
    for thread in encoding_threads() - before:
        thread.join(timeout=10)
    assert {t for t in encoding_threads() - before if t.is_alive()} == set()
