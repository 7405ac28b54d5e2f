"""Step 3: copy wasm_exec.js from the GOROOT of the Go that compiled the module."""

from __future__ import annotations

import shutil
from pathlib import Path

from wasmship.context import SHIM, BuildContext, Toolchain
from wasmship.errors import ToolchainError
from wasmship.steps.toolchain import LIB_WASM_SINCE

NODE_SHIM = "wasm_exec_node.js"


def shim_dirs(toolchain: Toolchain) -> list[Path]:
    """The folders to look in, the one this Go version uses first."""
    lib, misc = toolchain.goroot / "lib" / "wasm", toolchain.goroot / "misc" / "wasm"
    return [lib, misc] if toolchain.version >= LIB_WASM_SINCE else [misc, lib]


def find_shim(toolchain: Toolchain, name: str = SHIM) -> Path:
    """The toolchain's own copy of NAME; an error naming both places when it has none."""
    dirs = shim_dirs(toolchain)
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    raise ToolchainError(
        f"{name} of {toolchain.goversion} not found: looked in {dirs[0]} and {dirs[1]}. "
        "Is this GOROOT complete?"
    )


def copy_shim(ctx: BuildContext) -> None:
    """Copy the shim next to the modules, byte for byte; wasip1 modules need none."""
    if ctx.page_target is None:
        return
    source = find_shim(ctx.require_toolchain())
    shutil.copyfile(source, ctx.staging / SHIM)
    ctx.notes["shim"] = f"{source.parent.parent.name}/{source.parent.name}/{SHIM}"
