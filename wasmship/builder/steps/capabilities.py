"""Step: read each wasip1 module's imports and exports, and refuse one that imports more than
its target's allow list grants (deny by default), naming the Go package that pulled it in."""

from __future__ import annotations

from wasmship.builder.context import BuildContext, Target
from wasmship.builder.plugin_interfaces import allow_of, plugin_interface
from wasmship.distformat.plugin import Import
from wasmship.errors import CapabilityRefused, WasmshipError
from wasmship.plugins.allowlist import Refusal, refused
from wasmship.plugins.origin import find_origins
from wasmship.toolchain.runner import go_environ


def check_capabilities(ctx: BuildContext) -> None:
    """Refuse every wasip1 module that imports what its target's allow list does not grant."""
    refusals: list[Refusal] = []
    checked: list[str] = []
    for target in ctx.targets:
        interface = plugin_interface(ctx, target)
        if interface is None or interface.allow is None:
            continue
        checked.append(target.name)
        extra = refused(interface, interface.allow)
        if extra:
            origins = _origins(ctx, target, extra)
            refusals += [Refusal(target.name, item, origins.get(item, "")) for item in extra]
    if refusals:
        raise CapabilityRefused(_message(ctx, refusals))
    if checked:
        ctx.notes["capabilities"] = f"{', '.join(checked)}: within allow"


def _origins(ctx: BuildContext, target: Target, extra: tuple[Import, ...]) -> dict[Import, str]:
    """Where each import came from, asked of Go; best effort: without it the message still
    names every import."""
    line = ctx.compiled[target.name].line  # the line go built the module with
    if line is None:
        return {}
    env = go_environ(ctx.config.environ, target.goos, target.env)
    try:
        return find_origins(line, target.package.run_dir, env, extra, target.package.import_path)
    except (OSError, WasmshipError):
        return {}


def _message(ctx: BuildContext, refusals: list[Refusal]) -> str:
    lines = []
    for name in dict.fromkeys(r.target for r in refusals):
        target = next(t for t in ctx.targets if t.name == name)
        allow = ", ".join(f'"{a}"' for a in allow_of(ctx, target) or ())
        lines.append(f"target {name!r} imports what its allow list ([{allow}]) does not grant:")
        lines += [f"  {r.line()}" for r in refusals if r.target == name]
    lines.append(
        "Add the capability to the target's allow list in wasmship.toml if the plugin should "
        "have it, or remove the code that needs it (docs/plugins.md lists the capabilities)."
    )
    return "\n".join(lines)
