"""Step: adopt the project's own web folder (--static DIR).

Its pages (and what only run-time code names) keep their names and are served with
revalidation; the files its pages, stylesheets and scripts name by literal URLs get hashed
names, leaves first (build/assets.py). Every reference in its HTML, JS and CSS to a built
file's plain name (`main.wasm`, `/web/app.wasm`, `wasm_exec.js`) becomes the URL of the
hashed file (see build/rewrite.py), so existing code loads hashed, immutable modules without
an edit. What no site needs is left out (see
build/webfolder.py); a Go shim, whatever its name, is replaced by this Go's (build/goshim.py).
Everything that can be refused is refused by `check_static` before go build starts.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from wasmship.builder.assets import fingerprint_files
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext, module_name, shim_folder
from wasmship.builder.dist_files import add_file
from wasmship.builder.goshim import holds_shim, read_shim, same_shim, shim_version
from wasmship.builder.rewrite import (
    Built,
    Mismatch,
    RemoteShim,
    kind_of,
    name_pattern,
    rewrite_texts,
)
from wasmship.builder.server_configs import SERVER_CONFIGS
from wasmship.builder.static_advice import explain_missing
from wasmship.builder.webfolder import Selection, holds_dist_manifest, own_page, select_files
from wasmship.distformat.names import ICON, LOADER, LOADER_STYLE, MANIFEST, PAGE, SHIM, WEB_MANIFEST
from wasmship.errors import UsageError
from wasmship.toolchain.locate import Toolchain


@dataclass(frozen=True)
class Adoption:
    """What of the web folder goes into the dist, and how."""

    selection: Selection
    copied: tuple[tuple[str, Path], ...]  # (dist path, file) of what goes in
    texts: Mapping[str, str]  # the rewritten text of the pages, scripts and stylesheets changed
    replaced: tuple[str, ...]  # left out because a built file takes their place
    warnings: tuple[str, ...]
    remote: tuple[RemoteShim, ...] = ()  # shim URLs of other origins, now the dist's own


def rewrite(text: str, renames: dict[str, str]) -> str:
    """TEXT with each plain name (a whole URL path segment) replaced by its new name, wherever
    it is: the name-level rewrite, without resolving (the step resolves: build/rewrite.py)."""
    if not renames:
        return text
    return name_pattern(list(renames)).sub(lambda m: renames[m.group(1)], text)


def label(config: BuildConfig) -> str:
    """The static folder as the user named it: `./`, `web/`."""
    assert config.static is not None
    try:
        rel = os.path.relpath(config.static, config.workdir)
    except ValueError:
        rel = str(config.static)
    return "./" if rel == "." else rel.rstrip("/") + "/"


def planned_files(config: BuildConfig) -> list[Built]:
    """The modules and the shim the configuration will build, where they will be."""
    specs = config.configured_specs()
    built = [
        Built(name, posixpath.join(s.folder, name), posixpath.join(s.folder, name), _what(s.name))
        for s in specs
        for name in [module_name(s.name)]
    ]
    if any(s.goos == "js" for s in specs):
        plain = posixpath.join(shim_folder(config), SHIM)
        built.append(Built(SHIM, plain, plain, "the shim (wasm_exec.js)"))
    return built


def built_files(ctx: BuildContext) -> list[Built]:
    """The modules and the shim of the dist being built, where they are."""
    built = []
    for target in ctx.dist_targets:
        entry = ctx.files.get(module_name(target.name))
        if entry is not None:
            plain = posixpath.join(posixpath.dirname(entry.path), entry.logical)
            what = _what(target.name)
            built.append(Built(entry.logical, plain, entry.path, what, entry.integrity))
    shim = ctx.files.get(SHIM)
    if shim is not None:
        plain = posixpath.join(posixpath.dirname(shim.path), SHIM)
        built.append(Built(SHIM, plain, shim.path, "the shim (wasm_exec.js)", shim.integrity))
    return built


def _what(target: str) -> str:
    return f'the module of target "{target}"'


def reserved_names(config: BuildConfig) -> dict[str, str]:
    """Paths at the static folder's root that wasmship's own files own, with whose they are."""
    reserved = {MANIFEST: "wasmship's manifest (rename a web manifest, e.g. app.webmanifest)"}
    for spec in config.configured_specs():
        reserved[module_name(spec.name)] = f'the logical name of target "{spec.name}"\'s module'
    if any(s.goos == "js" for s in config.configured_specs()):
        reserved[SHIM] = "the logical name of the shim"
        if not own_page(config):
            reserved[LOADER] = "the loader of the page wasmship writes"
            reserved[LOADER_STYLE] = "the loader's stylesheet"
            if config.html_template is None:
                reserved[ICON] = "the icon of the page wasmship writes"
    if config.app is not None:
        reserved[WEB_MANIFEST] = "the web app manifest wasmship writes from [app]"
    for server in SERVER_CONFIGS:
        if server.name in config.server_configs and (config.spa or not server.spa_only):
            reserved[server.path] = f"the {server.name} config (--server-config {server.name})"
    return reserved


def check_static(config: BuildConfig, toolchain: Toolchain) -> None:
    """Refuse, before anything is compiled, a static folder the build could not adopt."""
    folder = config.static
    if folder is None:
        return
    if not folder.is_dir():
        raise UsageError(f"--static {folder}: no such folder")
    out, real, project = config.out_path, folder.resolve(), config.workdir.resolve()
    if real != project and project not in real.parents:
        # Copied whole into a public dist: a folder outside the project (`/`, `~`, `../..`)
        # would walk and publish what was never the project's, as `folder = "../x"` would.
        raise UsageError(
            f"--static {folder}: it is outside the project {project} (the folder of "
            "wasmship.toml, or the working directory without one); use a web folder inside it"
        )
    if real == out or out in real.parents:
        raise UsageError(
            f"--static {label(config)}: it is inside the dist folder {out}, which every build "
            "replaces; keep your web folder elsewhere"
        )
    if holds_dist_manifest(folder):
        raise UsageError(
            f"--static {label(config)}: it is a dist wasmship wrote (its {MANIFEST} says so); "
            "point --static at your own web folder"
        )
    adopt(config, toolchain, planned_files(config))


def adopt(config: BuildConfig, toolchain: Toolchain, built: list[Built]) -> Adoption:
    """Choose the web folder's files, replace its Go shims and rewrite its references."""
    folder = config.static
    assert folder is not None
    selection = select_files(
        folder, config.out_path, include=config.static_include, exclude=config.static_exclude
    )
    reserved = reserved_names(config)
    shim = next((b for b in built if b.logical == SHIM), None)
    ours = toolchain.shim().read_bytes() if shim is not None else b""
    targets = {b.plain: b for b in built}
    copied: list[tuple[str, Path]] = []
    replaced: list[str] = []
    warnings: list[str] = []
    texts: dict[str, str] = {}
    remote: list[RemoteShim] = []
    for rel, path in selection.files:
        kind = kind_of(rel)
        data = path.read_bytes() if kind is not None else b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            kind, text = None, ""  # not UTF-8 text: copied as it is
        found = read_shim(text) if kind == "js" and shim is not None else None
        if rel in targets or (found is not None and found.alone):
            if found is not None and shim is not None:
                if not same_shim(data, ours):
                    warnings.append(_stale(config, rel, text, found.module, toolchain, shim))
                targets.setdefault(rel, shim)  # by another name: what loaded it loads this Go's
            replaced.append(rel)
            continue
        if found is not None and not holds_shim(text, ours.decode("utf-8", "replace")):
            raise UsageError(
                f"{_show(config, rel)}: it bundles a Go wasm shim ({found.version}'s) with "
                f"other code, and {toolchain.goversion} builds the module, whose shim differs; "
                "wasmship can replace a shim only in a file of its own: load wasm_exec.js with "
                "a <script src> of its own (wasmship ships this Go's and rewrites the name) "
                "and leave it out of the bundle"
            )
        if rel in reserved:
            raise UsageError(
                f"--static {label(config)}: {rel} has the name of a file wasmship writes "
                f"({reserved[rel]}); rename it"
            )
        if kind is not None:
            texts[rel] = text
        copied.append((rel, path))
    changed = rewrite_texts(
        texts,
        targets,
        built,
        lambda m: _advice(config, m),
        lambda rel: _show(config, rel),
        present=[rel for rel, _ in selection.files],
        routes=config.routes,
        explain=lambda ref: explain_missing(config, ref),
        remote=remote,
    )
    for ref in remote:
        if ref.version is not None and ref.version != toolchain.goversion and shim is not None:
            warnings.append(
                f"{_show(config, ref.file)}:{ref.line}: loads Go's shim of {ref.version} from "
                f"{ref.url}, but {toolchain.goversion} builds the module, whose shim differs: "
                f"rewritten to the dist's own ({shim.path})"
            )
    adoption = Adoption(selection, tuple(copied), changed, tuple(replaced), tuple(warnings))
    return replace(adoption, remote=tuple(remote))


def _stale(
    config: BuildConfig, rel: str, text: str, module: str, toolchain: Toolchain, shim: Built
) -> str:
    """The warning for a Go shim that is not this Go's, replaced by it."""
    go = toolchain.goversion
    return (
        f"{_show(config, rel)} is Go's wasm shim from {shim_version(text, module)}, but {go} "
        f"builds the module, whose shim differs: replaced by {go}'s ({shim.path}), and the "
        "references to it rewritten"
    )


def _show(config: BuildConfig, rel: str) -> str:
    """A static file as the user finds it in the project: `web/app.js`."""
    assert config.static is not None
    path = config.static / rel
    try:
        return os.path.relpath(path, config.workdir)
    except ValueError:
        return str(path)


def _advice(config: BuildConfig, mismatch: Mismatch) -> str:
    """What to do about a reference to a built file's plain name where the file is not."""
    setting = f'folder = "{posixpath.dirname(mismatch.resolved)}"'
    specs = config.configured_specs()
    shim = mismatch.built.logical == SHIM
    name = mismatch.built.logical.removesuffix(".wasm")
    owner = next((s for s in specs if (s.goos == "js" if shim else s.name == name)), specs[0])
    if config.targets:
        where = f'set {setting} in the [[target]] named "{owner.name}" in wasmship.toml'
        if shim:
            where = f'the shim goes in the folder of the first js target, "{owner.name}": {where}'
    else:
        table = f'name = "{owner.name}", package = "{owner.package}", {setting}'
        what = "put the module and the shim" if shim else "put it"
        where = f"{what} there with a [[target]] in wasmship.toml ({table})"
    return f'{where}, or make the reference "/{mismatch.built.plain}"'


def copy_static(ctx: BuildContext) -> None:
    """Copy the static folder into staging, rewriting references to the built files."""
    config = ctx.config
    if config.static is None:
        return
    adoption = adopt(config, ctx.toolchain, built_files(ctx))
    written = {entry.path for entry in ctx.files.values()}
    replaced = list(adoption.replaced)
    contents: dict[str, bytes] = {}
    for rel, path in adoption.copied:
        if rel in written and rel != PAGE:
            replaced.append(rel)  # a built file's very path (--no-hash): the built one wins
            continue
        text = adoption.texts.get(rel)
        contents[rel] = text.encode("utf-8") if text is not None else path.read_bytes()
    # The files the pages name get hashed names, leaves first (build/assets.py).
    named = fingerprint_files(contents, config.keep_names, hashing=config.hash_names)
    for rel in sorted(contents):
        hashed = named.paths[rel] != rel
        folder = posixpath.dirname(rel) if hashed else ""
        entry = add_file(ctx, rel, named.contents[rel], hashed=hashed, folder=folder)
        assert entry.path == named.paths[rel], (entry.path, named.paths[rel])
        ctx.static_files.append(rel)
    ctx.warnings.extend(adoption.warnings)
    ctx.warnings.extend(named.warnings)
    note = adoption.selection.summary(label(config), len(ctx.static_files))
    if named.hashed:
        note += f"; {len(named.hashed)} named by content"
    if replaced:
        note += f"; replaced by the built files: {', '.join(sorted(replaced))}"
    if adoption.remote:
        count, plural = len(adoption.remote), "s" if len(adoption.remote) > 1 else ""
        note += f"; {count} wasm_exec.js URL{plural} of another origin made the dist's own"
    ctx.notes["static"] = note
