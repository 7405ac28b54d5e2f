"""Step: copy wasm_exec.js from the GOROOT of the Go that compiled the module."""

from __future__ import annotations

import shutil

from wasmship.builder.context import BuildContext
from wasmship.distformat.names import SHIM


def copy_shim(ctx: BuildContext) -> None:
    """Copy the shim next to the modules, byte for byte; wasip1 modules need none."""
    if not ctx.builds_browser_target:
        return  # no js target built now: a carried one brings the shim it was built with
    source = ctx.toolchain.shim()
    shutil.copyfile(source, ctx.staging / SHIM)
    ctx.notes["shim"] = f"{source.parent.parent.name}/{source.parent.name}/{SHIM}"
