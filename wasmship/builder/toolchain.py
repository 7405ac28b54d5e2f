"""The Go toolchain: find `go`, read `go env -json`, parse its version, find its shims."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from wasmship.distformat.names import SHIM
from wasmship.errors import ToolchainError

MINIMUM_GO = Version("1.21")
# Go 1.24 moved the shim from misc/wasm to lib/wasm.
LIB_WASM_SINCE = Version("1.24")


@dataclass(frozen=True)
class Toolchain:
    """The Go that builds the module, and the GOROOT its shim must come from."""

    go: str
    goroot: Path
    goversion: str  # as Go reports it, e.g. "go1.26.8" or "devel go1.27-abc"
    version: Version
    devel: bool = False

    def shim_dirs(self) -> list[Path]:
        """The folders to look in for the shims, the one this Go version uses first."""
        lib, misc = self.goroot / "lib" / "wasm", self.goroot / "misc" / "wasm"
        return [lib, misc] if self.version >= LIB_WASM_SINCE else [misc, lib]

    def shim(self, name: str = SHIM) -> Path:
        """This toolchain's own copy of NAME; an error naming both places when it has none."""
        dirs = self.shim_dirs()
        for folder in dirs:
            if (folder / name).is_file():
                return folder / name
        raise ToolchainError(
            f"{name} of {self.goversion} not found: looked in {dirs[0]} and {dirs[1]}. "
            "Is this GOROOT complete?"
        )


def go_environ(
    environ: Mapping[str, str], goos: str = "js", extra: tuple[tuple[str, str], ...] = ()
) -> dict[str, str]:
    """The environment a go command of a build runs with."""
    env = dict(environ)
    env.update(extra)
    env.update(GOOS=goos, GOARCH="wasm", CGO_ENABLED="0")
    return env


_RELEASE = re.compile(r"^go(\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)$")
_DEVEL = re.compile(r"^devel\s+go(\d+\.\d+)")


def parse_goversion(goversion: str) -> tuple[Version, bool]:
    """Parse Go's GOVERSION (`go1.22.3`, `go1.23rc1`, `devel go1.24-abc ...`) into a Version."""
    text = goversion.strip()
    devel = _DEVEL.match(text)
    if devel:
        # A development build sits after every release of its line.
        return Version(f"{devel.group(1)}.999"), True
    if text.startswith("devel"):
        return Version("999"), True
    # Experiments are appended after a space: "go1.26.8 X:nodwarf5".
    release = _RELEASE.match(text.split()[0]) if text else None
    if not release:
        raise ToolchainError(f"cannot parse the Go version {goversion!r} reported by `go env`")
    try:
        return Version(release.group(1)), False
    except InvalidVersion as exc:  # pragma: no cover - the regex admits only valid forms
        raise ToolchainError(f"cannot parse the Go version {goversion!r}") from exc


def locate_go(go: str | None, environ: Mapping[str, str]) -> str:
    """The go binary: --go, else WASMSHIP_GO, else `go` on PATH."""
    chosen = go or environ.get("WASMSHIP_GO")
    source = "--go" if go else "WASMSHIP_GO"
    if chosen:
        path = shutil.which(chosen, path=environ.get("PATH")) or (
            chosen if Path(chosen).is_file() else None
        )
        if not path:
            raise ToolchainError(f"Go not found at {chosen!r} (from {source})")
        return path
    found = shutil.which("go", path=environ.get("PATH"))
    if not found:
        raise ToolchainError(
            "Go not found: no `go` on PATH. Install Go 1.21 or newer, "
            "or name one with --go PATH or WASMSHIP_GO."
        )
    return found


def read_toolchain(go: str, run_dir: Path, environ: Mapping[str, str]) -> Toolchain:
    """Ask `go env -json` (in the directory the build runs in) for GOROOT and GOVERSION."""
    cmd = [go, "env", "-json", "GOROOT", "GOVERSION"]
    try:
        proc = subprocess.run(
            cmd, cwd=run_dir, env=dict(environ), capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {go}: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        raise ToolchainError(
            f"`{go} env -json` failed (exit {proc.returncode}):\n{proc.stderr.strip()}"
        )
    try:
        env = json.loads(proc.stdout)
        goroot, goversion = env["GOROOT"], env["GOVERSION"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolchainError(f"`{go} env -json` did not report GOROOT and GOVERSION") from exc
    version, devel = parse_goversion(goversion)
    if version < MINIMUM_GO:
        raise ToolchainError(
            f"Go {goversion} at {go} is too old: wasmship needs Go {MINIMUM_GO} or newer"
        )
    return Toolchain(go=go, goroot=Path(goroot), goversion=goversion, version=version, devel=devel)
