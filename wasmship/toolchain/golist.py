"""`go list -json`: packages, their imports, files and modules, as Go resolves them for a build."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wasmship.errors import ToolchainError
from wasmship.toolchain.runner import GoOutput, run_go

Package = dict[str, Any]  # one object of the stream, with the fields asked for


def json_stream(text: str) -> list[Package]:
    """`go list -json` prints one object after another, not a list; ValueError if malformed."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found


def go_list(
    go: str,
    patterns: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    *,
    fields: str,
    deps: bool = False,
    find: bool = False,
    tags: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> tuple[GoOutput, list[Package]]:
    """Go's description of PATTERNS (and with DEPS, of everything they import), FIELDS only;
    errors are reported in the packages (-e). The packages are [] when go failed."""
    cmd = [go, "list", "-e", f"-json={fields}"]
    cmd += ["-deps"] if deps else []
    # -find: the package alone, not its dependencies (go build reports those, with its words).
    cmd += ["-find"] if find else []
    cmd += ["-tags", ",".join(tags)] if tags else []
    output = run_go([*cmd, *flags, "--", *patterns], cwd, env)
    if not output.ok:
        return output, []
    try:
        return output, json_stream(output.stdout)
    except ValueError as exc:
        raise ToolchainError(f"`go list` printed what is not JSON: {exc}") from exc


BROWSER_API = "syscall/js"
NO_BROWSER_API = f"does not use {BROWSER_API} (a server or a tool?)"
# The fields of `go list -deps` that browser_reason reads.
BROWSER_FIELDS = "ImportPath,Name,Dir,Imports,Standard,DepOnly,Error,DepsErrors"


def browser_reason(main: dict[str, Any], by_path: Mapping[str, dict[str, Any]]) -> str | None:
    """None when MAIN imports syscall/js itself or through a non-standard package, else why not.

    The standard library is not followed: on js/wasm `syscall`, `time` and `net/http` import
    syscall/js themselves, so every program, a server too, depends on it.
    """
    seen, stack = {main["ImportPath"]}, [main]
    while stack:
        package = stack.pop()
        imports = package.get("Imports", [])
        if BROWSER_API in imports:
            return None
        for path in imports:
            dep = by_path.get(path)
            if dep is not None and not dep.get("Standard") and path not in seen:
                seen.add(path)
                stack.append(dep)
    errors = [main["Error"]] if main.get("Error") else list(main.get("DepsErrors") or [])
    if errors:
        first = " ".join(str(errors[0].get("Err", "")).split())
        return f"its imports could not all be listed for js/wasm ({first[:120]})"
    return NO_BROWSER_API
