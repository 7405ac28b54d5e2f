"""The build as a list of named steps over one BuildContext; the CLI is a thin shell over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from wasmship.build.budgets import BudgetResult, check_budgets
from wasmship.build.config import BuildConfig
from wasmship.build.context import BuildContext, Target
from wasmship.build.steps.carry import carry_targets, check_go_version
from wasmship.build.steps.compile import compile_module, resolve_targets, target_run_dir
from wasmship.build.steps.compress import compress
from wasmship.build.steps.deltas import write_deltas
from wasmship.build.steps.fingerprint import fingerprint
from wasmship.build.steps.keep import keep_files
from wasmship.build.steps.loader import write_loader
from wasmship.build.steps.manifest import write_manifest
from wasmship.build.steps.server_config import write_server_config
from wasmship.build.steps.shim import copy_shim
from wasmship.build.steps.static import check_static, copy_static
from wasmship.build.toolchain import Toolchain, locate_go, read_toolchain
from wasmship.dist.manifest import Manifest
from wasmship.dist.publish import check_target, staging
from wasmship.errors import StepFailed, UsageError

Step = Callable[[BuildContext], None]

STEPS: tuple[Step, ...] = (
    compile_module,
    copy_shim,
    fingerprint,
    carry_targets,  # after fingerprint: a shim this build wrote is compared, not carried
    write_loader,  # after carry_targets: the page starts the first js target, built or not
    copy_static,
    compress,
    keep_files,  # after compress: the new build's names are known, old ones are skipped
    write_deltas,  # after keep_files: the kept files are the dictionaries
    write_server_config,  # after compress: deploy helpers are never precompressed
    write_manifest,
)


class Reporter(Protocol):
    """Where the pipeline tells what it is doing; the CLI renders it, a library caller may not."""

    def step(self, name: str) -> AbstractContextManager[None]: ...  # times one step

    def done(self, name: str, note: str) -> None: ...

    def warn(self, message: str) -> None: ...


@dataclass
class BuildResult:
    """What a finished build produced."""

    dist: Path
    manifest: Manifest
    timings: dict[str, float] = field(default_factory=dict)
    budgets: list[BudgetResult] = field(default_factory=list)


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
    targets = resolve_targets(config, toolchain)
    sources = [config.workdir]
    for target in targets:
        sources += [target.package.directory, target.package.run_dir]
    # The path as given: out_path resolves links, and check_target refuses a dangling one.
    check_target(config.workdir / config.out, sources, force=config.force)
    check_go_version(config, toolchain.goversion)  # reads the dist check_target accepted
    return toolchain, targets


def build(config: BuildConfig, reporter: Reporter | None = None) -> BuildResult:
    """Build the package into its dist folder; the old dist stays until the new one is whole."""
    report: Reporter = reporter if reporter is not None else SilentReporter()
    with report.step("toolchain"):
        toolchain, targets = preflight(config)
    report.done("toolchain", toolchain.goversion)
    name = "publish"  # the step a system error is reported against
    try:
        with staging(
            config.out_path, lock_timeout=config.lock_timeout, on_wait=report.warn
        ) as folder:
            ctx = BuildContext(config=config, staging=folder, toolchain=toolchain, targets=targets)
            for step in STEPS:
                name = step_name(step)
                with report.step(name):
                    step(ctx)
                report.done(name, ctx.notes.get(name, ""))
                for message in ctx.warnings:
                    report.warn(message)
                ctx.warnings.clear()
            name = "publish"
    except OSError as exc:  # a full disk, a read-only folder: say which step and where
        raise StepFailed(name, exc, str(config.out_path)) from exc
    timings = getattr(report, "timings", {})
    assert ctx.manifest is not None, "the manifest step has not run"
    return BuildResult(
        dist=config.out_path,
        manifest=ctx.manifest,
        timings=dict(timings),
        # Budgets guard the dist: a carried target's module is checked as a built one is; the
        # budget of a target the dist does not hold yet waits for the build that makes it.
        budgets=check_budgets(
            ctx.manifest, [b for b in config.budgets if ctx.manifest.target(b.target)]
        ),
    )
