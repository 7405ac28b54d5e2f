"""The preview servers' settings (`serve`, `dev`): defaults, then wasmship.toml, then WASMSHIP_*,
then the command's flags, as a build's are resolved."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasmship.cachedir import CACHE_ENV, cache_root
from wasmship.errors import UsageError
from wasmship.settings.keys import SERVE_KEYS, BadValue, convert, convert_text
from wasmship.settings.projectfile import find_config, load_config

if TYPE_CHECKING:
    from wasmship.delivery.tls import Certificate


@dataclass(frozen=True)
class ServeSettings:
    """How `serve` and `dev` listen: plain HTTP, or HTTPS with the user's or a made
    certificate."""

    https: bool = False
    cert: Path | None = None  # absolute
    key: Path | None = None  # absolute
    cache_root: Path = Path()  # where a made certificate is kept

    def certificate(self, host: str) -> Certificate | None:
        """The certificate to serve HTTPS with on HOST (the user's, else this machine's, made
        when needed); None for plain HTTP."""
        from wasmship.delivery.tls import machine_certificate, user_certificate

        if self.cert is not None or self.key is not None:
            return user_certificate(self.cert, self.key)
        return machine_certificate(self.cache_root, host) if self.https else None


def resolve_serve(
    cwd: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ServeSettings:
    """The serve settings in CWD: defaults < wasmship.toml < WASMSHIP_* < OVERRIDES (by name:
    https, cert, key, config; None is no override)."""
    cwd = (cwd or Path.cwd()).absolute()
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    named = given.pop("config", None) or env.get("WASMSHIP_CONFIG")
    path = (cwd / str(named)).resolve() if named else find_config(cwd)
    file = load_config(path) if path is not None else None
    values: dict[str, Any] = {k.name: k.default for k in SERVE_KEYS}
    bases: dict[str, Path] = {}
    for key in SERVE_KEYS:
        if file is not None and key.name in file.options:
            values[key.name], bases[key.name] = file.options[key.name], file.root
    try:
        for key in SERVE_KEYS:
            text = env.get(key.env) if key.env else None
            if key.env and text:  # an empty variable is unset
                values[key.name], bases[key.name] = convert_text(key, text, key.env, cwd), cwd
        for key in SERVE_KEYS:
            if key.name in given:
                value = convert(key, given[key.name], key.flag or key.name, cwd)
                values[key.name], bases[key.name] = value, cwd
    except BadValue as exc:
        raise UsageError(str(exc)) from None
    # The file's cache-dir, unless WASMSHIP_CACHE_DIR says otherwise (as for a build).
    cache_dir = file.options.get("cache_dir") if file is not None else None
    from_file = file.root / cache_dir if file and cache_dir and not env.get(CACHE_ENV) else None
    root = cache_root(env, from_file)

    def placed(name: str) -> Path | None:
        value = values[name]
        return None if value is None else (bases[name] / Path(value).expanduser()).resolve()

    cert, private = placed("cert"), placed("key")
    https = values["https"] or cert is not None or private is not None  # --cert: HTTPS
    return ServeSettings(https=https, cert=cert, key=private, cache_root=root)
