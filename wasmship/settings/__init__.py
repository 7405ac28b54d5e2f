"""SETTINGS: wasmship.toml, WASMSHIP_* variables and overrides resolved into a BuildConfig.

No click here: the command line only turns its flags into overrides (keys.py names them).
"""

from wasmship.settings.keys import BUILD_KEYS, TARGET_KEYS, Key, file_keys
from wasmship.settings.projectfile import ConfigError, FileConfig, find_config, load_config
from wasmship.settings.resolve import BuildSettings, resolve_build, resolve_proxies

__all__ = [
    "BUILD_KEYS",
    "TARGET_KEYS",
    "BuildSettings",
    "ConfigError",
    "FileConfig",
    "Key",
    "file_keys",
    "find_config",
    "load_config",
    "resolve_build",
    "resolve_proxies",
]
