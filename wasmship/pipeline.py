"""The build as a list of named steps over one BuildContext; the CLI is a thin shell over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wasmship.budget import BudgetResult, check_budgets
from wasmship.config import BuildConfig
from wasmship.context import BuildContext, Target, Toolchain
from wasmship.errors import UsageError
from wasmship.steps.compile import compile_module, resolve_targets, run_dir_for
from wasmship.steps.compress import compress
from wasmship.steps.deltas import write_deltas
from wasmship.steps.fingerprint import fingerprint
from wasmship.steps.generations import keep_generations
from wasmship.steps.loader import write_loader
from wasmship.steps.manifest import write_manifest
from wasmship.steps.publish import check_target, staging
from wasmship.steps.server_config import write_server_config
from wasmship.steps.shim import copy_shim
from wasmship.steps.static import copy_static
from wasmship.steps.toolchain import locate_go, read_toolchain

Step = Callable[[BuildContext], None]

STEPS: tuple[Step, ...] = (
    compile_module,
    copy_shim,
    fingerprint,
    write_loader,
    copy_static,
    compress,
    keep_generations,  # after compress: the new build's names are known, old ones are skipped
    write_deltas,  # after keep_generations: the kept files are the dictionaries
    write_server_config,  # after compress: deploy helpers are never precompressed
    write_manifest,
)


class Reporter(Protocol):
    """Where the pipeline tells what it is doing; the CLI renders it, a library caller may not."""

    def step(self, name: str) -> Any: ...  # a context manager timing one step

    def done(self, name: str, note: str) -> None: ...

    def warn(self, message: str) -> None: ...


@dataclass
class BuildResult:
    """What a finished build produced."""

    dist: Path
    manifest: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    budgets: list[BudgetResult] = field(default_factory=list)


class SilentReporter:
    """A Reporter that only records timings."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start

    def done(self, name: str, note: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


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
    run_dir, _ = run_dir_for(config.workdir, specs[0].package)
    toolchain = read_toolchain(go, run_dir, config.environ)
    targets = resolve_targets(config, toolchain)
    sources = [config.workdir]
    for target in targets:
        sources += [target.package.directory, target.package.run_dir]
    check_target(config.out_path, sources, force=config.force)
    return toolchain, targets


def build(config: BuildConfig, reporter: Reporter | None = None) -> BuildResult:
    """Build the package into its dist folder; the old dist stays until the new one is whole."""
    report: Reporter = reporter if reporter is not None else SilentReporter()
    with report.step("toolchain"):
        toolchain, targets = preflight(config)
    report.done("toolchain", toolchain.goversion)
    with staging(config.out_path, lock_timeout=config.lock_timeout, on_wait=report.warn) as folder:
        ctx = BuildContext(config=config, staging=folder, toolchain=toolchain, targets=targets)
        for step in STEPS:
            name = step_name(step)
            with report.step(name):
                step(ctx)
            report.done(name, ctx.notes.get(name, ""))
            for message in ctx.warnings:
                report.warn(message)
            ctx.warnings.clear()
    timings = getattr(report, "timings", {})
    return BuildResult(
        dist=config.out_path,
        manifest=ctx.manifest,
        timings=dict(timings),
        # Budgets of targets that --target left out wait for the build that makes them.
        budgets=check_budgets(
            ctx.manifest, [b for b in config.budgets if b.target in {t.name for t in targets}]
        ),
    )
