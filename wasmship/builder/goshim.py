"""Go's wasm_exec.js recognised by its content, whatever a project named its copy.

Every Go since 1.11 ships the same kind of file: a `Go` class whose `importObject` holds the
runtime's imports ("runtime.wasmExit", "syscall/js.valueGet", ...) under one import module,
`go` up to Go 1.20 and `gojs` since Go 1.21. Those strings survive minification, so they are
what is looked for. TinyGo's shim imports other names ("runtime.ticks", WASI) and is not Go's.
Whether a file is the shim alone (which wasmship can replace) or the shim bundled with other
code (which it cannot) is told by its shape: Go's file is one `(() => { ... })();`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasmship.distformat.digests import sha256_hex

# The runtime's imports every Go shim defines, quoted as object keys.
_IMPORTS = (
    re.compile(r"""["']runtime\.wasmExit["']"""),
    re.compile(r"""["']syscall/js\.valueGet["']"""),
)
_CLASS = re.compile(r"\bGo\s*=\s*class\b|\bclass\s+Go\b")
_IMPORT_OBJECT = re.compile(r"\bimportObject\b")
_MODULE = re.compile(r"""["']?\b(gojs|go)\b["']?\s*:\s*\{\s*["'](?:runtime|syscall/js)\.""")
_NOT_GO = re.compile(r"wasi_snapshot_preview1|tinygo", re.IGNORECASE)
_CODE = re.compile(
    r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|(?P<comment>//[^\n]*|/\*.*?\*/)""",
    re.DOTALL,
)
_ALONE = re.compile(  # `"use strict"; (() => { ... })();`, comments gone, spaces collapsed
    r"""^(?:["']use strict["'];?\s*)?"""
    r"""\(\s*(?:\(\s*\)\s*=>|function\s*\(\s*\))\s*\{.*\}\s*\)\s*\(\s*\)\s*;?$""",
    re.DOTALL,
)
# What a bundle or an application adds to a shim; Go's file only defines the class (old ones
# also ran a module under Node.js, from process.argv).
_OTHER_CODE = re.compile(
    r"__webpack_require__|__webpack_modules__|System\.register|\binstantiateStreaming\b"
    r"|^\s*(?:import|export)\b",
    re.MULTILINE,
)

# The shims of the Go releases wasmship has met, by SHA-256: one file serves several releases.
KNOWN = {
    "45ce9dfe7211247544ab6f4268eb8cb5b6f3d5ae602dc3b51447b7eada99c229": "Go 1.21 to 1.23",
    "0c949f4996f9a89698e4b5c586de32249c3b69b7baadb64d220073cc04acba14": "Go 1.24 to 1.26",
}


@dataclass(frozen=True)
class GoShim:
    """A Go wasm shim found in a file."""

    module: str  # the import module its runtime imports are under: "gojs" or "go"
    alone: bool  # the file is the shim and nothing else (so it can be replaced whole)
    version: str  # which Go's shim it is, as far as its content tells: "Go 1.21 to 1.23"


def without_comments(code: str) -> str:
    """CODE with its comments removed (strings kept, so a `//` in a URL stays)."""
    return _CODE.sub(lambda m: "" if m["comment"] is not None else m[0], code)


def read_shim(text: str) -> GoShim | None:
    """The Go shim TEXT is or holds; None when it is none (or TinyGo's)."""
    if not all(p.search(text) for p in _IMPORTS) or _NOT_GO.search(text):
        return None
    if not (_CLASS.search(text) and _IMPORT_OBJECT.search(text)):
        return None
    code = without_comments(text)
    found = _MODULE.search(code)
    module = found[1] if found else "gojs"
    compact = re.sub(r"\s+", " ", code).strip()
    node_runner = "process.argv" in code
    alone = bool(_ALONE.match(compact)) and not _OTHER_CODE.search(code)
    alone = alone and (node_runner or "new Go(" not in compact.replace("new Go (", "new Go("))
    return GoShim(module=module, alone=alone, version=shim_version(text, module))


# The Go release a shim URL on another origin names: a tag in its path (jsDelivr's
# gh/golang/go@go1.25.1, raw.githubusercontent.com/golang/go/go1.21.0, github.com/golang/go/raw/
# go1.22.3) or an npm package's version (unpkg.com/golang-wasm-exec@1.21.0).
_URL_TAG = re.compile(r"(?:^|[/@])(go1\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?)(?=/|$)")
_URL_NPM = re.compile(r"@v?(1\.\d+(?:\.\d+)?)(?=/|$)")


def url_go_version(url: str) -> str | None:
    """The Go version (`go1.25.1`) a shim URL of another origin names, if it names one."""
    path = urlsplit(url).path
    found = _URL_TAG.search(path)
    if found is not None:
        return found[1]
    npm = _URL_NPM.search(path)
    return f"go{npm[1]}" if npm is not None else None


def shim_version(text: str, module: str) -> str:
    """Which Go's shim TEXT is: exact for the releases in KNOWN, else told by its imports."""
    known = KNOWN.get(sha256_hex(text.replace("\r\n", "\n").encode("utf-8")))
    if known:
        return known
    if module == "go":
        return "Go 1.20 or older"  # Go 1.21 renamed the import module to gojs
    if "callExport" in text:
        return "Go 1.24 or newer"  # the wasmexport test hook came with Go 1.24
    return "Go 1.21 to 1.23"


def same_shim(a: bytes, b: bytes) -> bool:
    """Whether two shims are the same file (line endings aside: a checkout may change them)."""
    return a.replace(b"\r\n", b"\n") == b.replace(b"\r\n", b"\n")


def holds_shim(bundle: str, shim: str) -> bool:
    """Whether BUNDLE carries SHIM's code line for line (comments and indentation aside)."""
    wanted = _lines(shim)
    have = iter(_lines(bundle))
    return all(line in have for line in wanted)


def _lines(code: str) -> list[str]:
    return [ln.strip() for ln in without_comments(code).splitlines() if ln.strip()]
