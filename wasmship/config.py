"""The build's settings, as one frozen value the pipeline reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BuildConfig:
    """Everything one `wasmship build` needs to know, already validated."""

    package: str = "."
    out: Path = Path("dist")
    workdir: Path = field(default_factory=Path.cwd)
    go: str | None = None
    tags: tuple[str, ...] = ()
    ldflags: str = ""
    go_flags: tuple[str, ...] = ()
    debug_symbols: bool = False
    hash_names: bool = True
    html_template: Path | None = None
    force: bool = False
    lock_timeout: float = 600.0
    server_configs: tuple[str, ...] = ()  # nginx, caddy, netlify, apache (validated by the CLI)
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def out_path(self) -> Path:
        """The dist folder as an absolute path (relative ones are from the working directory)."""
        return (self.workdir / self.out).resolve()
