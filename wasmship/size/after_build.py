"""Size reports for a build that just finished (`wasmship build --size-report`, and a budget
failure that says which packages grew)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.builder.steps.compile import resolve_targets, target_run_dir
from wasmship.distformat.model import Manifest
from wasmship.size import SizeReport, measure, previous
from wasmship.size.source import source_of_build
from wasmship.size.store import load
from wasmship.toolchain.locate import locate_go, read_toolchain


def size_reports(
    config: BuildConfig, manifest: Manifest, dist: Path, only: Iterable[str] = ()
) -> dict[str, SizeReport]:
    """Each js target this build made (or those named ONLY), attributed, stored and diffed."""
    wanted = set(only)
    built = {spec.name for spec in config.target_specs()}
    entries = [
        t
        for t in manifest.targets
        if t.goos == "js" and t.module is not None and t.name in built
        if not wanted or t.name in wanted
    ]
    if not entries:
        return {}
    go = locate_go(config.go, config.environ)
    run_dir, _ = target_run_dir(config, config.target_specs()[0])
    targets = {
        t.name: t for t in resolve_targets(config, read_toolchain(go, run_dir, config.environ))
    }
    reports = {}
    for entry in entries:
        source = source_of_build(config, targets[entry.name])
        reports[entry.name] = measure(
            dist,
            manifest,
            entry,
            source,
            go=go,
            environ=config.environ,
            cache_dir=config.cache_root,
        )
    return reports


def growth_lines(
    config: BuildConfig, manifest: Manifest, dist: Path, targets: Iterable[str]
) -> dict[str, str]:
    """For a budget failure: per target, the diff's line, or why there is none."""
    names = list(targets)
    lines: dict[str, str] = {}
    measurable = []
    for name in names:
        entry = manifest.target(name)
        earlier = previous(manifest, entry) if entry is not None else None
        if earlier is None:
            continue  # nothing to compare with: the budget line says enough
        if load(config.cache_root, earlier.file.sha256) is None:
            lines[name] = (
                "no size data stored for the build before: build with --size-report to see "
                "which packages grow"
            )
        else:
            measurable.append(name)
    if measurable:
        for name, report in size_reports(config, manifest, dist, measurable).items():
            lines[name] = report.diff.line() if report.diff else report.note
    return lines
