"""Step 7: write manifest.json, the machine-readable truth about the dist (schema 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wasmship import __version__
from wasmship.context import Artifact, BuildContext, Encoding, Target
from wasmship.dcz import available_dictionary
from wasmship.errors import UsageError

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


def artifact_entry(artifact: Artifact) -> dict[str, Any]:
    """One file's manifest entry."""
    return {
        "path": artifact.path,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "integrity": artifact.integrity,
        "content_type": artifact.content_type,
        "immutable": artifact.immutable,
        "encodings": {name: encoding_entry(enc) for name, enc in artifact.encodings.items()},
    }


def encoding_entry(encoding: Encoding) -> dict[str, Any]:
    """One variant's entry; a delta also names its coding and its dictionary (two forms)."""
    entry: dict[str, Any] = {
        "path": encoding.path,
        "size": encoding.size,
        "sha256": encoding.sha256,
    }
    if encoding.coding:
        entry["coding"] = encoding.coding
    if encoding.dictionary:
        entry["dictionary"] = encoding.dictionary
        entry["available_dictionary"] = available_dictionary(encoding.dictionary)
    return entry


def target_entry(ctx: BuildContext, target: Target) -> dict[str, Any]:
    """One target: what was built, how, and its files."""
    config = ctx.config
    return {
        "name": target.name,
        "goos": target.goos,
        "goarch": "wasm",
        "package": target.package.import_path,
        "flags": {
            "trimpath": True,
            "debug_symbols": config.debug_symbols,
            "tags": [*config.tags, *target.tags],
            "ldflags": " ".join(p for p in (config.ldflags, target.ldflags) if p),
            "go_flags": list(config.go_flags),
            "hashed_names": config.hash_names,
            # names only: values may be secrets
            "env": [name for name, _ in target.env],
        },
        "files": {name: artifact_entry(ctx.artifacts[name]) for name in ctx.files_of(target)},
    }


def build_manifest(ctx: BuildContext) -> dict[str, Any]:
    """The manifest as a plain dict: relative paths only, no timestamps."""
    manifest: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "wasmship", "version": __version__},
        "go": {"version": ctx.require_toolchain().goversion},
        "targets": [target_entry(ctx, target) for target in ctx.targets],
    }
    if ctx.previous:
        # Optional (schema 1 extended): hashed files of earlier builds, kept for open tabs.
        manifest["previous"] = [
            {
                **artifact_entry(kept.artifact),
                "generation": kept.generation,
                "target": kept.target,
                "logical": kept.artifact.logical,
            }
            for kept in ctx.previous
        ]
    if ctx.deploy_helpers:
        # Optional (schema 1 extended): server configs beside the files, not served as content.
        manifest["deploy_helpers"] = {
            h.name: {"path": h.path, "size": h.size, "sha256": h.sha256}
            for h in ctx.deploy_helpers.values()
        }
    return manifest


def manifest_or_none(dist: Path) -> dict[str, Any] | None:
    """DIST's manifest as a JSON object, or None when there is none to read."""
    try:
        manifest = json.loads((dist / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def read_manifest(dist: Path) -> dict[str, Any]:
    """DIST's manifest, or a usage error saying why there is none."""
    path = dist / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{dist} has no {MANIFEST}: is it a wasmship dist?") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict):
        raise UsageError(f"{path} is not a JSON object")
    return manifest


def unique_files(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(logical name, entry) for every file of every target, each path once (targets share)."""
    seen: set[str] = set()
    files = []
    for target in manifest.get("targets", []):
        for logical, entry in target.get("files", {}).items():
            if entry["path"] not in seen:
                seen.add(entry["path"])
                files.append((logical, entry))
    return files


def dump_manifest(manifest: dict[str, Any]) -> str:
    """Sorted keys, two-space indent, trailing newline: the same manifest is the same bytes."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_manifest(ctx: BuildContext) -> None:
    """Write manifest.json last, once every other file is in place."""
    ctx.manifest = build_manifest(ctx)
    (ctx.staging / MANIFEST).write_text(dump_manifest(ctx.manifest), encoding="utf-8")
    ctx.notes["manifest"] = MANIFEST
