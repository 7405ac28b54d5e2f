"""wasmship.toml: found upward from the working directory, validated against the CLI's options.

Every option of `wasmship build` has a key, named like its flag without the dashes
(`--lock-timeout` -> `lock-timeout`; `--no-hash` -> `hash = false`). Values feed click's
default_map, so the precedence is defaults < file < environment (WASMSHIP_*) < flags.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from wasmship.builder.budgets import parse_budget, parse_budget_flag
from wasmship.builder.config import CONFIG_NAME, AppConfig, BuildConfig, TargetSpec
from wasmship.builder.server_configs import parse_server_configs
from wasmship.builder.steps.app_manifest import locate_icons, parse_app
from wasmship.distformat.model import Hosting
from wasmship.distformat.names import TARGET_NAME_RULE, is_target_name, relative_path
from wasmship.encodings.encoders import GzipEncoder, Profile
from wasmship.errors import UsageError
from wasmship.plugins.allowlist import allow_problem
from wasmship.units import parse_size

# Options that make no sense in a file: they are about one run, not the project.
NOT_IN_FILE = frozenset({"config", "as_json", "help", "only", "budget", "debug"})
TARGET_KEYS = ("name", "package", "goos", "tags", "ldflags", "env", "folder", "module", "allow")
GOOS_VALUES = ("js", "wasip1")


class ConfigError(UsageError):
    """A problem in wasmship.toml, named by file, line and key."""


@dataclass(frozen=True)
class FileConfig:
    """What a wasmship.toml says, already checked."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)  # click parameter name -> value
    targets: tuple[TargetSpec, ...] = ()
    budgets: dict[str, str] = field(default_factory=dict)
    app: AppConfig | None = None  # [app]: the web app manifest

    @property
    def root(self) -> Path:
        """The folder relative paths in the file are resolved from."""
        return self.path.parent


def find_config(start: Path) -> Path | None:
    """The nearest wasmship.toml in START or one of its parents."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def option_key(param: click.Parameter) -> str:
    """The file key of a CLI option: its long flag without dashes and without a `no-`."""
    assert param.name is not None
    longs = [opt[2:] for opt in param.opts if opt.startswith("--")]
    key = longs[0] if longs else param.name.replace("_", "-")
    return key[3:] if key.startswith("no-") and _is_flag(param) else key


def config_defaults(file: FileConfig, command: click.Command) -> dict[str, Any]:
    """The file's options as click's default_map; paths made absolute from the file's folder."""
    defaults: dict[str, Any] = {}
    params = {p.name: p for p in command.params}
    for name, value in file.options.items():
        if isinstance(params[name].type, click.Path) and isinstance(value, str | Path):
            value = file.root / value
        defaults[name] = value
    return defaults


def build_config(
    ctx: click.Context, options: dict[str, Any], file: FileConfig | None
) -> BuildConfig:
    """The BuildConfig of one `wasmship build`: flags, environment, file and defaults merged.

    Relative paths given on the command line or in the environment are from the working
    directory; those in the file, and the defaults, are from the file's folder.
    """
    cwd = Path.cwd()
    workdir = file.root if file else cwd

    def given_here(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)

    package: str = options["package"]
    if file is not None and file.targets and given_here("package"):
        names = ", ".join(t.name for t in file.targets)
        raise UsageError(
            f"PACKAGE {package!r} cannot be given: {file.path} builds its [[target]] tables "
            f"({names}); build one of them with --target NAME, or use --config to pick "
            "another wasmship.toml"
        )
    path_like = package.startswith(".") or Path(package).is_absolute()
    if file is not None and given_here("package") and path_like and workdir != cwd:
        package = str((cwd / package).resolve())
    out: Path = options["out"]
    if given_here("out"):
        out = cwd / out
    html: Path | None = options.get("html")
    budgets = {
        b.label: b for b in (parse_budget(k, v) for k, v in (file.budgets if file else {}).items())
    }
    budgets.update({b.label: b for b in map(parse_budget_flag, options.get("budget", ()))})
    static = (cwd / options["static"]).resolve() if options.get("static") else None
    app = locate_icons(file.app, static, workdir) if file and file.app else None
    return BuildConfig(
        package=package,
        out=out,
        workdir=workdir,
        go=options["go"],
        tags=tuple(t.strip() for group in options["tags"] for t in group.split(",") if t.strip()),
        ldflags=options["ldflags"],
        go_flags=ctx.meta.get("go_flags", ()),
        debug_symbols=options["debug_symbols"],
        hash_names=not options["no_hash"],
        html_template=(cwd / html).resolve() if html else None,
        static=static,
        static_exclude=_patterns(options.get("static_exclude", ())),
        static_include=_patterns(options.get("static_include", ())),
        force=options["force"],
        lock_timeout=options["lock_timeout"],
        jobs=options["jobs"] or os.cpu_count() or 1,
        keep=options["keep"],
        targets=file.targets if file else (),
        only=tuple(options.get("only", ())),
        budgets=tuple(budgets.values()),
        server_configs=parse_server_configs(options.get("server_configs", ())),
        profile=Profile(options["profile"]),
        gzip=GzipEncoder(options["gzip_encoder"]),
        zstd=options["zstd"],
        hosting=Hosting(options["hosting"]),
        offline=options.get("offline", False),
        app=app,
        cache=not options["no_cache"],
        cache_dir=(cwd / Path(options["cache_dir"]).expanduser()).resolve()
        if options.get("cache_dir")
        else None,
        cache_max_size=parse_size(options["cache_max_size"]),
    )


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Glob patterns from a repeated, comma-separated option: `'*.psd,drafts/'` -> two."""
    return tuple(p.strip() for value in values for p in value.split(",") if p.strip())


def _is_flag(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and param.is_flag


def file_options(command: click.Command) -> dict[str, click.Parameter]:
    """The keys a file may set for COMMAND, each with the parameter it feeds."""
    return {
        option_key(p): p
        for p in command.params
        if p.name
        and p.name not in NOT_IN_FILE
        and (isinstance(p, click.Option) or p.name == "package")
    }


class _Lines:
    """Finds the line of a key in the file's text, for messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, key: str, section: str | None = None, nth: int = 0) -> int:
        current: str | None = None
        seen = -1
        # `key = …`, or a dotted `key.sub = …`
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
        header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
        for number, line in enumerate(self.lines, start=1):
            match = header.match(line)
            if match:
                current = match.group(1)
                if section is None and key and current.split(".")[0].strip("\"' ") == key:
                    return number  # a table of that name: [key] or [key.sub]
                if current == section and section is not None and key == "":
                    seen += 1
                    if seen == nth:
                        return number
                continue
            if current == section and pattern.match(line):
                return number
        return 0


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}" if line else str(path)


def _did_you_mean(key: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _convert(param: click.Parameter, key: str, value: Any, fail: Any) -> Any:
    """Check VALUE's type for PARAM and convert it as click would convert the flag."""
    if _is_flag(param):
        if not isinstance(value, bool):
            fail(f"{key} must be true or false, not {value!r}")
        assert param.name is not None
        return (not value) if param.name.startswith("no_") else value
    if param.multiple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            fail(f"{key} must be a list of strings (or one comma-separated string)")
        return [i.strip() for i in items if i.strip()]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        fail(f"{key} must be a {param.type.name}, not {value!r}")
    numeric = isinstance(param.type, click.types.IntParamType | click.types.FloatParamType)
    if numeric and isinstance(value, str):
        fail(f"{key} must be a number, not the string {value!r}")
    if not numeric and not isinstance(value, str):
        fail(f"{key} must be a string, not {value!r}")
    try:
        return param.type.convert(value, param, None)
    except click.BadParameter as exc:
        fail(f"{key}: {exc.message}")


def load_config(path: Path, command: click.Command) -> FileConfig:
    """Read and check PATH against COMMAND's options; every error names file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    lines = _Lines(text)
    allowed = file_options(command)
    options: dict[str, Any] = {}

    def fail_at(key: str, section: str | None = None, nth: int = 0) -> Any:
        def fail(message: str) -> None:
            raise ConfigError(f"{_where(path, lines.of(key, section, nth))}: {message}")

        return fail

    for key, value in data.items():
        if key == "target":
            continue
        if key in ("budget", "app"):
            continue
        param = allowed.get(key)
        if param is None:
            valid = [*allowed, "target", "budget", "app"]
            fail_at(key)(f"unknown key {key!r}{_did_you_mean(key, valid)}")
            continue
        assert param.name is not None
        options[param.name] = _convert(param, key, value, fail_at(key))
    targets = _targets(data.get("target", []), fail_at)
    if targets and "package" in options:
        fail_at("package")(
            "package and [[target]] tables do not go together: each [[target]] names its own "
            "package; move it into a [[target]] table"
        )
    budgets = _budgets(data.get("budget", {}), fail_at)
    app = parse_app(data["app"], fail_at) if "app" in data else None
    return FileConfig(path=path, options=options, targets=targets, budgets=budgets, app=app)


def _targets(raw: Any, fail_at: Any) -> tuple[TargetSpec, ...]:
    if not isinstance(raw, list):
        fail_at("target")("target must be an array of tables: write [[target]]")
    specs: list[TargetSpec] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        fail = fail_at("", "target", index)
        if not isinstance(table, dict):
            fail("each [[target]] must be a table")
        for key in table:
            if key not in TARGET_KEYS:
                fail_at(key, "target", index)(
                    f"unknown key {key!r} in [[target]]{_did_you_mean(key, TARGET_KEYS)}"
                )
        name = table.get("name")
        if not isinstance(name, str):
            fail(f"[[target]] needs a name: {TARGET_NAME_RULE}")
        if not is_target_name(name):
            fail(f"[[target]] name {name!r} is not allowed: use {TARGET_NAME_RULE}")
        if name in seen:
            fail(f"target name {name!r} is used twice; names must be unique")
        seen.add(name)
        package = table.get("package", ".")
        goos = table.get("goos", "js")
        ldflags = table.get("ldflags", "")
        tags = table.get("tags", [])
        env = table.get("env", {})
        folder = table.get("folder", "")
        module = table.get("module", "")
        if not isinstance(folder, str) or (folder and relative_path(folder.strip("/")) is None):
            fail_at("folder", "target", index)(
                'folder must be a relative folder inside the dist, e.g. "web"'
            )
        if not isinstance(module, str):
            fail_at("module", "target", index)("module must be a string: a folder with go.mod")
        if not isinstance(package, str):
            fail_at("package", "target", index)("package must be a string")
        if goos not in GOOS_VALUES:
            fail_at("goos", "target", index)(f"goos must be one of {', '.join(GOOS_VALUES)}")
        if not isinstance(ldflags, str):
            fail_at("ldflags", "target", index)("ldflags must be a string")
        if isinstance(tags, str):
            tags = tags.split(",")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            fail_at("tags", "target", index)("tags must be a list of strings")
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            fail_at("env", "target", index)("env must be a table of strings")
        allow = table.get("allow")
        if allow is not None:
            _check_allow(allow, goos, fail_at("allow", "target", index))
        specs.append(
            TargetSpec(
                name=name,
                package=package,
                goos=goos,
                tags=tuple(t.strip() for t in tags if t.strip()),
                ldflags=ldflags,
                env=tuple(sorted(env.items())),
                folder=folder.strip("/"),
                module=module,
                allow=None if allow is None else tuple(dict.fromkeys(allow)),
            )
        )
    return tuple(specs)


def _check_allow(allow: Any, goos: str, fail: Any) -> None:
    if goos != "wasip1":
        fail('allow is for wasip1 targets: the capabilities a plugin may import (goos = "wasip1")')
    if not isinstance(allow, list):
        fail('allow must be a list, e.g. allow = ["clock", "stdout"]')
    for entry in allow:
        problem = allow_problem(entry)
        if problem:
            fail(problem)


def _budgets(raw: Any, fail_at: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        fail_at("budget")('budget must be a table, e.g. [budget] with main.br = "2 MiB"')
    budgets: dict[str, str] = {}
    for key, value in _flatten(raw):
        if not isinstance(value, str | int) or isinstance(value, bool):
            fail_at(key.split(".")[-1], "budget")(f'budget {key} must be a size like "2 MiB"')
        budgets[key] = str(value)
    return budgets


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    # `main.br = "2 MiB"` in TOML is a dotted key: the table {"main": {"br": ...}}.
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items
