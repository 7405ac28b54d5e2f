"""The one reader of manifest.json: JSON in, a typed Manifest out, or an error naming where."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wasmship.distformat import bounds
from wasmship.distformat.digests import available_dictionary
from wasmship.distformat.model import (
    SCHEMA_VERSION,
    TOOL_NAME,
    BuildFlags,
    DeployHelper,
    FileEntry,
    Hosting,
    KeptFile,
    Manifest,
    Offline,
    TargetEntry,
    Variant,
)
from wasmship.distformat.names import MANIFEST, TARGET_NAME_RULE, is_target_name
from wasmship.distformat.plugin import parse_interface
from wasmship.errors import DistError, ManifestError


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where}: expected an object, found {bounds.shown(value)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: expected a non-empty string, found {bounds.shown(value)}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}: expected a list of strings, found {bounds.shown(value)}")
    return tuple(value)


def _parse_variant(key: str, raw: object, where: str) -> Variant:
    found = _object(raw, where)
    dictionary = found.get("dictionary")
    variant = Variant(
        key=key,
        path=_text(found.get("path"), f"{where}.path"),
        size=bounds.size(found.get("size"), f"{where}.size"),
        sha256=bounds.sha256(found.get("sha256"), f"{where}.sha256"),
        coding=bounds.coding(found.get("coding", key), f"{where}.coding"),
        dictionary=None if dictionary is None else bounds.sha256(dictionary, f"{where}.dictionary"),
    )
    available = found.get("available_dictionary")
    if variant.dictionary is not None and available is not None:
        try:
            expected = available_dictionary(variant.dictionary)
        except ValueError:
            raise ManifestError(f"{where}.dictionary: not a hex SHA-256") from None
        if available != expected:
            raise ManifestError(
                f"{where}.available_dictionary: {bounds.shown(available)} "
                "is not the dictionary's hash"
            )
    return variant


def _parse_file(logical: str, raw: object, where: str) -> FileEntry:
    found = _object(raw, where)
    encodings = _object(found.get("encodings", {}), f"{where}.encodings")
    return FileEntry(
        logical=logical,
        path=_text(found.get("path"), f"{where}.path"),
        size=bounds.size(found.get("size"), f"{where}.size"),
        sha256=bounds.sha256(found.get("sha256"), f"{where}.sha256"),
        integrity=_text(found.get("integrity"), f"{where}.integrity"),
        content_type=bounds.media_type(found.get("content_type"), f"{where}.content_type"),
        immutable=found.get("immutable") is True,
        encodings={
            bounds.coding(key, f"{where}.encodings"): _parse_variant(
                key, value, f"{where}.encodings.{key}"
            )
            for key, value in sorted(encodings.items())
        },
    )


def _parse_flags(raw: object, where: str) -> BuildFlags:
    found = _object(raw, where)
    return BuildFlags(
        trimpath=found.get("trimpath", True) is True,
        debug_symbols=found.get("debug_symbols") is True,
        tags=_strings(found.get("tags", []), f"{where}.tags"),
        ldflags=str(found.get("ldflags", "")),
        go_flags=_strings(found.get("go_flags", []), f"{where}.go_flags"),
        hashed_names=found.get("hashed_names", True) is True,
        env=_strings(found.get("env", []), f"{where}.env"),
    )


def _parse_target(raw: object, where: str) -> TargetEntry:
    found = _object(raw, where)
    files = _object(found.get("files"), f"{where}.files")
    name = _text(found.get("name"), f"{where}.name")
    if not is_target_name(name):
        raise ManifestError(
            f"{where}.name: {bounds.shown(name)} is not a target name ({TARGET_NAME_RULE})"
        )
    return TargetEntry(
        name=name,
        goos=_text(found.get("goos"), f"{where}.goos"),
        goarch=_text(found.get("goarch", "wasm"), f"{where}.goarch"),
        package=_text(found.get("package"), f"{where}.package"),
        flags=_parse_flags(found.get("flags", {}), f"{where}.flags"),
        interface=None
        if found.get("interface") is None
        else parse_interface(found["interface"], f"{where}.interface"),
        files={
            str(logical): _parse_file(str(logical), entry, f"{where}.files.{logical}")
            for logical, entry in files.items()
        },
    )


def _parse_kept(raw: object, where: str) -> KeptFile:
    found = _object(raw, where)
    generation = found.get("generation")
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 1:
        raise ManifestError(
            f"{where}.generation: expected a whole number from 1, found {bounds.shown(generation)}"
        )
    return KeptFile(
        generation=generation,
        target=str(found.get("target", "")),
        file=_parse_file(_text(found.get("logical"), f"{where}.logical"), found, where),
    )


def parse_manifest(document: object) -> Manifest:
    """The typed manifest of a JSON DOCUMENT; ManifestError names the JSON path of a problem."""
    bounds.check_depth(document)
    bounds.check_values(document)
    found = _object(document, "manifest")
    targets = found.get("targets")
    if not isinstance(targets, list):
        raise ManifestError("not a wasmship manifest: no `targets` list")
    parsed_targets = tuple(_parse_target(t, f"targets[{i}]") for i, t in enumerate(targets))
    tool = _object(found.get("tool"), "tool")
    if tool.get("name") != TOOL_NAME:
        raise ManifestError(
            f"tool.name: expected {TOOL_NAME!r}, found {bounds.shown(tool.get('name'))}"
        )
    if found.get("schema") != SCHEMA_VERSION:
        raise ManifestError(
            f"schema: this wasmship reads schema {SCHEMA_VERSION}, "
            f"found {bounds.shown(found.get('schema'))}"
        )
    previous = found.get("previous", [])
    if not isinstance(previous, list):
        raise ManifestError("previous: expected a list")
    helpers = _object(found.get("deploy_helpers", {}), "deploy_helpers")
    inputs = _object(found.get("build", {}), "build").get("inputs")
    return Manifest(
        tool_version=_text(tool.get("version"), "tool.version"),
        go_version=_text(_object(found.get("go"), "go").get("version"), "go.version"),
        targets=parsed_targets,
        kept=tuple(_parse_kept(raw, f"previous[{i}]") for i, raw in enumerate(previous)),
        deploy_helpers={
            str(name): _parse_helper(str(name), raw, f"deploy_helpers.{name}")
            for name, raw in sorted(helpers.items())
        },
        inputs=None if inputs is None else _text(inputs, "build.inputs"),
        hosting=_hosting(found.get("hosting", Hosting.NEGOTIATE.value)),
        offline=_parse_offline(found["offline"]) if "offline" in found else None,
        routes=_routes(found.get("routes", [])),
    )


def _routes(raw: object) -> tuple[str, ...]:
    routes = _strings(raw, "routes")
    bounds.check_routes(routes)
    return routes


def _parse_offline(raw: object) -> Offline:
    found = _object(raw, "offline")
    generation = found.get("generation")
    return Offline(
        worker=_text(found.get("worker"), "offline.worker"),
        generation=None if generation is None else _text(generation, "offline.generation"),
    )


def _hosting(value: object) -> Hosting:
    for mode in Hosting:
        if value == mode.value:
            return mode
    modes = ", ".join(repr(mode.value) for mode in Hosting)
    raise ManifestError(f"hosting: expected one of {modes}, found {bounds.shown(value)}")


def _parse_helper(name: str, raw: object, where: str) -> DeployHelper:
    found = _object(raw, where)
    return DeployHelper(
        name=name,
        path=_text(found.get("path"), f"{where}.path"),
        size=bounds.size(found.get("size"), f"{where}.size"),
        sha256=bounds.sha256(found.get("sha256"), f"{where}.sha256"),
    )


def loads_manifest(text: str | bytes) -> Manifest:
    """The typed manifest in TEXT (as fetched from a site); ManifestError when it is not one."""
    try:
        document = bounds.parse_json(text)
    except ValueError as exc:
        raise ManifestError(f"not a JSON manifest ({exc})") from exc
    except RecursionError:  # the parser's depth limit: no manifest nests more than a few levels
        raise ManifestError("not a JSON manifest (nested too deeply to be one)") from None
    return parse_manifest(document)


def load_document(dist: Path) -> object:
    """DIST's manifest.json as JSON data; DistError when there is none or it is not JSON."""
    path = dist / MANIFEST
    try:
        with path.open("rb") as file:
            data = file.read(bounds.MAX_MANIFEST_SIZE + 1)
        return bounds.parse_json(data.decode("utf-8"))
    except FileNotFoundError:
        raise DistError(f"{dist} has no {MANIFEST}: is it a wasmship dist?") from None
    except ManifestError as exc:  # too large or too deep: no cause, it is not a JSON syntax error
        raise ManifestError(f"{path}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise DistError(f"{path} cannot be read: {exc}") from exc


def read_manifest(dist: Path) -> Manifest:
    """DIST's manifest; DistError when there is none, ManifestError (naming it) when malformed."""
    document = load_document(dist)
    try:
        return parse_manifest(document)
    except ManifestError as exc:
        raise ManifestError(f"{dist / MANIFEST}: {exc}") from exc


def manifest_or_none(dist: Path) -> Manifest | None:
    """DIST's manifest, or None when there is none to read (or it is not one wasmship reads)."""
    try:
        return read_manifest(dist)
    except DistError:  # ManifestError too
        return None


def require_dist_folder(dist: Path, usage: str = "`wasmship build` wrote") -> None:
    """DIST is a folder, or a DistError saying what it is instead (a file, nothing)."""
    if dist.exists() and not dist.is_dir():
        what = "a file, not a dist folder" if dist.is_file() else "not a folder"
        raise DistError(f"{dist} is {what}; pass the dist folder {usage}")
    if not dist.is_dir():
        raise DistError(
            f"{dist}: no such folder; run `wasmship build` first, or pass the dist folder {usage}"
        )


def is_wasmship_dist(folder: Path) -> bool:
    """Whether FOLDER holds a manifest that says wasmship wrote it (even one it cannot read)."""
    try:
        document = load_document(folder)
    except DistError:
        return False
    tool = document.get("tool") if isinstance(document, dict) else None
    return isinstance(tool, dict) and tool.get("name") == TOOL_NAME
