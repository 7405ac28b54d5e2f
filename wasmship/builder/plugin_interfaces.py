"""A wasip1 target's interface: what its module imports and exports, and what its allow list
grants; the capabilities step checks it, the manifest step records it."""

from __future__ import annotations

from wasmship.builder.context import BuildContext, Target
from wasmship.distformat.plugin import ModuleInterface
from wasmship.wasm.binary import NotWasm
from wasmship.wasm.interface import read_interface


def allow_of(ctx: BuildContext, target: Target) -> tuple[str, ...] | None:
    """TARGET's allow list from wasmship.toml; None when it has none."""
    return next((s.allow for s in ctx.config.configured_specs() if s.name == target.name), None)


def plugin_interface(ctx: BuildContext, target: Target) -> ModuleInterface | None:
    """What the manifest records of TARGET's module: its interface, if it is a wasip1 one."""
    if target.goos != "wasip1":
        return None
    try:
        found = read_interface(ctx.compiled[target.name].data)
    except NotWasm:
        return None  # go build wrote it: a module Go made that this reader cannot read is news
    return ModuleInterface(found.imports, found.exports, allow_of(ctx, target))
