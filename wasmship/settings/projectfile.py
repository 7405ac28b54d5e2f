"""wasmship.toml: found upward from the working directory, read and checked against the keys.

Every error names the file, the line and the key, with a did-you-mean for a near miss.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from wasmship.builder.config import CONFIG_NAME, AppConfig, TargetSpec
from wasmship.builder.csp import BadPolicy, check_extra
from wasmship.builder.steps.app_manifest import parse_app
from wasmship.delivery.proxy_routes import ProxyRoute
from wasmship.distformat.headers import BadHeaders, HeaderRule, make_rules
from wasmship.distformat.names import TARGET_NAME_RULE, is_target_name, relative_path
from wasmship.errors import UsageError
from wasmship.plugins.allowlist import allow_problem
from wasmship.settings.keys import TARGET_FLAGS, TARGET_KEYS, BadValue, convert, file_keys
from wasmship.settings.proxies import parse_proxy_tables

GOOS_VALUES = ("js", "wasip1")
TABLES = (
    "target",
    "budget",
    "app",
    "proxy",
    "headers",
    "csp",
)  # keys that are tables of their own, not settings

Fail = Callable[[str], NoReturn]
FailAt = Callable[..., Fail]


class ConfigError(UsageError):
    """A problem in wasmship.toml, named by file, line and key."""


@dataclass(frozen=True)
class FileConfig:
    """What a wasmship.toml says, already checked."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)  # setting name -> value
    targets: tuple[TargetSpec, ...] = ()
    budgets: dict[str, str] = field(default_factory=dict)
    app: AppConfig | None = None  # [app]: the web app manifest
    proxies: tuple[ProxyRoute, ...] = ()  # [[proxy]]: serve and dev forward these paths
    headers: tuple[HeaderRule, ...] = ()  # [headers]: response headers by path pattern
    csp: tuple[tuple[str, tuple[str, ...]], ...] = ()  # [csp]: sources added to the policy

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


def did_you_mean(key: str, valid: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the nearest of VALID, or nothing when none is near."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_config(path: Path) -> FileConfig:
    """Read and check PATH; every error names file, line and key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")  # an editor's byte order mark is no error
    except UnicodeDecodeError as exc:  # TOML is UTF-8; say where, not a traceback
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}; save the file as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    lines = _Lines(text)
    allowed = file_keys()
    options: dict[str, Any] = {}

    def fail_at(key: str, section: str | None = None, nth: int = 0) -> Fail:
        def fail(message: str) -> NoReturn:
            raise ConfigError(f"{_where(path, lines.of(key, section, nth))}: {message}")

        return fail

    for key, value in data.items():
        if key in TABLES:
            continue
        setting = allowed.get(key)
        if setting is None:
            fail_at(key)(f"unknown key {key!r}{did_you_mean(key, [*allowed, *TABLES])}")
        try:
            converted = convert(setting, value, key, path.parent)
        except BadValue as exc:
            fail_at(key)(str(exc))
        if setting.kind == "flag" and setting.name.startswith("no_"):
            converted = not converted  # `hash = false` is --no-hash
        options[setting.name] = converted
    targets = _targets(data.get("target", []), fail_at)
    if targets and "package" in options:
        fail_at("package")(
            "package and [[target]] tables do not go together: each [[target]] names its own "
            "package; move it into a [[target]] table"
        )
    budgets = _budgets(data.get("budget", {}), fail_at)
    app = parse_app(data["app"], fail_at) if "app" in data else None
    proxies = parse_proxy_tables(data.get("proxy", []), fail_at)
    return FileConfig(
        path=path,
        options=options,
        targets=targets,
        budgets=budgets,
        app=app,
        proxies=proxies,
        headers=_headers(data.get("headers", {}), fail_at),
        csp=_csp(data.get("csp", {}), fail_at),
    )


def _each_entry(
    raw: Any,
    fail_at: FailAt,
    table: str,
    example: str,
    check: Callable[[dict[str, Any]], object],
    errors: type[ValueError],
) -> None:
    """TABLE must be a table (EXAMPLE shows one), each of its entries checked alone by CHECK so
    that an error (ERRORS) names the entry's line."""
    if not isinstance(raw, dict):
        fail_at(table)(f"{table} must be a table: {example}")
    for key, value in raw.items():
        try:
            check({key: value})
        except errors as exc:
            fail_at(key, table)(f"[{table}] {exc}")


def _csp(raw: Any, fail_at: FailAt) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[csp]: directive = ["source", ...]; an error names the directive's line."""
    example = '[csp] then connect-src = ["https://api.example"]'
    _each_entry(raw, fail_at, "csp", example, check_extra, BadPolicy)
    return check_extra(raw)


def _headers(raw: Any, fail_at: FailAt) -> tuple[HeaderRule, ...]:
    """[headers]: pattern = { Name = "value" }; an error names the pattern's line."""
    example = '[headers] then "/*" = { Name = "value" }'
    _each_entry(raw, fail_at, "headers", example, make_rules, BadHeaders)
    try:
        return make_rules(raw)
    except BadHeaders as exc:
        fail_at("headers")(f"[headers] {exc}")


def _targets(raw: Any, fail_at: FailAt) -> tuple[TargetSpec, ...]:
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
                    f"unknown key {key!r} in [[target]]{did_you_mean(key, TARGET_KEYS)}"
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
        # A trailing slash is fine (`web/`); a leading one is an absolute path (`/etc`).
        if not isinstance(folder, str) or (folder and relative_path(folder.rstrip("/")) is None):
            fail_at("folder", "target", index)(
                f'folder must be a relative folder inside the dist, e.g. "web", not {folder!r}'
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
        flags: dict[str, bool | None] = {}
        for key in TARGET_FLAGS:
            value = table.get(key)
            if value is not None and not isinstance(value, bool):
                fail_at(key, "target", index)(f"{key} must be true or false, not {value!r}")
            flags[key] = value
        specs.append(
            TargetSpec(
                name=name,
                package=package,
                goos=goos,
                tags=tuple(t.strip() for t in tags if t.strip()),
                ldflags=ldflags,
                env=tuple(sorted(env.items())),
                folder=folder.rstrip("/"),
                module=module,
                allow=None if allow is None else tuple(dict.fromkeys(allow)),
                compress=flags["compress"],
                hash=flags["hash"],
            )
        )
    return tuple(specs)


def _check_allow(allow: Any, goos: str, fail: Fail) -> None:
    if goos != "wasip1":
        fail('allow is for wasip1 targets: the capabilities a plugin may import (goos = "wasip1")')
    if not isinstance(allow, list):
        fail('allow must be a list, e.g. allow = ["clock", "stdout"]')
    for entry in allow:
        problem = allow_problem(entry)
        if problem:
            fail(problem)


def _budgets(raw: Any, fail_at: FailAt) -> dict[str, str]:
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
