"""Where `wasmship dev` builds, and how its builds differ from the project's own."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from wasmship.builder.config import BuildConfig
from wasmship.cachedir import DEV
from wasmship.encodings.encoders import Profile


def dev_folder(config: BuildConfig) -> Path:
    """The session's private folder: in wasmship's cache folder, one per project and package,
    so a restart finds its last build (and go's up-to-date output) and the project gets nothing."""
    what = [str(config.workdir.resolve()), config.package, sorted(config.only)]
    key = hashlib.sha256(json.dumps(what).encode("utf-8")).hexdigest()[:16]
    return DEV.path(config.cache_root) / key


def dev_config(config: BuildConfig, folder: Path) -> BuildConfig:
    """CONFIG as a dev build: into FOLDER/dist, the fast profile, no earlier builds kept."""
    return replace(
        config,
        out=(folder / "dist").absolute(),
        profile=Profile.FAST,
        keep=0,  # pages reload to the new build: no tab needs the old files, no deltas to make
        force=False,
    )
