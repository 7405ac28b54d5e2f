"""The build as a list of named steps over one BuildContext; the CLI is a thin shell over it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wasmship.config import BuildConfig
from wasmship.context import BuildContext, GoPackage, Toolchain
from wasmship.steps.compile import compile_module, resolve_package, run_dir_for
from wasmship.steps.compress import compress
from wasmship.steps.fingerprint import fingerprint
from wasmship.steps.loader import write_loader
from wasmship.steps.manifest import write_manifest
from wasmship.steps.publish import check_target, staging
from wasmship.steps.server_config import write_server_config
from wasmship.steps.shim import copy_shim
from wasmship.steps.toolchain import locate_go, read_toolchain

Step = Callable[[BuildContext], None]

STEPS: tuple[Step, ...] = (
    compile_module,
    copy_shim,
    fingerprint,
    write_loader,
    compress,
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


def preflight(config: BuildConfig) -> tuple[Toolchain, GoPackage]:
    """Everything that can be refused before anything is written."""
    go = locate_go(config.go, config.environ)
    run_dir, _ = run_dir_for(config)
    toolchain = read_toolchain(go, run_dir, config.environ)
    package = resolve_package(config, toolchain)
    check_target(
        config.out_path,
        [package.directory, package.run_dir, config.workdir],
        force=config.force,
    )
    return toolchain, package


def build(config: BuildConfig, reporter: Reporter | None = None) -> BuildResult:
    """Build the package into its dist folder; the old dist stays until the new one is whole."""
    report: Reporter = reporter if reporter is not None else SilentReporter()
    with report.step("toolchain"):
        toolchain, package = preflight(config)
    report.done("toolchain", f"{toolchain.goversion}, {package.import_path}")
    with staging(config.out_path, lock_timeout=config.lock_timeout, on_wait=report.warn) as folder:
        ctx = BuildContext(config=config, staging=folder, toolchain=toolchain, package=package)
        for step in STEPS:
            name = step_name(step)
            with report.step(name):
                step(ctx)
            report.done(name, ctx.notes.get(name, ""))
    timings = getattr(report, "timings", {})
    return BuildResult(dist=config.out_path, manifest=ctx.manifest, timings=dict(timings))
