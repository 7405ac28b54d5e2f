"""Step: content-hash the modules and the shim into their names (unless --no-hash)."""

from __future__ import annotations

import posixpath

from wasmship.build.context import BuildContext, folder_of, shim_folder
from wasmship.dist.digests import integrity, sha256_hex
from wasmship.dist.manifest import FileEntry
from wasmship.dist.names import SHIM, content_type, hashed_name


def add_file(
    ctx: BuildContext, logical: str, data: bytes, *, hashed: bool, folder: str = ""
) -> FileEntry:
    """Write DATA into staging under its (hashed) name, in FOLDER of the dist, and record it:
    names are made only here."""
    name = hashed_name(logical, data) if hashed else logical
    name = posixpath.join(folder, name) if folder else name
    (ctx.staging / name).parent.mkdir(parents=True, exist_ok=True)
    (ctx.staging / name).write_bytes(data)
    entry = FileEntry(
        logical=logical,
        path=name,
        size=len(data),
        sha256=sha256_hex(data),
        integrity=integrity(data),
        content_type=content_type(logical),
        immutable=hashed,
    )
    ctx.files[logical] = entry
    return entry


def fingerprint(ctx: BuildContext) -> None:
    """Rename the modules and the shim to content-hashed names (unless --no-hash), each in the
    folder of the dist its [[target]] asks for; the shim goes with the first js target."""
    names = [(target.module, folder_of(ctx.config, target.name)) for target in ctx.targets]
    if ctx.builds_browser_target:
        names.append((SHIM, shim_folder(ctx.config)))
    for logical, folder in names:
        plain = ctx.staging / logical
        data = plain.read_bytes()
        plain.unlink()
        add_file(ctx, logical, data, hashed=ctx.config.hash_names, folder=folder)
    ctx.notes["fingerprint"] = ", ".join(ctx.files[t.module].path for t in ctx.targets)
