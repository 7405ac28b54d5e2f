"""Step: resolve each target's main package and compile it with GOARCH=wasm."""

from __future__ import annotations

import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wasmship.builder.config import CONFIG_NAME, BuildConfig, TargetSpec
from wasmship.builder.context import BuildContext, Compiled, GoPackage, Target
from wasmship.cachedir import OUTPUTS, touch
from wasmship.distformat.digests import sha256_hex
from wasmship.errors import CompileError, UsageError
from wasmship.toolchain.buildline import BuildLine
from wasmship.toolchain.golist import BROWSER_FIELDS, browser_reason, go_list
from wasmship.toolchain.locate import Toolchain
from wasmship.toolchain.processes import GoProcesses
from wasmship.toolchain.runner import go_environ


def run_dir_for(workdir: Path, package: str) -> tuple[Path, str]:
    """Where go runs and what package it builds; a folder with its own go.mod is built in place."""
    candidate = (workdir / package).resolve()
    if candidate.is_dir() and (candidate / "go.mod").is_file():
        return candidate, "."
    return workdir.resolve(), package


def _module_dir(config: BuildConfig, spec: TargetSpec) -> Path | None:
    """The folder of the target's `module` (from wasmship.toml's folder), checked; None: none."""
    if not spec.module:
        return None
    folder = (config.workdir / spec.module).resolve()
    missing = folder if not folder.is_dir() else folder / "go.mod"
    if not missing.is_file():
        raise UsageError(
            f'target {spec.name!r}: module = "{spec.module}" is not a Go module: {missing} does '
            "not exist (module names a folder with its own go.mod, relative to wasmship.toml)"
        )
    return folder


def target_run_dir(config: BuildConfig, spec: TargetSpec) -> tuple[Path, str]:
    """Where the target's go commands run and the package they are given there."""
    folder = _module_dir(config, spec)
    if folder is None:
        return run_dir_for(config.workdir, spec.package)
    return folder, spec.package  # `module` is explicit: no folder with a go.mod is built in place


def _module_root(folder: Path) -> Path | None:
    """The folder of the nearest go.mod at or above FOLDER."""
    return next((d for d in (folder, *folder.parents) if (d / "go.mod").is_file()), None)


def _is_path(package: str) -> bool:
    """Whether go reads PACKAGE as a folder rather than an import path (and not a pattern)."""
    relative = package in (".", "..") or package.startswith(("./", "../"))
    return (relative or Path(package).is_absolute()) and "..." not in package


def _refuse_other_module(
    config: BuildConfig, spec: TargetSpec, run_dir: Path, package: str
) -> None:
    """Say so when go failed on a package folder that lies in a Go module of its own."""
    folder = (run_dir / package).resolve()
    if not _is_path(package) or not folder.is_dir():
        return
    owner = _module_root(folder)
    if owner is None or owner == _module_root(run_dir):
        return
    module = os.path.relpath(owner, config.workdir.resolve())
    inner = "./" + folder.relative_to(owner).as_posix() if folder != owner else "."
    build = "wasmship build" if inner == "." else f"wasmship build {inner}"
    # From inside the module, a wasmship.toml above it (not its own) would be found and used.
    outer = any((d / CONFIG_NAME).is_file() for d in owner.parents)
    cd = "" if outer and not (owner / CONFIG_NAME).is_file() else f"`cd {module} && {build}`, or "
    raise UsageError(
        f"package {spec.package!r} is in {module}, a Go module of its own "
        f"({os.path.join(module, 'go.mod')}): build it in that module with {cd}a [[target]] "
        f'with module = "{module}" and package = "{inner}"'
    )


def _refuse_a_guess_that_is_no_browser_program(
    config: BuildConfig, spec: TargetSpec, toolchain: Toolchain, run_dir: Path, env: dict[str, str]
) -> None:
    """Refuse "." when wasmship.toml names no package and "." does not use syscall/js: it is
    as likely the project's server as its browser program (`wasmship init` knows the rule)."""
    proc, found = go_list(
        toolchain.go, [spec.package], run_dir, env, fields=BROWSER_FIELDS, deps=True
    )
    by_path = {p["ImportPath"]: p for p in found if "ImportPath" in p}
    main = next((p for p in found if not p.get("DepOnly")), None)
    reason = browser_reason(main, by_path) if proc.ok and main is not None else None
    if reason is not None:
        raise UsageError(
            f"wasmship.toml names no package, so the js target would be {spec.package!r} "
            f"({main.get('ImportPath') if main else spec.package}), which {reason}: name the "
            'browser program with package = "./cmd/web" (or [[target]] tables); if it is this '
            'one, write package = "." (`wasmship init` proposes the packages that use syscall/js)'
        )


def resolve_package(config: BuildConfig, spec: TargetSpec, toolchain: Toolchain) -> GoPackage:
    """Ask `go list` what the target's package is, and refuse anything but a main package."""
    run_dir, package = target_run_dir(config, spec)
    env = go_environ(config.environ, spec.goos, spec.env)
    fields = "ImportPath,Name,Dir,Error"
    proc, found = go_list(toolchain.go, [package], run_dir, env, fields=fields, find=True)
    if not proc.ok or not proc.stdout.strip():
        _refuse_other_module(config, spec, run_dir, package)
        raise proc.error(UsageError, f"cannot resolve package {spec.package!r}")
    if len(found) != 1:
        raise UsageError(
            f"cannot resolve package {spec.package!r}: `go list` printed several packages; "
            "name exactly one main package"
        )
    listed = found[0]
    name = listed.get("Name", "")
    error = (listed.get("Error") or {}).get("Err", "")
    if not name:
        _refuse_other_module(config, spec, run_dir, package)
        raise UsageError(f"cannot build package {spec.package!r}: {error or 'no Go files found'}")
    if name != "main":
        raise UsageError(
            f"package {spec.package!r} ({listed.get('ImportPath')}) is package {name!r}, "
            "not a main package: wasmship builds programs. Point it at a folder with "
            "`package main` and a func main."
        )
    if config.package_unnamed and spec.goos == "js":
        _refuse_a_guess_that_is_no_browser_program(config, spec, toolchain, run_dir, env)
    return GoPackage(
        import_path=listed.get("ImportPath", package),
        directory=Path(listed["Dir"]),
        run_dir=run_dir,
        pattern=package,
    )


def resolve_targets(config: BuildConfig, toolchain: Toolchain) -> tuple[Target, ...]:
    """Every target of the build with its resolved package."""
    return tuple(
        Target(
            name=spec.name,
            goos=spec.goos,
            package=resolve_package(config, spec, toolchain),
            tags=spec.tags,
            ldflags=spec.ldflags,
            env=spec.env,
        )
        for spec in config.target_specs()
    )


def build_line(config: BuildConfig, toolchain: Toolchain, target: Target) -> BuildLine:
    """How TARGET's package is built with CONFIG's flags."""
    return BuildLine(
        go=toolchain.go,
        package=target.package.pattern,
        tags=(*config.tags, *target.tags),
        ldflags=" ".join(part for part in (config.ldflags, target.ldflags) if part),
        go_flags=config.go_flags,
        strip=not config.debug_symbols,
    )


# go's work folder (GOTMPDIR) is beside its output: what a killed go leaves (go cleans up only
# when it ends by itself) is removed by the next build of the dist, never left in /tmp.
GO_TMP = ".go-tmp"
WASM_MAGIC = b"\0asm"


def outputs_entry(config: BuildConfig) -> Path:
    """The dist's persistent outputs in the cache (one entry of the out bucket), keyed by the
    dist's real path."""
    key = hashlib.sha256(os.fsencode(config.out_path)).hexdigest()[:32]
    return OUTPUTS.path(config.cache_root) / key


def output_folder(config: BuildConfig, target: str) -> Path:
    """TARGET's persistent output folder, so that go build finds an unchanged module up to date
    instead of linking it again."""
    return outputs_entry(config) / target


def persistent_outputs(config: BuildConfig, targets: tuple[Target, ...]) -> bool:
    """Whether compile can write the persistent outputs: the cache is on and its folder usable
    (else compile writes into staging, as with --no-cache, and the dist is always published)."""
    if not config.cache:
        return False
    try:
        for target in targets:
            output_folder(config, target.name).mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    touch(outputs_entry(config))  # an up-to-date go build writes nothing: this build used it
    return True


def read_module(output: Path) -> bytes:
    """The module go build wrote, read once; ValueError when it is not WebAssembly."""
    with output.open("rb") as file:
        if file.read(4) != WASM_MAGIC:  # 4 bytes: a wrong output is refused before reading it
            raise ValueError(f"{output} is not a WebAssembly module")
        file.seek(0)
        return file.read()


def compile_target(ctx: BuildContext, target: Target, processes: GoProcesses) -> None:
    """Compile one target, read its module once and hash it (ctx.compiled).

    The output is persistent (see output_folder) and written under the dist's lock, so two
    builds never write one file; with --no-cache it goes into staging as <name>.wasm.
    """
    if ctx.persistent_output:
        folder = output_folder(ctx.config, target.name)
        tmp = folder / GO_TMP
    else:  # --no-cache: straight into staging, as before
        folder, tmp = ctx.staging, ctx.staging / f"{GO_TMP}-{target.name}"
    shutil.rmtree(tmp, ignore_errors=True)  # what a killed go left
    tmp.mkdir(parents=True)
    output = folder / target.module
    line = build_line(ctx.config, ctx.toolchain, target)
    cmd = line.release(output)
    env = go_environ(ctx.config.environ, target.goos, target.env)
    env["GOTMPDIR"] = str(tmp)  # on the output's filesystem: go renames its link output in place
    try:
        returncode = processes.run(cmd, target.package.run_dir, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if returncode != 0:
        raise CompileError(cmd, returncode, target.name)
    try:
        data = read_module(output)
    except (OSError, ValueError):
        raise CompileError(cmd, 0, target.name) from None
    ctx.compiled[target.name] = Compiled(output, data, sha256_hex(data), line)


def compile_module(ctx: BuildContext) -> None:
    """Run `go build` for every target, in parallel up to --jobs; diagnostics go to stderr."""
    processes = GoProcesses()
    workers = max(1, min(ctx.config.jobs, len(ctx.targets)))
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(compile_target, ctx, t, processes) for t in ctx.targets]
        for future in futures:
            future.result()
    except BaseException:
        # A failed target or an interrupt: stop the other builds now rather than wait for them.
        processes.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    names = [t.package.import_path for t in ctx.targets]
    ctx.notes["compile"] = names[0] if len(names) == 1 else f"{len(names)} targets"
