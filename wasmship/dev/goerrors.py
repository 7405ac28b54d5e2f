"""Go's messages about a failed build, for the page: the build already showed them on the
terminal as Go wrote them (they go straight to wasmship's stderr); for the overlay, the failed
`go build` runs again with its output captured, which costs one failed compile of the broken
package (its dependencies come from Go's build cache)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from wasmship.builder.config import BuildConfig
from wasmship.builder.context import Target
from wasmship.errors import CompileError, WasmshipError
from wasmship.toolchain.runner import go_environ, run_build

TIMEOUT = 300.0  # seconds; a compile that failed once fails again well within this


def go_messages(error: WasmshipError, config: BuildConfig, targets: Iterable[Target]) -> str:
    """What Go printed about ERROR (a failed `go build`), or "" when Go did not fail."""
    if not isinstance(error, CompileError) or error.returncode <= 0:
        return ""
    target = next((t for t in targets if t.name == error.target), None)
    if target is None:
        return ""
    cmd = list(error.cmd)
    if "-o" in cmd:
        cmd[cmd.index("-o") + 1] = os.devnull  # go build discards what it would write
    env = go_environ(config.environ, target.goos, target.env)
    try:
        proc = run_build(cmd, target.package.run_dir, env, timeout=TIMEOUT)
    except WasmshipError:  # go is gone, or did not end: the page goes without its messages
        return ""
    return (proc.stdout + proc.stderr).strip()
