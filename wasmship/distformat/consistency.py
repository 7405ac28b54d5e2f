"""The manifest's rules about itself: names agree with logical names, hashes and codings, and a
path listed twice lists the same thing. Each broken rule is named by its JSON path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields

from wasmship.distformat.model import DeployHelper, FileEntry, Variant
from wasmship.distformat.names import (
    CODING_BY_TOKEN,
    DELTA_KEY_PREFIX,
    HASH_LENGTH,
    PLAIN_CODINGS,
    delta_path,
    hash_in_name,
    hashed_parts,
    variant_path,
)

Listing = FileEntry | Variant | DeployHelper  # what the manifest says a path holds

_PLAIN_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Inconsistency:
    """A rule of the format the manifest breaks, named by the dist path it is about."""

    path: str
    message: str


def json_path(*parts: str | int, within: str = "$") -> str:
    """`$.targets[0].files['main.wasm']`: a place in manifest.json, as the schema problems say."""
    path = within
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def relisted(earlier: str, seen: Listing, where: str, listing: Listing) -> str | None:
    """What is wrong when WHERE lists a path that EARLIER listed as SEEN; None if the same.

    Targets share one entry for the shim, loader and page; a path listed again with other
    content is wrong, since a server can send only one of them.
    """
    if seen == listing:
        return None
    if (seen.sha256, seen.size) != (listing.sha256, listing.size):
        return (
            f"listed twice for different content: sha256 {seen.sha256[:8]}… at {earlier}, "
            f"{listing.sha256[:8]}… at {where}"
        )
    differ = ["kind"]  # a file, a variant, a deploy helper
    if type(seen) is type(listing):
        differ = [f.name for f in fields(seen) if getattr(seen, f.name) != getattr(listing, f.name)]
    return (
        f"listed twice with different entries: {earlier} and {where} "
        f"(the same bytes; they differ in {', '.join(differ)})"
    )


def entry_names(entry: FileEntry, where: str) -> Iterator[Inconsistency]:
    """Where ENTRY (listed at WHERE) disagrees with itself: its path with its logical name and
    sha256, each variant's key and path with its coding (and a delta's with its dictionary)."""
    name = entry.path.rsplit("/", 1)[-1]  # a [[target]] folder may come first: web/app.<h>.wasm
    if entry.path != entry.logical and name != entry.logical:
        digits = hash_in_name(entry.logical, name)
        if digits is None:
            head, tail = hashed_parts(entry.logical)
            yield Inconsistency(
                entry.path,
                f"{where}.path is neither its logical name {entry.logical!r} nor its "
                f"hashed name {head}<{HASH_LENGTH} hex>{tail}",
            )
        elif not entry.sha256.startswith(digits):
            yield Inconsistency(
                entry.path,
                f"{where}.path: the hash in the name, {digits}, is not the start of its "
                f"sha256 ({entry.sha256[:HASH_LENGTH]}…)",
            )
    for variant in entry.variants:
        vwhere = json_path("encodings", variant.key, within=where)
        if variant.is_delta:
            yield from _delta_names(variant, entry.path, vwhere)
        elif variant.coding in PLAIN_CODINGS:
            if variant.key != variant.coding:
                yield Inconsistency(
                    variant.path,
                    f"{vwhere}: a {variant.coding} variant's key must be {variant.coding!r}",
                )
            expected = variant_path(entry.path, variant.coding)
            if variant.path != expected:
                suffix = CODING_BY_TOKEN[variant.coding].suffix
                yield Inconsistency(
                    variant.path, f"{vwhere}.path must be {expected} (its file's path + {suffix})"
                )


def _delta_names(variant: Variant, file_path: str, vwhere: str) -> Iterator[Inconsistency]:
    """A delta's key is dcz-<its dictionary>, its path <file path>.<dictionary prefix>.dcz."""
    if variant.dictionary is None:
        yield Inconsistency(
            variant.path, f"{vwhere}: a {variant.coding} delta without a dictionary"
        )
        return
    key = DELTA_KEY_PREFIX + variant.dictionary
    if variant.key != key:
        yield Inconsistency(
            variant.path, f"{vwhere}: a delta's key must be dcz-<its dictionary>, {key}"
        )
    expected = delta_path(file_path, variant.dictionary)
    if variant.path != expected:
        yield Inconsistency(
            variant.path,
            f"{vwhere}.path must be {expected} "
            "(its file's path, its dictionary's hash prefix, .dcz)",
        )
