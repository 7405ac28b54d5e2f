"""`wasmship smoke`: run each js module under Node with its toolchain's wasm_exec_node.js, and
each wasip1 module under wasmtime."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.build.toolchain import read_toolchain
from wasmship.dist.names import MANIFEST, NODE_SHIM, SHIM
from wasmship.dist.reader import read_manifest
from wasmship.errors import ManifestError, ToolchainError
from wasmship.smoke.wasi import run_wasi


@dataclass(frozen=True)
class SmokeRun:
    """One target's run."""

    target: str
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def smoke(
    dist: Path, go: str, environ: Mapping[str, str], *, timeout: float = 60.0
) -> list[SmokeRun]:
    """Run every js target of DIST under Node; the Go that built it must be the one given."""
    manifest = read_manifest(dist)
    built_with = manifest.go_version
    toolchain = read_toolchain(go, dist, environ)
    if toolchain.goversion != built_with:
        raise ToolchainError(
            f"{dist} was built with {built_with}, but {go} is {toolchain.goversion}: "
            f"wasm_exec_node.js must come from {built_with}. Point --go or WASMSHIP_GO at it."
        )
    node = shutil.which("node", path=environ.get("PATH"))
    if node is None and any(t.goos == "js" for t in manifest.targets):
        raise ToolchainError("node not found on PATH: smoke runs js modules under Node.js")
    runs = []
    for target in manifest.targets:
        module = target.module
        if module is None:
            raise ManifestError(f"{dist / MANIFEST}: target {target.name!r} has no .wasm file")
        if target.goos == "wasip1":
            result = run_wasi(dist / module.path, timeout=timeout)
            code = result.exit_code
            stderr = result.stderr + (f"trap: {result.trap}\n" if result.trap else "")
            runs.append(SmokeRun(target.name, code, result.stdout, stderr))
            continue
        with tempfile.TemporaryDirectory(prefix="wasmship-smoke-") as tmp:
            runner = Path(tmp)
            shutil.copyfile(toolchain.shim(NODE_SHIM), runner / NODE_SHIM)
            # wasm_exec_node.js requires ./wasm_exec: give it the shim the dist ships.
            shutil.copyfile(dist / target.files[SHIM].path, runner / SHIM)
            cmd = [str(node), str(runner / NODE_SHIM), str((dist / module.path).resolve())]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=timeout, env=dict(environ)
                )
                runs.append(SmokeRun(target.name, proc.returncode, proc.stdout, proc.stderr))
            except subprocess.TimeoutExpired as exc:
                runs.append(SmokeRun(target.name, -1, _text(exc.stdout), _text(exc.stderr), True))
    return runs


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")
