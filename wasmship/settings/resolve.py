"""A build's settings resolved: defaults, then wasmship.toml, then WASMSHIP_*, then overrides.

Relative paths in the file, and the defaults, are from the file's folder (the build runs
there); those in the environment and the overrides are from the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wasmship.builder.budgets import Budget, parse_budget, parse_budget_flag
from wasmship.builder.config import BuildConfig
from wasmship.builder.server_configs import parse_server_configs
from wasmship.builder.shared_cache import parse_cache_url
from wasmship.builder.steps.app_manifest import locate_icons
from wasmship.delivery.proxy_routes import ProxyRoute, flag_routes, merged
from wasmship.distformat.bounds import check_routes
from wasmship.distformat.model import Hosting
from wasmship.encodings.encoders import GzipEncoder, Profile
from wasmship.errors import ManifestError, UsageError
from wasmship.settings.keys import BUILD_KEYS, KEYS_BY_NAME, BadValue, convert, convert_text
from wasmship.settings.projectfile import FileConfig, find_config, load_config
from wasmship.toolchain.buildline import check_go_flags
from wasmship.units import parse_size

Origin = Literal["default", "file", "environment", "override"]


@dataclass(frozen=True)
class BuildSettings:
    """One build's settings: the BuildConfig the pipeline runs, and what to do with its result."""

    config: BuildConfig
    file: FileConfig | None = None  # the wasmship.toml read, if any
    quiet: bool = False
    size_report: bool = False  # attribute each module to Go packages after the build
    size_threshold: int = 1024  # with size_report: show the diff past this growth


def resolve_build(
    cwd: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    go_flags: Sequence[str] = (),
) -> BuildSettings:
    """The settings of a build started in CWD: defaults < wasmship.toml < WASMSHIP_* < OVERRIDES.

    OVERRIDES are keyed by setting name (keys.BUILD_KEYS, e.g. `{"out": "public", "profile":
    "fast"}`); a None value is no override. GO_FLAGS are passed to `go build` as they are.
    """
    check_go_flags(go_flags)  # before anything is read or built
    cwd = (cwd or Path.cwd()).absolute()
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(given) - set(KEYS_BY_NAME))
    if unknown:
        raise TypeError(f"no such setting: {', '.join(unknown)}")
    file = _config_file(cwd, given.get("config"), env)
    values: dict[str, Any] = {k.name: k.default for k in BUILD_KEYS}
    origin: dict[str, Origin] = dict.fromkeys(values, "default")
    for name, value in (file.options if file else {}).items():
        values[name], origin[name] = value, "file"
    try:
        for key in BUILD_KEYS:
            text = env.get(key.env) if key.env else None
            if key.env and text:  # an empty variable is unset
                values[key.name] = convert_text(key, text, key.env, cwd)
                origin[key.name] = "environment"
        for name, value in given.items():
            key = KEYS_BY_NAME[name]
            values[name] = convert(key, value, key.flag or name.upper(), cwd)
            origin[name] = "override"
    except BadValue as exc:
        raise UsageError(str(exc)) from None
    config = _build_config(values, origin, file, cwd, env, tuple(go_flags))
    return BuildSettings(
        config=config,
        file=file,
        quiet=values["quiet"],
        size_report=values["size_report"],
        size_threshold=_size("size_threshold", values, origin, file),
    )


def _size(
    name: str, values: dict[str, Any], origin: dict[str, Origin], file: FileConfig | None
) -> int:
    """A size setting in bytes; a bad one is refused naming where it was written."""
    try:
        return parse_size(values[name])
    except UsageError as exc:
        key = KEYS_BY_NAME[name]
        where = {
            "default": key.flag,
            "file": f"{file.path if file else 'wasmship.toml'}: {key.key}",
            "environment": key.env,
            "override": key.flag,
        }[origin[name]]
        raise UsageError(f"{where}: {exc}") from None


def _config_file(cwd: Path, explicit: object, env: Mapping[str, str]) -> FileConfig | None:
    """The wasmship.toml to read: --config, else WASMSHIP_CONFIG, else the nearest upward."""
    named = explicit or env.get("WASMSHIP_CONFIG")
    path = (cwd / str(named)).resolve() if named else find_config(cwd)
    return load_config(path) if path is not None else None


def _build_config(
    values: dict[str, Any],
    origin: dict[str, Origin],
    file: FileConfig | None,
    cwd: Path,
    env: Mapping[str, str],
    go_flags: tuple[str, ...],
) -> BuildConfig:
    workdir = file.root if file else cwd

    def placed(name: str) -> Path | None:
        """A path setting as an absolute path, from where it was written (None if unset)."""
        value = values[name]
        if value is None:
            return None
        base = workdir if origin[name] == "file" else cwd
        return (base / Path(value).expanduser()).resolve()

    package: str = values["package"]
    given_here = origin["package"] == "override"
    if file is not None and file.targets and given_here:
        names = ", ".join(t.name for t in file.targets)
        raise UsageError(
            f"PACKAGE {package!r} cannot be given: {file.path} builds its [[target]] tables "
            f"({names}); build one of them with --target NAME, or use --config to pick "
            "another wasmship.toml"
        )
    path_like = package.startswith(".") or Path(package).is_absolute()
    if file is not None and given_here and path_like and workdir != cwd:
        package = str((cwd / package).resolve())
    out = Path(values["out"])
    if origin["out"] != "default":
        out = (workdir if origin["out"] == "file" else cwd) / out
    budgets = {b.label: b for b in _file_budgets(file)}
    budgets.update({b.label: b for b in map(parse_budget_flag, values["budget"])})
    static = placed("static")
    return BuildConfig(
        package=package,
        package_unnamed=file is not None and not file.targets and origin["package"] == "default",
        out=out,
        workdir=workdir,
        go=values["go"],
        tags=_split(values["tags"]),
        ldflags=values["ldflags"],
        go_flags=go_flags,
        debug_symbols=values["debug_symbols"],
        hash_names=not values["no_hash"],
        html_template=placed("html"),
        static=static,
        static_exclude=_split(values["static_exclude"]),
        static_include=_split(values["static_include"]),
        keep_names=_split(values["keep_names"]),
        routes=_routes(_split(values["routes"]), file),
        force=values["force"],
        lock_timeout=values["lock_timeout"],
        jobs=values["jobs"] or os.cpu_count() or 1,
        keep=values["keep"],
        targets=file.targets if file else (),
        only=tuple(values["only"]),
        budgets=tuple(budgets.values()),
        server_configs=parse_server_configs(values["server_configs"]),
        profile=Profile(values["profile"]),
        gzip=GzipEncoder(values["gzip_encoder"]),
        zstd=values["zstd"],
        hosting=Hosting(values["hosting"]),
        offline=values["offline"],
        spa=values["spa"],
        csp_off=values["csp_off"],
        headers=file.headers if file else (),
        csp=file.csp if file else (),
        app=locate_icons(file.app, static, workdir) if file and file.app else None,
        cache=not values["no_cache"],
        cache_dir=placed("cache_dir"),
        cache_max_size=_size("cache_max_size", values, origin, file),
        cache_url=_cache_url(values["cache_url"], env),
        environ=dict(env),
    )


def _cache_url(url: str, env: Mapping[str, str]) -> str:
    """URL (--cache-url), checked now: a bad one fails before go build, not after it."""
    if url:
        parse_cache_url(url, env)
    return url


def _file_budgets(file: FileConfig | None) -> list[Budget]:
    """The [budget] table's budgets; a bad one is refused naming the file and the key."""
    found = []
    for key, value in (file.budgets if file else {}).items():
        try:
            found.append(parse_budget(key, value))
        except UsageError as exc:
            raise UsageError(
                f"{file.path if file else 'wasmship.toml'}: budget {key}: {exc}"
            ) from None
    return found


def _routes(routes: tuple[str, ...], file: FileConfig | None) -> tuple[str, ...]:
    """The routes a service worker answers, bounded as the manifest bounds them."""
    try:
        check_routes(routes)
    except ManifestError as exc:
        where = file.path if file is not None else "--routes"
        raise UsageError(f"{where}: {exc}") from None
    return tuple(dict.fromkeys(route.lstrip("/") for route in routes))


def _split(values: Iterable[str]) -> tuple[str, ...]:
    """Items of a repeated, comma-separated setting: `'*.psd,drafts/'` -> two."""
    return tuple(p.strip() for value in values for p in value.split(",") if p.strip())


def resolve_proxies(
    cwd: Path,
    flags: Iterable[str],
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ProxyRoute, ...]:
    """The routes in force: --proxy FLAGS over the [[proxy]] tables of CONFIG (or
    WASMSHIP_CONFIG, or the wasmship.toml found upward from CWD), longest prefix first."""
    env = os.environ if environ is None else environ
    given = tuple(flag_routes(flags))
    named = config or env.get("WASMSHIP_CONFIG")  # as resolve_build finds it
    path = (cwd / str(named)).resolve() if named else find_config(cwd)
    file = load_config(path).proxies if path is not None else ()
    return merged(given, file)
