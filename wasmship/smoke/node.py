"""Run js modules under Node.js with wasm_exec_node.js from the Go that built the dist."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmship.distformat.model import Manifest, TargetEntry
from wasmship.distformat.names import NODE_SHIM, SHIM
from wasmship.errors import ToolchainError
from wasmship.smoke.runs import Outcome, SmokeRun, exit_verdict, first_line
from wasmship.toolchain.locate import locate_go, read_toolchain

# How a program that uses the DOM dies under Node, where `document`, `window` and the rest are
# undefined: syscall/js refuses the call (Go 1.21 to 1.26 word it this way), or JavaScript
# glue reads a property of undefined.
_NO_DOM = re.compile(
    r"syscall/js: call of Value\.\w+ on undefined"
    r"|syscall/js: Value\.Call: property \S+ is not a function, got undefined"
    r"|Cannot read properties of undefined[^\n]*"
)
_PANIC_START = re.compile(r"^panic: ", re.M)


@dataclass(frozen=True)
class NodeRunner:
    """Node.js and the wasm_exec_node.js of the Go that built the dist."""

    node: str
    node_shim: Path
    runtime: str  # "node v20.20.2"
    environ: Mapping[str, str]

    def run(self, dist: Path, target: TargetEntry, timeout: float) -> SmokeRun:
        """Run TARGET's module once; a module that dies for want of a DOM needs a browser."""
        module = target.module
        assert module is not None  # smoke() refuses a target without one
        with tempfile.TemporaryDirectory(prefix="wasmship-smoke-") as tmp:
            runner = Path(tmp)
            shutil.copyfile(self.node_shim, runner / NODE_SHIM)
            # wasm_exec_node.js requires ./wasm_exec: give it the shim the dist ships.
            shutil.copyfile(dist / target.files[SHIM].path, runner / SHIM)
            cmd = [self.node, str(runner / NODE_SHIM), str((dist / module.path).resolve())]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=timeout, env=dict(self.environ)
                )
            except subprocess.TimeoutExpired as exc:
                verdict = f"timed out after {timeout:g} s"
                stdout, stderr = _text(exc.stdout), _text(exc.stderr)
                return SmokeRun(target.name, self.runtime, Outcome.FAILED, verdict, stdout, stderr)
        if proc.returncode == 0:
            return SmokeRun(target.name, self.runtime, Outcome.OK, "ok", proc.stdout, proc.stderr)
        no_dom = _NO_DOM.search(proc.stderr)
        if no_dom:
            # The panic's trace says only that Node has no DOM: keep what the program printed.
            before = _PANIC_START.split(proc.stderr, maxsplit=1)[0]
            why = first_line(no_dom.group(0))
            verdict = f"needs a browser, it uses the DOM: {why}"
            return SmokeRun(
                target.name, self.runtime, Outcome.NEEDS_BROWSER, verdict, proc.stdout, before
            )
        verdict = exit_verdict(proc.returncode, proc.stderr)
        return SmokeRun(
            target.name, self.runtime, Outcome.FAILED, verdict, proc.stdout, proc.stderr
        )


def node_runner(
    dist: Path, manifest: Manifest, go: str | None, environ: Mapping[str, str], hint: str
) -> NodeRunner:
    """Node.js on PATH and the shim of the Go that built DIST (the Go found must be that one)."""
    node = shutil.which("node", path=environ.get("PATH"))
    if node is None:
        raise ToolchainError(
            f"node not found on PATH: without a browser smoke runs js modules under Node.js; {hint}"
        )
    built_with = manifest.go_version
    go_binary = locate_go(go, environ)
    toolchain = read_toolchain(go_binary, dist, environ)
    if toolchain.goversion != built_with:
        raise ToolchainError(
            f"{dist} was built with {built_with}, but {go_binary} is {toolchain.goversion}: "
            f"wasm_exec_node.js must come from {built_with}. Point --go or WASMSHIP_GO at it."
        )
    return NodeRunner(node, toolchain.shim(NODE_SHIM), _version(node, environ), environ)


def _version(node: str, environ: Mapping[str, str]) -> str:
    try:
        proc = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, env=dict(environ)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"cannot run {node} --version: {exc}") from exc
    return f"node {proc.stdout.strip()}" if proc.returncode == 0 else "node"


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")
