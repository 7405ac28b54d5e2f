"""`wasmship verify DIST`: check a dist against its manifest byte for byte; report every problem.

files.py checks the listed files and their variants, references.py what the pages, scripts and
web manifests reference; the manifest's rules about itself are wasmship.distformat.consistency's.
"""

from __future__ import annotations

from pathlib import Path

from wasmship.distformat.consistency import json_path
from wasmship.distformat.model import Manifest
from wasmship.distformat.names import LOADER, MANIFEST
from wasmship.distformat.reader import load_document, parse_manifest, require_dist_folder
from wasmship.distformat.schema import schema_problems
from wasmship.errors import DistError, ManifestError
from wasmship.verify.files import Checker
from wasmship.verify.policy import check_policies
from wasmship.verify.references import check_references
from wasmship.verify.verdict import Problem, Severity, Verification

__all__ = ["Problem", "Severity", "Verification", "verify_dist"]


def _manifest(dist: Path, check: Checker) -> Manifest | None:
    """DIST's typed manifest, with every schema problem reported; None when it cannot be read."""
    require_dist_folder(dist)
    if not (dist / MANIFEST).is_file():
        raise DistError(
            f"{dist}: no {MANIFEST}; this is not a wasmship dist (build one with `wasmship build`)"
        )
    try:
        document = load_document(dist)
    except DistError as exc:
        if not isinstance(exc.__cause__, ValueError):
            raise
        check.error(MANIFEST, f"not valid JSON ({exc.__cause__})")
        return None
    problems = list(schema_problems(document))
    for message in problems:
        check.error(MANIFEST, message)
    try:
        return parse_manifest(document)
    except ManifestError as exc:
        if not problems:  # else the schema has said it, with its path
            check.error(MANIFEST, str(exc))
        return None


def verify_dist(dist: Path, *, strict: bool = False) -> Verification:
    """Check DIST against its manifest.json; every problem is collected, none stops the rest."""
    dist = Path(dist)
    check = Checker(dist=dist, strict=strict)
    manifest = _manifest(dist, check)
    if manifest is None:
        return _result(check)
    check.routes, check.go_version = manifest.routes, manifest.go_version
    for i, kept in enumerate(manifest.kept):
        # First: the kept files are the dictionaries of the deltas.
        check.entry(kept.file, json_path("previous", i))
    current: list[str] = []  # the current build's files, each once: what references are read in
    loader_page = any(LOADER in target.files for target in manifest.targets)
    for i, target in enumerate(manifest.targets):
        for logical, entry in sorted(target.files.items()):
            if check.entry(entry, json_path("targets", i, "files", logical)):
                current.append(entry.path)
    for name, helper in sorted(manifest.deploy_helpers.items()):
        if check.claim(helper.path, json_path("deploy_helpers", name), helper):
            check.file(helper.path, helper.size, helper.sha256)
    check.spa = manifest.spa
    check_references(check, current, loader_page=loader_page)
    check_policies(check, current, manifest.headers)
    check.strays()
    return _result(check)


def _result(check: Checker) -> Verification:
    return Verification(
        dist=check.dist,
        strict=check.strict,
        checked=tuple(check.checked),
        problems=tuple(check.problems),
    )
