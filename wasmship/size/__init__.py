"""`wasmship size`: a dist's modules attributed to Go packages, and the change since the build
before (the dist's kept module, compared through its stored size data).

wasm.py reads the module, source.py builds the same sources with names, attribute.py (with
pclntab.py, symbols.py, data.py, estimate.py) splits the bytes, diff.py compares, store.py
keeps the data for the next build, html.py draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmship.distformat.model import KeptFile, Manifest, TargetEntry
from wasmship.distformat.names import MANIFEST
from wasmship.errors import UsageError, WasmshipError
from wasmship.size.attribute import Module, attribute
from wasmship.size.diff import SizeDiff, diff
from wasmship.size.model import ModuleSize
from wasmship.size.source import Source, build_with_names
from wasmship.size.store import load, save
from wasmship.wasm.binary import MAGIC

__all__ = [
    "ModuleSize",
    "SizeDiff",
    "SizeReport",
    "Source",
    "choose_targets",
    "measure",
    "targets_of_package",
]


@dataclass(frozen=True)
class SizeReport:
    """One module's attribution, and its diff against the build before (or why there is none)."""

    size: ModuleSize
    diff: SizeDiff | None
    note: str = ""  # why there is no diff

    def to_json(self) -> dict[str, Any]:
        """The documented document: `{"module", "total", "packages", "diff", ...}`."""
        return {
            **self.size.to_json(),
            "diff": self.diff.to_json() if self.diff else None,
            "diff_note": self.note,
        }


def choose_targets(manifest: Manifest, names: tuple[str, ...], dist: Path) -> list[TargetEntry]:
    """The targets NAMES of MANIFEST, any goos (default: every js target, the modules a browser
    downloads, else every wasip1 one); UsageError for a name it does not have."""
    built = [t for t in manifest.targets if t.module is not None]
    if names:
        known = {t.name: t for t in built}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UsageError(
                f"--target {', '.join(unknown)}: {dist / MANIFEST} has no such target "
                f"(targets: {', '.join(known) or 'none'})"
            )
        return [known[n] for n in names]
    js = [t for t in built if t.goos == "js"]
    if not (js or built):
        raise UsageError(f"{dist / MANIFEST} lists no module to measure")
    return js or built


def targets_of_package(
    manifest: Manifest,
    chosen: list[TargetEntry],
    named: bool,
    package: str,
    import_path: str | None,
    dist: Path,
) -> list[TargetEntry]:
    """Of CHOSEN, the targets built from PACKAGE (IMPORT_PATH, as go resolves it), compared
    with the `package` the manifest records: never another target measured against it."""
    if import_path is None:
        raise UsageError(
            f"PACKAGE {package!r}: go finds no package by that name here; give the main package "
            "of a target (e.g. ./cmd/app), or as DIST a folder holding manifest.json"
        )
    owners = [t for t in manifest.targets if t.package == import_path and t.module is not None]
    if named:  # --target and PACKAGE: they must not name two different targets
        for target in chosen:
            if owners and target not in owners:
                raise UsageError(
                    f"{package} is the package of target {_names(owners)}, not of "
                    f"{target.name}: give --target or PACKAGE, not both"
                )
        return chosen
    if owners:
        return owners
    if len(manifest.targets) > 1:
        listed = ", ".join(f"{t.name} ({t.package})" for t in manifest.targets)
        raise UsageError(
            f"{package} ({import_path}): no target of {dist / MANIFEST} was built from it "
            f"(targets: {listed}); give a target's package, or --target NAME"
        )
    return chosen  # one target: PACKAGE says where its sources are now


def _names(targets: list[TargetEntry]) -> str:
    return ", ".join(t.name for t in targets)


def read_module(dist: Path, target: TargetEntry) -> Module:
    """TARGET's module in DIST, checked to be a WebAssembly module."""
    entry = target.module
    assert entry is not None, "choose_targets keeps targets with a module"
    path = dist / entry.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WasmshipError(
            f"{path} is missing (the manifest lists it): build the dist again"
        ) from None
    if data[: len(MAGIC)] != MAGIC:
        raise WasmshipError(
            f"{path} is not a WebAssembly module (it does not start with \\0asm): the dist is "
            f"damaged; `wasmship verify {dist}` says what changed"
        )
    br = entry.encodings.get("br")
    real_br = br.size if br else None
    return Module(entry.logical, entry.path, target.name, entry.sha256, data, real_br)


def previous(manifest: Manifest, target: TargetEntry) -> KeptFile | None:
    """The module of the most recent earlier build the dist keeps for TARGET."""
    entry = target.module
    kept = [
        k
        for k in manifest.kept
        if entry is not None and k.file.logical == entry.logical and k.target in ("", target.name)
    ]
    return min(kept, key=lambda k: k.generation, default=None)


def compare(
    manifest: Manifest, target: TargetEntry, size: ModuleSize, cache_dir: Path
) -> SizeReport:
    """SIZE with its diff against the dist's kept module for TARGET, when its data is stored."""
    earlier = previous(manifest, target)
    if earlier is None:
        return SizeReport(size, None, "no earlier build in the dist to compare with")
    stored = load(cache_dir, earlier.file.sha256)
    if stored is None:
        return SizeReport(
            size,
            None,
            f"no size data stored for {earlier.file.path} (the build before): `wasmship size` "
            "and `wasmship build --size-report` store it for the next comparison",
        )
    return SizeReport(size, diff(stored, size))


def measure(
    dist: Path,
    manifest: Manifest,
    target: TargetEntry,
    source: Source,
    *,
    go: str,
    environ: Mapping[str, str],
    cache_dir: Path,
) -> SizeReport:
    """TARGET's module attributed to packages (stored for later diffs) and compared."""
    module = read_module(dist, target)
    size = attribute(module, build_with_names(go, source, environ))
    save(cache_dir, size)
    return compare(manifest, target, size, cache_dir)
