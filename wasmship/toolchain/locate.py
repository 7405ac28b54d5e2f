"""Finding Go: `--go`, WASMSHIP_GO or PATH; `go env -json`; its version; its shims."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from wasmship.distformat.names import SHIM
from wasmship.errors import ToolchainError
from wasmship.toolchain.runner import run_go

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


def read_go_env(go: str, run_dir: Path, environ: Mapping[str, str], *names: str) -> dict[str, str]:
    """NAMES as `go env -json` reports them in RUN_DIR; a ToolchainError when go cannot say."""
    output = run_go([go, "env", "-json", *names], run_dir, environ)
    if not output.ok:
        raise ToolchainError(
            f"`{go} env -json` failed (exit {output.returncode}):\n{output.stderr.strip()}"
        )
    try:
        found = json.loads(output.stdout)
        return {name: str(found[name]) for name in names}
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolchainError(f"`{go} env -json` did not report {' and '.join(names)}") from exc


def read_toolchain(go: str, run_dir: Path, environ: Mapping[str, str]) -> Toolchain:
    """Ask `go env -json` (in the directory the build runs in) for GOROOT and GOVERSION."""
    env = read_go_env(go, run_dir, environ, "GOROOT", "GOVERSION")
    goroot, goversion = env["GOROOT"], env["GOVERSION"]
    version, devel = parse_goversion(goversion)
    if version < MINIMUM_GO:
        raise ToolchainError(
            f"Go {goversion} at {go} is too old: wasmship needs Go {MINIMUM_GO} or newer"
        )
    return Toolchain(go=go, goroot=Path(goroot), goversion=goversion, version=version, devel=devel)
