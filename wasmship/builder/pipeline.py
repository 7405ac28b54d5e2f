"""The build as a list of named steps over one BuildContext; the CLI is a thin shell over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from wasmship import cachedir
from wasmship.builder.budgets import BudgetResult, check_budgets
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext, Target
from wasmship.builder.inputs import inputs_digest, up_to_date
from wasmship.builder.jobs import EncodingJobs, open_shared
from wasmship.builder.progress import JobProgress
from wasmship.builder.steps.app_manifest import check_app, write_app_manifest
from wasmship.builder.steps.capabilities import check_capabilities
from wasmship.builder.steps.carry import carry_targets, check_carried
from wasmship.builder.steps.compile import (
    compile_module,
    outputs_entry,
    persistent_outputs,
    resolve_targets,
    target_run_dir,
)
from wasmship.builder.steps.compress import compress
from wasmship.builder.steps.deltas import write_deltas
from wasmship.builder.steps.fingerprint import fingerprint
from wasmship.builder.steps.keep import keep_files
from wasmship.builder.steps.loader import write_loader
from wasmship.builder.steps.manifest import write_manifest
from wasmship.builder.steps.offline import write_worker
from wasmship.builder.steps.policy import write_policy
from wasmship.builder.steps.server_config import write_server_config
from wasmship.builder.steps.shim import copy_shim
from wasmship.builder.steps.static import check_static, copy_static
from wasmship.distformat.model import Manifest
from wasmship.distformat.publish import check_target, locked, staged, staging_path
from wasmship.distformat.reader import manifest_or_none
from wasmship.errors import StepFailed, UsageError
from wasmship.toolchain.locate import Toolchain, locate_go, read_toolchain

Step = Callable[[BuildContext], None]

STEPS: tuple[Step, ...] = (
    compile_module,
    check_capabilities,  # after compile: a plugin importing more than it is allowed stops here
    copy_shim,
    fingerprint,
    carry_targets,  # after fingerprint: a shim this build wrote is compared, not carried
    write_loader,  # after carry_targets: the page starts the first js target, built or not
    copy_static,
    write_app_manifest,  # after the static files: it names the icons the static step copied
    write_policy,  # after every page is written, before sw.js lists the pages by integrity
    write_worker,  # after the page and static files: sw.js lists them by integrity
    keep_files,  # before compress: the kept files are the deltas' dictionaries
    compress,  # after every step that writes a file: starts every variant and delta on the
    # pool, longest first (taking what the loader asked for early); waits for the variants
    write_deltas,  # waits for the deltas; keeps those smaller than br
    write_server_config,  # after compress: deploy helpers are never precompressed
    write_manifest,
)
# Steps that write nothing into staging: they run before the dist is found up to date or not.
UNSTAGED: tuple[Step, ...] = (compile_module, check_capabilities)
UP_TO_DATE = "dist up to date: built from the same inputs, left as it was"


class Reporter(Protocol):
    """Where the pipeline tells what it is doing; the CLI renders it, a library caller may not."""

    def step(self, name: str) -> AbstractContextManager[None]: ...  # times one step

    def done(self, name: str, note: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def progress(self, job: JobProgress) -> None: ...  # from the encoding threads: thread-safe


@dataclass
class BuildResult:
    """What a finished build produced."""

    dist: Path
    manifest: Manifest
    timings: dict[str, float] = field(default_factory=dict)
    budgets: list[BudgetResult] = field(default_factory=list)
    up_to_date: bool = False  # the dist was built from the same inputs: left as it was


class SilentReporter:
    """A Reporter that only records timings; the console reporter builds on it."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time one step (the one step timer: every reporter inherits it)."""
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start

    def done(self, name: str, note: str) -> None:
        """A step finished with NOTE (its one-line summary)."""

    def warn(self, message: str) -> None:
        """Something the user should know, that does not stop the build."""

    def progress(self, job: JobProgress) -> None:
        """A long job moved on (a live display shows it; a log has no use for it)."""


def step_name(step: Step) -> str:
    """A step is named after its module: compile, shim, fingerprint, ..."""
    return step.__module__.rsplit(".", 1)[-1]


def preflight(config: BuildConfig) -> tuple[Toolchain, tuple[Target, ...]]:
    """Everything that can be refused before anything is written."""
    specs = config.target_specs()
    names = {spec.name for spec in config.targets} or {spec.name for spec in specs}
    for budget in config.budgets:
        if budget.target not in names:
            raise UsageError(
                f"budget {budget.label}: there is no target {budget.target!r} "
                f"(targets: {', '.join(sorted(names))})"
            )
    go = locate_go(config.go, config.environ)
    run_dir, _ = target_run_dir(config, specs[0])  # go env where the first target builds
    toolchain = read_toolchain(go, run_dir, config.environ)
    # The static folder's clashes, stale shims and references need no compile (nor go list).
    check_static(config, toolchain)
    check_app(config)  # an unreadable or non-image icon, before go build
    targets = resolve_targets(config, toolchain)
    sources = [config.workdir]
    for target in targets:
        sources += [target.package.directory, target.package.run_dir]
    # The path as given: out_path resolves links, and check_target refuses a dangling one.
    check_target(config.workdir / config.out, sources, force=config.force)
    check_carried(config, toolchain.goversion)  # reads the dist check_target accepted
    return toolchain, targets


def run_steps(ctx: BuildContext, steps: Iterable[Step], report: Reporter) -> None:
    """Run STEPS in order, each timed and reported with its note and warnings."""
    for step in steps:
        name = step_name(step)
        try:
            with report.step(name):
                step(ctx)
        except OSError as exc:  # a full disk, a read-only folder: say which step and where
            raise StepFailed(name, exc, str(ctx.config.out_path)) from exc
        report.done(name, ctx.notes.get(name, ""))
        shared = ctx.encoding.warnings() if ctx.encoding is not None else []
        for message in [*ctx.warnings, *shared]:
            report.warn(message)
        ctx.warnings.clear()


@contextmanager
def encoding_pool(ctx: BuildContext, report: Reporter) -> Iterator[None]:
    """Open the build's one encoding pool for the staged steps and close it after them; when
    one fails, drop what waits, so no encoding thread outlives the build. Closing waits a
    bounded time for the shared cache's uploads, whose trouble is a warning."""
    pool = ctx.encoding = EncodingJobs(ctx.config.jobs, ctx.progress, open_shared(ctx.config))
    try:
        yield
    except BaseException:
        pool.close(failed=True)
        raise
    else:
        pool.close()  # then bounds the compression cache
        for message in pool.warnings():
            report.warn(message)
    finally:
        ctx.encoding = None


def publish(ctx: BuildContext, dist: Path, report: Reporter) -> tuple[Manifest, bool]:
    """Compile, then make the rest in staging and swap it in, under the dist's lock.

    Returns the dist's manifest and whether the dist was up to date: compiled from equal inputs
    and whole, it is left exactly as it is (nothing staged, compressed or swapped).
    """
    unstaged = [step for step in STEPS if step in UNSTAGED]
    rest = [step for step in STEPS if step not in UNSTAGED]
    if not ctx.persistent_output:  # --no-cache: go writes into staging; always a new dist
        with staged(dist):
            run_steps(ctx, unstaged, report)
            ctx.inputs = inputs_digest(ctx, manifest_or_none(dist))
            with encoding_pool(ctx, report):
                run_steps(ctx, rest, report)
    else:
        run_steps(ctx, unstaged, report)
        with report.step("publish"):
            old = manifest_or_none(dist)
            ctx.inputs = inputs_digest(ctx, old)
            unchanged = old if old is not None and up_to_date(dist, old, ctx.inputs) else None
        if unchanged is not None:
            report.done("publish", UP_TO_DATE)
            return unchanged, True
        with staged(dist), encoding_pool(ctx, report):
            run_steps(ctx, rest, report)
    assert ctx.manifest is not None, "the manifest step has not run"
    return ctx.manifest, False


def bound_cache(config: BuildConfig, started: float) -> None:
    """Bound the whole cache folder by --cache-max-size, least recently used first; what this
    build used (since STARTED) stays."""
    with suppress(OSError):  # a cache that cannot be bounded never fails the build
        keep = (outputs_entry(config),)
        cachedir.bound(config.cache_root, config.cache_max_size, since=started, keep=keep)


def build(config: BuildConfig, reporter: Reporter | None = None) -> BuildResult:
    """Build the package into its dist folder; the old dist stays until the new one is whole,
    and a dist already built from the same inputs is left alone."""
    report: Reporter = reporter if reporter is not None else SilentReporter()
    started = time.time()
    with report.step("toolchain"):
        toolchain, targets = preflight(config)
    report.done("toolchain", toolchain.goversion)
    try:
        with (
            locked(config.out_path, lock_timeout=config.lock_timeout, on_wait=report.warn) as dist,
            cachedir.hold(outputs_entry(config)) if config.cache else nullcontext(),
        ):
            ctx = BuildContext(
                config=config,
                staging=staging_path(dist),
                toolchain=toolchain,
                targets=targets,
                persistent_output=persistent_outputs(config, targets),
                progress=report.progress,
            )
            manifest, unchanged = publish(ctx, dist, report)
    except OSError as exc:  # the lock, staging or the swap
        raise StepFailed("publish", exc, str(config.out_path)) from exc
    if config.cache and not unchanged:  # an up-to-date build added nothing to the cache
        bound_cache(config, started)
    return BuildResult(
        dist=config.out_path,
        manifest=manifest,
        timings=dict(getattr(report, "timings", {})),
        # Budgets guard the dist: a carried target's module is checked as a built one is; the
        # budget of a target the dist does not hold yet waits for the build that makes it.
        budgets=check_budgets(manifest, [b for b in config.budgets if manifest.target(b.target)]),
        up_to_date=unchanged,
    )
