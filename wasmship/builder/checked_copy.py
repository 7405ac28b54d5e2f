"""Copying a file and its variants from the old dist into staging, each checked against its
manifest entry first: what --keep keeps and what --target carries over."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from wasmship.builder.context import BuildContext
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.model import FileEntry
from wasmship.distformat.names import PLAIN_CODINGS, relative_path


def checked_bytes(dist: Path, path: str, size: int, sha256: str) -> bytes | str:
    """The file's bytes when it is there and matches its entry; else why not."""
    safe = relative_path(path)
    if safe is None:
        return f"the manifest names an unsafe path {path!r}"
    try:
        data = (dist / safe).read_bytes()
    except OSError:
        return f"{path} is missing"
    if len(data) != size or sha256_hex(data) != sha256:
        return f"{path} does not match the manifest it came from (size or sha256 differs)"
    return data


def copy_checked(
    ctx: BuildContext, old_dist: Path, entry: FileEntry, variant_problem: Callable[[str], None]
) -> FileEntry | str:
    """Copy ENTRY's file and its br/gzip/zstd variants from OLD_DIST into staging, each checked
    against the entry first. A problem with the file is returned (nothing copied); one with a
    variant goes to VARIANT_PROBLEM (which may raise) and the variant is left out."""
    checked = checked_bytes(old_dist, entry.path, entry.size, entry.sha256)
    if isinstance(checked, str):
        return checked
    target = ctx.staging / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(checked)
    copied = replace(entry, integrity=integrity(checked), encodings={})
    for variant in entry.variants:
        if variant.key not in PLAIN_CODINGS:
            continue  # deltas are made again, against the files kept now
        found = checked_bytes(old_dist, variant.path, variant.size, variant.sha256)
        if isinstance(found, str):
            variant_problem(found)
            continue
        (ctx.staging / variant.path).parent.mkdir(parents=True, exist_ok=True)
        (ctx.staging / variant.path).write_bytes(found)
        copied = copied.with_variant(variant)
    return copied
