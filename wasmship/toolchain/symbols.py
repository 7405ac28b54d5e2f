"""Which Go package a symbol belongs to, from its name alone.

Go names a function `path/to/pkg.Func`, `pkg.(*T).Method`, `pkg.T.Method`, `pkg.Func.func1`
(a closure) or `pkg.Func[...]` (a generic instance); the last path element's dots are escaped
as %2e (`gopkg.in/yaml%2ev3.Marshal`), so the package is everything up to the first dot after
the last slash, once generic arguments are set aside. Data symbols add prefixes: `type:T` (a
type descriptor: the package of the named type T), `go:itab.*pkg.T,iface` (the concrete type's
package). Symbols that carry no package in their name (string literals `go:string."..."`,
GC maps `gclocals·…`, descriptors of unnamed types such as `type:[]uint8`) answer None: the
caller attributes them to the package of the code that uses them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

RUNTIME = "runtime"
# The assembly functions of Go's wasm port that have no package in their name.
_BARE = dict.fromkeys(("cmpbody", "memcmp", "memeqbody", "memchr"), "internal/bytealg")
_UNNAMED_PREFIXES = ("go:string.", "go:func.", "gclocals·", "go:cuinfo.", "go:info.", "go:main.")
_RUNTIME_SYMBOLS = ("go:buildinfo", "go:buildid", "go:link.", "go:textsect")
_TYPE_WRAPPERS = re.compile(r"^(?:\*|\[\]|\[\d+\]|noalg\.)+")
_COMPOSITE = ("map[", "func(", "struct {", "struct{", "interface {", "interface{", "chan ", "<-")


def _drop_brackets(name: str) -> str:
    """NAME without generic arguments: `pkg.F[a/b.T].m` -> `pkg.F.m`."""
    out, depth = [], 0
    for char in name:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def _qualified(name: str) -> str | None:
    """The package of a qualified Go name (`a/b.c...`), or None when NAME is not one."""
    plain = _drop_brackets(name)
    slash = plain.rfind("/")
    dot = plain.find(".", slash + 1)
    if dot <= 0:
        return None
    package = plain[:dot]
    if any(c in package for c in " (*{}\"',"):
        return None
    return unquote(package)


def _type_package(type_name: str) -> str | None:
    """The package of a type descriptor's type, when it is a named type (else None)."""
    if type_name.startswith("."):  # .namedata., .eqfunc., .importpath.: linker helpers
        return None
    inner = _TYPE_WRAPPERS.sub("", type_name)
    if inner.startswith(_COMPOSITE) or "." not in _drop_brackets(inner):
        return None  # a builtin (int, string) or an unnamed composite type
    return _qualified(inner)


def package_of(symbol: str) -> str | None:
    """The Go package SYMBOL belongs to by its name, or None when its name does not say."""
    if symbol in _BARE:
        return _BARE[symbol]
    if symbol.startswith(_RUNTIME_SYMBOLS):
        return RUNTIME
    if symbol.startswith("type:"):
        return _type_package(symbol[len("type:") :])
    if symbol.startswith("go:itab."):
        concrete = symbol[len("go:itab.") :].split(",", 1)[0]
        return _type_package(concrete)
    if symbol.startswith(_UNNAMED_PREFIXES) or symbol.startswith("go:"):
        return None
    if "." not in symbol:
        return RUNTIME if symbol else None  # _rt0_wasm_js, wasm_export_run, ...
    return _qualified(symbol)


def function_package(name: str) -> str:
    """The package of a function (a function always belongs to one: runtime if unsure)."""
    return package_of(name) or RUNTIME
