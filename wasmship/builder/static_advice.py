"""What to do about a `.wasm` or `wasm_exec.js` reference of the web folder that names nothing
the dist will hold: the targets there are, and the setting that would make it resolve."""

from __future__ import annotations

import posixpath

from wasmship.builder.config import BuildConfig, TargetSpec
from wasmship.builder.wasmrefs import WasmReference, is_shim


def _where(spec: TargetSpec) -> str:
    where = f"in {spec.folder}/" if spec.folder else "at the root"
    return f'"{spec.name}" ({spec.name}.wasm {where})'


def explain_missing(config: BuildConfig, ref: WasmReference) -> str:
    """The targets that exist and the fix, in a sentence."""
    specs = config.configured_specs()
    noun = "target is" if len(specs) == 1 else "targets are"
    have = f"the {noun} {', '.join(_where(s) for s in specs)}"
    if is_shim(ref):
        if not any(s.goos == "js" for s in specs):
            return f"{have}, none of them js, so the dist has no wasm_exec.js: change the reference"
        return f"{have}: change the reference"
    if ref.piece or ref.resolved is None:
        return (
            f"{have}: name a target after the module, or change the reference (or, if "
            f'something else serves it, declare it: routes = ["{ref.resolved or ref.name}"])'
        )
    name = ref.name.removesuffix(".wasm")
    folder = posixpath.dirname(ref.resolved)
    setting = f'name the target "{name}" and set folder = "{folder}"'
    js = next((s for s in specs if s.goos == "js"), specs[0])
    if config.targets:
        how = f'in wasmship.toml (the [[target]] with package = "{js.package}")'
    else:
        table = f'name = "{name}", package = "{js.package}", folder = "{folder}"'
        how = f"with a [[target]] in wasmship.toml ({table})"
    return f"{have}: {setting} {how}, or change the reference"
