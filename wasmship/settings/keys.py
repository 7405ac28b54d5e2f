"""The build's settings as one table: each key's flag, file key, environment variable and type.

This table is the schema of wasmship.toml, the list of WASMSHIP_* variables and what the
command line may override; docs/configuration.md documents every row (tests/test_docs.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wasmship.distformat.lock import DEFAULT_LOCK_TIMEOUT

Kind = Literal["text", "path", "flag", "list", "int", "seconds", "choice"]
# How each kind is named in "must be a …" messages (the names click gave them before).
TYPE_NAMES = {
    "text": "text",
    "path": "path",
    "int": "integer range",
    "seconds": "seconds",
    "choice": "choice",
}
TARGET_FLAGS = ("compress", "hash")
TARGET_KEYS = (
    *("name", "package", "goos", "tags", "ldflags", "env", "folder", "module", "allow"),
    # How the module is shipped, true or false (projectfile): `compress` (default: true for
    # js, false for wasip1, which no browser downloads) and `hash` (default: the build's
    # `hash`; false gives a host a fixed path such as module/module.wasm).
    *TARGET_FLAGS,
)
ENV_PREFIX = "WASMSHIP_"


class BadValue(ValueError):
    """A value of the wrong type or out of range; the caller says where it came from."""


@dataclass(frozen=True)
class Key:
    """One setting: its name in Python, its flag, and where else it may come from."""

    name: str  # the field of the settings, e.g. "lock_timeout", "no_hash"
    flag: str | None  # the long flag of `wasmship build`; None: the PACKAGE argument
    kind: Kind
    default: object = None
    in_file: bool = True  # per-run settings (--config, --target, --budget) have no file key
    has_env: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    path_is: Literal["", "file", "folder"] = ""  # a path that must be a file or a folder
    must_exist: bool = False

    @property
    def key(self) -> str:
        """The file key: the long flag without dashes and without a `no-` (`hash = false`)."""
        if self.flag is None:
            return self.name
        key = self.flag.lstrip("-")
        return key[3:] if key.startswith("no-") and self.kind == "flag" else key

    @property
    def env(self) -> str | None:
        """The environment variable: WASMSHIP_ and the long flag (WASMSHIP_LOCK_TIMEOUT)."""
        if not self.has_env or self.flag is None:
            return None
        return ENV_PREFIX + self.flag.lstrip("-").upper().replace("-", "_")


# In the order of `wasmship build --help` (a did-you-mean between equally close keys picks the
# first).
BUILD_KEYS: tuple[Key, ...] = (
    Key("package", None, "text", "."),
    Key("out", "--out", "path", "dist"),
    Key("go", "--go", "text"),
    Key("tags", "--tags", "list", ()),
    Key("ldflags", "--ldflags", "text", ""),
    Key("debug_symbols", "--debug-symbols", "flag", False),
    Key("no_hash", "--no-hash", "flag", False),
    Key("html", "--html", "path", path_is="file", must_exist=True),
    Key("static", "--static", "path", path_is="folder", must_exist=True),
    Key("static_exclude", "--static-exclude", "list", ()),
    Key("static_include", "--static-include", "list", ()),
    Key("keep_names", "--keep-names", "list", ()),
    Key("routes", "--routes", "list", ()),
    Key("force", "--force", "flag", False),
    Key("lock_timeout", "--lock-timeout", "seconds", DEFAULT_LOCK_TIMEOUT, minimum=0),
    Key("jobs", "--jobs", "int", None, minimum=1),  # None: the CPU count
    Key("keep", "--keep", "int", 2, minimum=0),
    Key("only", "--target", "list", (), in_file=False),
    Key("budget", "--budget", "list", (), in_file=False),
    Key("size_report", "--size-report", "flag", False),
    Key("size_threshold", "--size-threshold", "text", "1KiB"),
    Key("config", "--config", "path", in_file=False),  # read by resolve, WASMSHIP_CONFIG too
    Key("server_configs", "--server-config", "list", ()),
    Key("profile", "--profile", "choice", "release", choices=("release", "fast")),
    Key("gzip_encoder", "--gzip", "choice", "zlib", choices=("zlib", "zopfli")),
    Key("zstd", "--zstd", "flag", False),
    Key("hosting", "--hosting", "choice", "negotiate", choices=("negotiate", "static")),
    Key("offline", "--offline", "flag", False),
    Key("spa", "--spa", "flag", False),
    Key("csp_off", "--csp-off", "flag", False),
    Key("cache_dir", "--cache-dir", "path", path_is="folder"),
    Key("no_cache", "--no-cache", "flag", False),
    Key("cache_max_size", "--cache-max-size", "text", "1GiB"),
    Key("cache_url", "--cache-url", "text", ""),  # the shared cache (builder/shared_cache.py)
    Key("quiet", "--quiet", "flag", False, has_env=False),
)
KEYS_BY_NAME = {k.name: k for k in BUILD_KEYS}
# The preview servers' settings (`serve` and `dev` flags of the same names; settings/serving.py).
SERVE_KEYS: tuple[Key, ...] = (
    Key("https", "--https", "flag", False),
    Key("cert", "--cert", "path", path_is="file", must_exist=True),
    Key("key", "--key", "path", path_is="file", must_exist=True),
)


def file_keys() -> dict[str, Key]:
    """The keys wasmship.toml may set, by file key."""
    return {k.key: k for k in (*BUILD_KEYS, *SERVE_KEYS) if k.in_file}


def convert(key: Key, value: object, label: str, base: Path) -> object:
    """VALUE (from TOML or Python) checked and converted for KEY; paths checked from BASE."""
    if key.kind == "flag":
        if not isinstance(value, bool):
            raise BadValue(f"{label} must be true or false, not {value!r}")
        return value
    if key.kind == "list":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise BadValue(f"{label} must be a list of strings (or one comma-separated string)")
        return [i.strip() for i in items if i.strip()]
    if key.kind == "path" and isinstance(value, Path):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadValue(f"{label} must be a {TYPE_NAMES[key.kind]}, not {value!r}")
    numeric = key.kind in ("int", "seconds")
    if numeric and isinstance(value, str):
        raise BadValue(f"{label} must be a number, not the string {value!r}")
    if not numeric and not isinstance(value, str):
        raise BadValue(f"{label} must be a string, not {value!r}")
    try:
        return _typed(key, value, base)
    except BadValue as exc:
        raise BadValue(f"{label}: {exc}") from None


def convert_text(key: Key, text: str, label: str, base: Path) -> object:
    """TEXT (from an environment variable) converted for KEY."""
    if key.kind == "flag":
        word = text.strip().lower()
        if word in ("1", "true", "t", "yes", "y", "on"):
            return True
        if word in ("0", "false", "f", "no", "n", "off"):
            return False
        raise BadValue(f"{label}: {text!r} is not a valid boolean")
    if key.kind == "list":
        return text.split()  # as a shell user repeats a flag: WASMSHIP_TARGET="app worker"
    number: str | int | float = text
    try:
        if key.kind == "int":
            number = int(text)
        elif key.kind == "seconds":
            number = float(text)
    except ValueError:
        raise BadValue(f"{label}: {text!r} is not a number") from None
    try:
        return _typed(key, number, base)
    except BadValue as exc:
        raise BadValue(f"{label}: {exc}") from None


def _typed(key: Key, value: str | int | float, base: Path) -> object:
    """A value of the right Python type made what KEY holds: in range, one of its choices."""
    if key.kind in ("int", "seconds"):
        number: int | float = int(value) if key.kind == "int" else float(value)
        if key.minimum is not None and number < key.minimum:
            low = int(key.minimum) if key.kind == "int" else key.minimum
            raise BadValue(f"{number} is not in the range x>={low}.")
        if key.kind == "seconds" and not math.isfinite(number):
            raise BadValue(f"{value!r} is not a number of seconds")
        return number
    assert isinstance(value, str)
    if key.kind == "choice" and value not in key.choices:
        raise BadValue(f"{value!r} is not one of {', '.join(map(repr, key.choices))}.")
    if key.kind == "path":
        _check_path(key, value, base / value)
        return Path(value)
    return value


def _check_path(key: Key, written: str, path: Path) -> None:
    what = {"file": "File", "folder": "Directory", "": "Path"}[key.path_is]
    if not path.exists():
        if key.must_exist:
            raise BadValue(f"{what} {written!r} does not exist.")
        return
    if key.path_is == "file" and path.is_dir():
        raise BadValue(f"{what} {written!r} is a directory.")
    if key.path_is == "folder" and not path.is_dir():
        raise BadValue(f"{what} {written!r} is a file.")
