"""A file of the dist: its entry, under its (hashed) name, and its bytes written into staging.

Names are made only here; every step that writes a file (fingerprint, loader, static,
app_manifest, offline) records it through this module.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from wasmship.builder.context import BuildContext
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.model import FileEntry
from wasmship.distformat.names import content_type, hashed_name


def file_entry(
    logical: str, data: bytes, *, hashed: bool, folder: str = "", sha256: str | None = None
) -> FileEntry:
    """The entry of DATA as LOGICAL, in FOLDER of the dist, under its (hashed) name: names are
    made only here. SHA256, when the caller has it already, is not computed again."""
    sha256 = sha256 or sha256_hex(data)
    name = hashed_name(logical, sha256) if hashed else logical
    return FileEntry(
        logical=logical,
        path=posixpath.join(folder, name) if folder else name,
        size=len(data),
        sha256=sha256,
        integrity=integrity(data),
        content_type=content_type(logical),
        immutable=hashed,
    )


def add_file(
    ctx: BuildContext, logical: str, data: bytes, *, hashed: bool, folder: str = ""
) -> FileEntry:
    """Write DATA into staging under its (hashed) name, in FOLDER of the dist, and record it."""
    entry = file_entry(logical, data, hashed=hashed, folder=folder)
    (ctx.staging / entry.path).parent.mkdir(parents=True, exist_ok=True)
    (ctx.staging / entry.path).write_bytes(data)
    ctx.files[logical] = entry
    return entry


def place_file(ctx: BuildContext, source: Path, entry: FileEntry, data: bytes) -> None:
    """Put ENTRY's file in staging: SOURCE renamed when it is in staging already, else DATA
    written once (a persistent compile output stays where go build looks for it)."""
    target = ctx.staging / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_relative_to(ctx.staging):
        source.rename(target)
    else:
        target.write_bytes(data)
    ctx.files[entry.logical] = entry
