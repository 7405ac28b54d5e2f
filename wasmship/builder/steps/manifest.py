"""Step: write manifest.json last, once every other file is in place."""

from __future__ import annotations

from dataclasses import replace

from wasmship import __version__
from wasmship.builder.context import BuildContext, Target, module_hashed
from wasmship.builder.plugin_interfaces import plugin_interface
from wasmship.distformat.model import BuildFlags, Manifest, TargetEntry
from wasmship.distformat.names import MANIFEST


def target_entry(ctx: BuildContext, target: Target) -> TargetEntry:
    """One target: what was built, how, and its files."""
    config = ctx.config
    return TargetEntry(
        name=target.name,
        goos=target.goos,
        package=target.package.import_path,
        flags=BuildFlags(
            trimpath=True,
            debug_symbols=config.debug_symbols,
            tags=(*config.tags, *target.tags),
            ldflags=" ".join(p for p in (config.ldflags, target.ldflags) if p),
            go_flags=config.go_flags,
            hashed_names=module_hashed(config, target.name),
            env=tuple(name for name, _ in target.env),  # names only: values may be secrets
        ),
        files={name: ctx.files[name] for name in ctx.files_of(target)},
        interface=plugin_interface(ctx, target),
    )


def build_manifest(ctx: BuildContext) -> Manifest:
    """The manifest of what the steps made."""
    return Manifest(
        tool_version=__version__,
        go_version=ctx.toolchain.goversion,
        targets=tuple(
            # A carried target keeps its entry as the old dist had it, with its files as now.
            target_entry(ctx, t)
            if isinstance(t, Target)
            else replace(t, files={name: ctx.files[name] for name in ctx.files_of(t)})
            for t in ctx.dist_targets
        ),
        kept=tuple(ctx.kept),
        deploy_helpers=dict(ctx.deploy_helpers),
        inputs=ctx.inputs,
        hosting=ctx.config.hosting,
        offline=ctx.offline,
        routes=ctx.config.routes,
        spa=ctx.config.spa,
        headers=(*ctx.header_rules, *ctx.config.headers),  # the project's win a name
    )


def write_manifest(ctx: BuildContext) -> None:
    """Write manifest.json last, once every other file is in place."""
    ctx.manifest = build_manifest(ctx)
    ctx.manifest.save(ctx.staging)
    ctx.notes["manifest"] = MANIFEST
