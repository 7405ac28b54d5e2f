"""The inputs digest: everything a dist's bytes follow from, as one SHA-256.

A build records it in the manifest (`build.inputs`). The next build of the same dist computes
it right after go build; when it is equal and every file the manifest lists is still there
with its size, the dist is up to date and is left exactly as it is: nothing is staged,
compressed or swapped. Budgets do not change a byte and are left out; so are the values of a
target's environment (they reach the dist only through the module's bytes, which are in).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from importlib.resources import files
from pathlib import Path

from wasmship import __version__
from wasmship.builder.config import TargetSpec
from wasmship.builder.context import BuildContext, module_name
from wasmship.builder.steps.carry import left_out
from wasmship.builder.webfolder import select_files
from wasmship.distformat.digests import sha256_hex
from wasmship.distformat.model import Manifest
from wasmship.distformat.names import SHIM
from wasmship.encodings.encoders import delta_settings, encoders

FORMAT = 1  # a new meaning of the digest's parts takes a new number


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_hex(path.read_bytes())
    except OSError:
        return None  # the step that reads it says why; no built dist was made from it


# BuildConfig fields that are not inputs; every other field is, so no new setting is forgotten.
NOT_INPUTS = (
    frozenset({"workdir", "out", "go", "force", "lock_timeout", "jobs", "environ"})  # the run
    | frozenset({"package_unnamed"})  # only decides whether "." is refused
    | frozenset({"cache", "cache_dir", "cache_max_size", "cache_url", "budgets"})  # change no byte
    | frozenset({"static", "targets"})  # in the digest on their own
)


def _plain(value: object) -> object:
    """A setting as JSON: enums by value, dataclasses as objects, a file by its content."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return _file_sha256(value)  # never the path: the same project elsewhere is equal
    if is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(str(_plain(item)) for item in value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if callable(value):  # by name: its repr holds an address, new in every run
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
    return str(value)


def _fields(value: object) -> dict[str, object]:
    """The fields of a dataclass instance, as JSON."""
    return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}  # type: ignore[arg-type]


def _target(spec: TargetSpec) -> dict[str, object]:
    """A configured target; of its environment the names only (the manifest lists them), as
    the values reach the dist only through the module's bytes."""
    return {**_fields(spec), "env": [name for name, _ in spec.env]}


def _settings(ctx: BuildContext) -> dict[str, object]:
    """Every setting that changes a byte of the dist (of a module, a name, a page, a variant,
    the manifest or a server config)."""
    config = ctx.config
    found = {name: value for name, value in _fields(config).items() if name not in NOT_INPUTS}
    if config.app is None:  # a dist without [app] keeps the digest it had before [app] existed
        del found["app"]
    if not config.routes:  # nor without routes
        del found["routes"]
    if not config.spa:  # nor does a dist built without --spa
        del found["spa"]
    if not config.headers:  # nor one without [headers]
        del found["headers"]
    if not config.keep_names:  # nor one without keep-names
        del found["keep_names"]
    if not config.csp:  # nor one without [csp]
        del found["csp"]
    found["targets"] = [_target(spec) for spec in config.configured_specs()]
    found["built"] = [target.package.import_path for target in ctx.targets]
    # The exact codec settings (library versions included) of every variant and delta.
    chosen = encoders(config.profile, config.gzip, config.zstd)
    found["encoders"] = [e.settings_for(1, "").key_text() for e in chosen]
    found["deltas"] = delta_settings(config.profile, 1, "").key_text()
    return found


def _own_files() -> dict[str, str]:
    """wasmship's own files that go into a dist (the loader, its page, icon and styles), by
    content: a development checkout changes them without a new version."""
    data = files("wasmship").joinpath("data")
    return {f.name: sha256_hex(f.read_bytes()) for f in data.iterdir() if f.is_file()}


def _static(ctx: BuildContext) -> list[tuple[str, str | None]] | None:
    """Each file of --static that goes in, by its path in the dist, with its SHA-256."""
    config = ctx.config
    if config.static is None:
        return None
    selection = select_files(
        config.static, config.out_path, include=config.static_include, exclude=config.static_exclude
    )
    return [(rel, _file_sha256(path)) for rel, path in selection.files]


def _carried(ctx: BuildContext, old: Manifest | None) -> list[dict[str, str]]:
    """The targets --target leaves out, as the old dist holds them: their modules and shim are
    copied over (carry.py), everything else is made from them anew."""
    carried = []
    for name in left_out(ctx.config):
        target = old.target(name) if old is not None else None
        entries = target.files if target is not None else {}
        copied = {
            f: f"{e.path} {e.sha256}" for f, e in entries.items() if f in (module_name(name), SHIM)
        }
        carried.append({"name": name, **copied})
    return carried


def inputs_digest(ctx: BuildContext, old: Manifest | None) -> str:
    """The SHA-256 of everything the dist built from CTX follows from; OLD is the dist's
    manifest (the targets left out by --target are carried from it)."""
    shim = ctx.toolchain.shim() if ctx.builds_browser_target else None
    document = {
        "format": FORMAT,
        "wasmship": __version__,
        "go": ctx.toolchain.goversion,
        "settings": _settings(ctx),
        "modules": {name: module.sha256 for name, module in sorted(ctx.compiled.items())},
        "shim": _file_sha256(shim) if shim is not None else None,
        "own_files": _own_files(),
        "static": _static(ctx),
        "carried": _carried(ctx, old),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def up_to_date(dist: Path, old: Manifest, inputs: str) -> bool:
    """Whether the dist at DIST, whose manifest is OLD, was built from INPUTS and still holds
    every file it lists with its size (stat alone: no byte of the dist is read)."""
    return old.inputs == inputs and old.differs_from(dist) is None
