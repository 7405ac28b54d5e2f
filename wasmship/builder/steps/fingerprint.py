"""Step: content-hash the modules and the shim into their names (unless --no-hash, or a
[[target]]'s `hash = false` for its module)."""

from __future__ import annotations

from wasmship.builder.context import BuildContext, folder_of, module_hashed, shim_folder
from wasmship.builder.dist_files import file_entry, place_file
from wasmship.distformat.names import SHIM


def fingerprint(ctx: BuildContext) -> None:
    """Name the modules and the shim by content (unless --no-hash), each in the folder of the
    dist its [[target]] asks for; the shim goes with the first js target."""
    hashed = ctx.config.hash_names
    for target in ctx.targets:
        module = ctx.compiled[target.name]  # read and hashed once, by compile
        folder = folder_of(ctx.config, target.name)
        entry = file_entry(
            target.module,
            module.data,
            hashed=module_hashed(ctx.config, target.name),  # `hash = false`: a host's fixed path
            folder=folder,
            sha256=module.sha256,
        )
        place_file(ctx, module.path, entry, module.data)
    if ctx.builds_browser_target:
        shim = ctx.staging / SHIM
        data = shim.read_bytes()
        entry = file_entry(SHIM, data, hashed=hashed, folder=shim_folder(ctx.config))
        place_file(ctx, shim, entry, data)
    ctx.notes["fingerprint"] = ", ".join(ctx.files[t.module].path for t in ctx.targets)
