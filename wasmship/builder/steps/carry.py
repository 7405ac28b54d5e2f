"""Step: carry the targets that --target left out over from the old dist, as they are.

`wasmship build --target app` rebuilds app and leaves the other targets alone, as `cargo build
-p` leaves other crates' outputs: their modules (and shim) with their br, gzip and zstd
variants are copied from the old dist, each checked against its manifest entry first. A
missing or changed file stops the build rather than drop the target from the dist: the user
asked to rebuild app, not to lose worker. The files every build writes anew (the page, the
loader, --static files, dcz deltas) are made by their own steps from the current modules.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from wasmship.builder.checked_copy import copy_checked
from wasmship.builder.config import BuildConfig, TargetSpec
from wasmship.builder.context import BuildContext, module_name
from wasmship.distformat.model import FileEntry, TargetEntry
from wasmship.distformat.names import MANIFEST, SHIM
from wasmship.distformat.reader import manifest_or_none
from wasmship.errors import UsageError


def left_out(config: BuildConfig) -> list[str]:
    """The configured targets this build does not make (--target), in order."""
    built = {spec.name for spec in config.target_specs()}
    return [spec.name for spec in config.configured_specs() if spec.name not in built]


def changed_settings(config: BuildConfig, spec: TargetSpec, built: TargetEntry) -> list[str]:
    """What of SPEC's settings (with CONFIG's) differs from how BUILT was built: `folder 'a'
    -> 'b'`, ... (the package's import path is go list's, and only built targets are listed)."""
    module = built.module
    folder = PurePosixPath(module.path).parent.as_posix() if module else spec.folder
    now = {
        "goos": (spec.goos, built.goos),
        "folder": (spec.folder, "" if folder == "." else folder),
        "tags": ((*config.tags, *spec.tags), built.flags.tags),
        "ldflags": (
            " ".join(p for p in (config.ldflags, spec.ldflags) if p),
            built.flags.ldflags,
        ),
        "go build flags": (config.go_flags, built.flags.go_flags),
        "debug symbols": (config.debug_symbols, built.flags.debug_symbols),
        "hashed names": (spec.hashed(config), built.flags.hashed_names),
        "env": (tuple(name for name, _ in spec.env), built.flags.env),
    }
    return [f"{key} {old!r} -> {new!r}" for key, (new, old) in now.items() if new != old]


def check_carried(config: BuildConfig, goversion: str) -> None:
    """Refuse, before anything is built, to carry a target over that this configuration would
    build otherwise (its folder, goos, flags changed) or that another Go built."""
    names = left_out(config)
    old = manifest_or_none(config.out_path) if names else None
    if old is None:
        return
    specs = {spec.name: spec for spec in config.configured_specs()}
    for target in old.targets:
        changed = (
            changed_settings(config, specs[target.name], target) if target.name in names else []
        )
        if changed:
            raise _refused(
                target.name,
                f"its settings changed since the dist was built ({'; '.join(changed)})",
            )
    if old.go_version == goversion:
        return
    carried = [t.name for t in old.targets if t.name in names]
    if carried:
        raise UsageError(
            f"--target {', '.join(config.only)}: the dist was built with {old.go_version} and "
            f"this Go is {goversion}, so its other targets ({', '.join(carried)}) cannot be "
            "carried over; build every target (leave out --target)"
        )


def _refused(target: str, why: str) -> UsageError:
    return UsageError(
        f"cannot carry target {target!r} over: {why}; "
        f"build it too (--target {target}) or build every target"
    )


def carry_file(ctx: BuildContext, old_dist: Path, target: str, entry: FileEntry) -> FileEntry:
    """Copy one checked file and its checked br/gzip/zstd variants into staging; any problem
    stops the build (the user asked to rebuild other targets, not to lose this one)."""

    def refuse(why: str) -> None:
        raise _refused(target, why)

    copied = copy_checked(ctx, old_dist, entry, refuse)
    if isinstance(copied, str):
        raise _refused(target, copied)
    return copied


def carry_target(ctx: BuildContext, old_dist: Path, target: TargetEntry) -> None:
    """Bring TARGET's module (and a js target's shim) into staging and `files`."""
    for logical in (module_name(target.name), *((SHIM,) if target.goos == "js" else ())):
        entry = target.files.get(logical)
        if entry is None:
            raise _refused(target.name, f"the dist's manifest lists no {logical} for it")
        shared = ctx.files.get(logical)
        if shared is None:
            ctx.files[logical] = carry_file(ctx, old_dist, target.name, entry)
            ctx.carried_files.add(logical)
        elif shared.sha256 != entry.sha256:
            raise _refused(target.name, f"its {logical} differs from the one of this build")


def carry_targets(ctx: BuildContext) -> None:
    """Copy the targets --target left out from the old dist into staging, checked."""
    names = left_out(ctx.config)
    old_dist = ctx.config.out_path
    old = manifest_or_none(old_dist) if names else None
    if old is None and names and (old_dist / MANIFEST).exists():
        raise UsageError(
            f"--target {', '.join(ctx.config.only)}: {old_dist / MANIFEST} cannot be read, so "
            f"the other targets ({', '.join(names)}) cannot be carried over; build every target"
        )
    if old is None:
        return  # every target is built, or there is no dist to carry from
    configured = {spec.name for spec in ctx.config.configured_specs()}
    for target in old.targets:
        if target.name not in names:
            if target.name not in configured:
                ctx.warnings.append(f"target {target.name!r} is no longer configured: dropped")
            continue
        carry_target(ctx, old_dist, target)
        ctx.carried.append(target)
    carried = [t.name for t in ctx.carried]
    ctx.notes["carry"] = (
        f"{', '.join(carried)} from the dist as they were" if carried else "nothing to carry"
    )
