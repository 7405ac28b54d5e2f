"""manifest.json, typed: the dist's machine-readable truth, and its one writer.

Schema 1 is only ever extended. reader.py is the one reader; schema.py checks a document
against the JSON Schema (wasmship/data/manifest.schema.json), which is the contract.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from wasmship.distformat.digests import available_dictionary, etag_for
from wasmship.distformat.names import (
    CODING_BY_TOKEN,
    MANIFEST,
    dictionary_pattern,
    is_dictionary_file,
    relative_path,
)
from wasmship.distformat.plugin import ModuleInterface

SCHEMA_VERSION = 1
TOOL_NAME = "wasmship"

JSONObject = dict[str, Any]  # the JSON form of the manifest, as the writer makes it


class Hosting(StrEnum):
    """What the dist's host can do (--hosting), so the loader and `check` know what to expect."""

    NEGOTIATE = "negotiate"  # it sends the precompressed variants with Content-Encoding
    STATIC = "static"  # it serves files as they are: the loader fetches and decodes a variant


# The codings of the module's variants the loader fetches by URL and decodes itself when the host
# is static (DecompressionStream's "brotli" and "gzip"), in its order of preference.
BROWSER_DECODED = ("br", "gzip")


@dataclass(frozen=True)
class Variant:
    """A precompressed variant of a file: br, gzip, zstd, or a dcz delta from a kept file."""

    key: str  # its key in `encodings`: the coding, or dcz-<dictionary sha256> for a delta
    coding: str  # the Content-Encoding token
    path: str
    size: int
    sha256: str
    dictionary: str | None = None  # SHA-256 of the earlier file a delta is decoded with

    @property
    def etag(self) -> str:
        """A strong validator for exactly these bytes."""
        return etag_for(self.sha256)

    @property
    def is_delta(self) -> bool:
        """Whether a client needs a dictionary to decode it (dcz)."""
        coding = CODING_BY_TOKEN.get(self.coding)
        return coding is not None and coding.needs_dictionary


@dataclass(frozen=True)
class FileEntry:
    """One file of the dist, known by its logical name (`main.wasm`, `index.html`)."""

    logical: str
    path: str  # relative to the dist root, e.g. main.3f9c2a1b.wasm
    size: int
    sha256: str
    integrity: str  # SRI sha384-…
    content_type: str
    immutable: bool  # content-hashed: cached forever
    encodings: Mapping[str, Variant] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        """A strong validator for the identity bytes."""
        return etag_for(self.sha256)

    @property
    def hashed(self) -> bool:
        """Whether the path carries a content hash (its name changes with its bytes)."""
        return self.immutable and self.path != self.logical

    @property
    def variants(self) -> tuple[Variant, ...]:
        """Every variant, by key."""
        return tuple(self.encodings[key] for key in sorted(self.encodings))

    @property
    def deltas(self) -> tuple[Variant, ...]:
        """The variants that need a dictionary the client already holds (dcz)."""
        return tuple(v for v in self.variants if v.is_delta)

    @property
    def plain_variants(self) -> tuple[Variant, ...]:
        """The variants any client accepting their coding can decode (br, zstd, gzip)."""
        return tuple(v for v in self.variants if v.coding in CODING_BY_TOKEN and not v.is_delta)

    @property
    def dictionary_pattern(self) -> str | None:
        """`main.*.wasm` for a hashed module or shim (next builds' names), else None."""
        if not self.hashed or not is_dictionary_file(self.logical):
            return None
        return dictionary_pattern(self.logical)

    def with_variant(self, variant: Variant) -> FileEntry:
        """This entry with VARIANT added under its key."""
        return replace(self, encodings={**self.encodings, variant.key: variant})


@dataclass(frozen=True)
class KeptFile:
    """A hashed file of an earlier build, kept for open tabs and as a delta's dictionary."""

    generation: int  # 1: the build this one replaced, 2: the one before, ...
    target: str
    file: FileEntry


@dataclass(frozen=True)
class BuildFlags:
    """How a target was built (recorded, never read back by wasmship)."""

    trimpath: bool = True
    debug_symbols: bool = False
    tags: tuple[str, ...] = ()
    ldflags: str = ""
    go_flags: tuple[str, ...] = ()
    hashed_names: bool = True
    env: tuple[str, ...] = ()  # names only: values may be secrets


@dataclass(frozen=True)
class TargetEntry:
    """One built module and the files that belong to it."""

    name: str
    goos: str  # js or wasip1
    package: str  # the Go import path
    files: Mapping[str, FileEntry]  # by logical name
    flags: BuildFlags = BuildFlags()
    goarch: str = "wasm"
    interface: ModuleInterface | None = None  # a wasip1 module's imports, exports and allow

    @property
    def module(self) -> FileEntry | None:
        """The target's .wasm file."""
        return self.files.get(f"{self.name}.wasm") or next(
            (f for name, f in sorted(self.files.items()) if name.endswith(".wasm")), None
        )


@dataclass(frozen=True)
class DeployHelper:
    """A server config written beside the files (nginx.conf, _headers, ...); not content."""

    name: str  # the --server-config name: nginx, caddy, netlify, apache
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Offline:
    """The dist's service worker (--offline): the generation it caches, or None for the worker a
    build without --offline ships after one with it, which unregisters itself."""

    worker: str  # its path: sw.js, stable and unhashed
    generation: str | None = None  # the id its cache is named by


@dataclass(frozen=True)
class Manifest:
    """A dist's manifest.json, schema 1."""

    tool_version: str
    go_version: str
    targets: tuple[TargetEntry, ...]
    kept: tuple[KeptFile, ...] = ()  # `previous` in the JSON
    deploy_helpers: Mapping[str, DeployHelper] = field(default_factory=dict)
    inputs: str | None = None  # `build.inputs`: SHA-256 of everything the dist was made from
    hosting: Hosting = Hosting.NEGOTIATE  # `hosting`, written only when not the default
    offline: Offline | None = None  # `offline`: the dist ships a service worker
    routes: tuple[str, ...] = ()  # `routes`: paths (globs) a service worker answers, not files

    def target(self, name: str) -> TargetEntry | None:
        """The target called NAME."""
        return next((t for t in self.targets if t.name == name), None)

    def current_files(self) -> list[FileEntry]:
        """Every file of every target, each path once (targets share the shim and page)."""
        seen: set[str] = set()
        found = []
        for target in self.targets:
            for entry in target.files.values():
                if entry.path not in seen:
                    seen.add(entry.path)
                    found.append(entry)
        return found

    def files_by_path(self) -> dict[str, FileEntry]:
        """Every file of the dist, current and kept, by path; a current file wins."""
        found = {entry.path: entry for entry in self.current_files()}
        for kept in self.kept:
            found.setdefault(kept.file.path, kept.file)
        return found

    def listed_sizes(self) -> dict[str, int]:
        """Every path the manifest lists (files, their variants, kept files, deploy helpers)
        with its size in bytes."""
        sizes: dict[str, int] = {}
        for entry in self.files_by_path().values():
            sizes[entry.path] = entry.size
            sizes.update((v.path, v.size) for v in entry.encodings.values())
        sizes.update((h.path, h.size) for h in self.deploy_helpers.values())
        return sizes

    def differs_from(self, folder: Path) -> str | None:
        """The first listed file FOLDER lacks or holds with another size, by stat alone (no
        byte is read); None when every one is there with its size."""
        for path, size in sorted(self.listed_sizes().items()):
            if relative_path(path) is None:
                return f"{path!r} is not a path inside the dist"
            try:
                found = (folder / path).stat()
            except OSError:
                return f"{path} is missing"
            if not stat.S_ISREG(found.st_mode) or found.st_size != size:
                return f"{path} is not the file the manifest lists"
        return None

    def to_json(self) -> JSONObject:
        """The manifest as JSON data: relative paths only, no timestamps."""
        document: JSONObject = {
            "schema": SCHEMA_VERSION,
            "tool": {"name": TOOL_NAME, "version": self.tool_version},
            "go": {"version": self.go_version},
            "targets": [_target_json(t) for t in self.targets],
        }
        if self.kept:
            # Optional (schema 1 extended): hashed files of earlier builds, kept for open tabs.
            document["previous"] = [
                {
                    **_file_json(k.file),
                    "generation": k.generation,
                    "target": k.target,
                    "logical": k.file.logical,
                }
                for k in self.kept
            ]
        if self.deploy_helpers:
            # Optional (schema 1 extended): server configs beside the files, not content.
            document["deploy_helpers"] = {
                h.name: {"path": h.path, "size": h.size, "sha256": h.sha256}
                for h in self.deploy_helpers.values()
            }
        if self.inputs:
            # Optional (schema 1 extended): a build with equal inputs leaves this dist alone.
            document["build"] = {"inputs": self.inputs}
        if self.hosting is not Hosting.NEGOTIATE:
            # Optional (schema 1 extended): absent means a host that negotiates.
            document["hosting"] = self.hosting.value
        if self.routes:
            # Optional (schema 1 extended): what verify takes as answered though no file is.
            document["routes"] = list(self.routes)
        if self.offline is not None:
            # Optional (schema 1 extended): the service worker, so the next build knows there
            # is one to replace (or to unregister, built without --offline).
            worker: JSONObject = {"worker": self.offline.worker}
            if self.offline.generation is None:
                worker["unregister"] = True
            else:
                worker["generation"] = self.offline.generation
            document["offline"] = worker
        return document

    def dumps(self) -> str:
        """Sorted keys, two-space indent, trailing newline: the same manifest is the same bytes."""
        return dump_json(self.to_json())

    def save(self, folder: Path) -> None:
        """Write this manifest as FOLDER/manifest.json."""
        (folder / MANIFEST).write_text(self.dumps(), encoding="utf-8")


def dump_json(document: object) -> str:
    """JSON as wasmship writes it: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _variant_json(variant: Variant) -> JSONObject:
    entry: JSONObject = {"path": variant.path, "size": variant.size, "sha256": variant.sha256}
    if variant.coding != variant.key:
        entry["coding"] = variant.coding
    if variant.dictionary:
        entry["dictionary"] = variant.dictionary
        entry["available_dictionary"] = available_dictionary(variant.dictionary)
    return entry


def _file_json(entry: FileEntry) -> JSONObject:
    return {
        "path": entry.path,
        "size": entry.size,
        "sha256": entry.sha256,
        "integrity": entry.integrity,
        "content_type": entry.content_type,
        "immutable": entry.immutable,
        "encodings": {key: _variant_json(v) for key, v in entry.encodings.items()},
    }


def _target_json(target: TargetEntry) -> JSONObject:
    flags = target.flags
    return {
        "name": target.name,
        "goos": target.goos,
        "goarch": target.goarch,
        "package": target.package,
        "flags": {
            "trimpath": flags.trimpath,
            "debug_symbols": flags.debug_symbols,
            "tags": list(flags.tags),
            "ldflags": flags.ldflags,
            "go_flags": list(flags.go_flags),
            "hashed_names": flags.hashed_names,
            "env": list(flags.env),
        },
        "files": {name: _file_json(entry) for name, entry in target.files.items()},
        # Optional (schema 1 extended): what a wasip1 module asks of its host and offers.
        **({"interface": target.interface.to_json()} if target.interface else {}),
    }
