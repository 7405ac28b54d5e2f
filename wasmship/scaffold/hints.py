"""What the project's own build files say it builds: `go build -o web/app.wasm ./cmd/app`.

Read from Makefiles, shell scripts, magefiles, Taskfiles, justfiles and `//go:generate` lines:
each `go build` line gives the module it writes (`-o`), the package it builds, whether it
builds for GOOS=wasip1 or as a reactor (`-buildmode=c-shared`), and its build tags (`-tags std`:
which of the package's files Go compiles). Only what is written literally
counts: a `$(OUT)` or `${PKG}` is not guessed.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wasmship.scaffold.tree import ProjectTree

BUILD_FILE_NAMES = frozenset(
    {"Makefile", "makefile", "GNUmakefile", "magefile.go", "justfile", "Justfile"}
    | {"Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml"}
)
BUILD_FILE_SUFFIXES = (".mk", ".sh", ".bash")
# `go build`, `$(GO) build`, `${GOCMD} build` (not `tinygo build`: wasmship builds with Go).
_GO_BUILD = re.compile(r"(?:(?<![\w-])go|\$[({]?\w*GO\w*[)}]?)\s+build\b")
_GENERATE = re.compile(r"^//go:generate\s+(.*)$", re.MULTILINE)
# Flags of `go build` that take a value as the next word.
_VALUED = frozenset(
    {"-o", "-C", "-p", "-tags", "-ldflags", "-gcflags", "-asmflags", "-buildmode", "-mod"}
    | {"-modfile", "-overlay", "-pgo", "-pkgdir", "-toolexec", "-installsuffix", "-gccgoflags"}
)
_WASIP1 = re.compile(r"\bGOOS\s*[:?]?=\s*[\"']?wasip1\b")
_JS = re.compile(r"\bGOOS\s*[:?]?=\s*[\"']?js\b")
# A Go string literal naming a module: `p.Load(ctx, "plugin-morning/morning.wasm")`.
_GO_WASM_PATH = re.compile(r'"((?:\./)?[\w./-]+\.wasm)"')
_TAG = re.compile(r"[A-Za-z0-9_.]{1,64}")  # a build tag as Go accepts one
_END = frozenset({"&&", "||", ";", "|", ")", "`"})


@dataclass(frozen=True)
class Hint:
    """One `go build` line of the project: where it is and what it writes."""

    where: str  # "Makefile:12"
    output: str | None  # the module it writes, relative to the module root: "web/app.wasm"
    package: str | None  # the folder it builds, relative to the module root: "cmd/app"
    wasip1: bool  # GOOS=wasip1 on the line
    reactor: bool  # -buildmode=c-shared
    js: bool = False  # GOOS=js on the line
    tags: tuple[str, ...] = ()  # -tags on the line: the files it compiles are those tags'

    @property
    def guest(self) -> bool:
        """Whether the line builds a wasip1 guest: GOOS=wasip1, a reactor (c-shared builds
        only for wasip1), or a .wasm written without GOOS=js (then only a package that does
        not use syscall/js is taken for one)."""
        return self.wasip1 or self.reactor or (self.output is not None and not self.js)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """TEXT's lines with backslash continuations joined, each with its first line's number."""
    pending, first = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            first = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield first, pending + line
        pending = ""
    if pending:
        yield first, pending


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError:
        return line.split()


def _inside(rel: str) -> str | None:
    """REL normalised, or None when it leaves the module (`../x`) or is absolute."""
    if rel.startswith("/"):
        return None
    rel = posixpath.normpath(rel)
    return None if rel == ".." or rel.startswith("../") else rel


def parse_line(
    line: str, base: str, module_path: str
) -> tuple[str | None, str | None, bool, tuple[str, ...]]:
    """The output, the package (both relative to the module root), the reactor flag and the
    build tags of the `go build` in LINE, run from BASE (a folder relative to the module root)."""
    found = _GO_BUILD.search(line)
    assert found is not None
    words = _words(line[found.end() :])
    output = package = None
    reactor = False
    tags: tuple[str, ...] = ()
    at = 0
    while at < len(words):
        word = words[at]
        at += 1
        if word in _END:
            break
        name, eq, value = word.partition("=")
        if name in _VALUED and not eq:
            value, at = (words[at] if at < len(words) else ""), at + 1
        if name == "-o":
            output = value
        elif name == "-buildmode":
            reactor = value == "c-shared"
        elif name == "-tags" and "$" not in value:
            tags = tuple(t for t in re.split(r"[,\s]+", value) if _TAG.fullmatch(t))
        elif not word.startswith("-") and package is None and "$" not in word:
            # `go build plugin-morning/morning.go` builds the package of that file's folder.
            package = ("./" + (posixpath.dirname(word) or ".")) if word.endswith(".go") else word
    out = _inside(posixpath.join(base, output)) if output and "$" not in output else None
    if out is not None and not out.endswith(".wasm"):
        out = None
    rel = None
    if package is not None:
        if module_path and (package == module_path or package.startswith(module_path + "/")):
            rel = _inside(package[len(module_path) :].lstrip("/") or ".")
        elif package.startswith("."):
            rel = _inside(posixpath.join(base, package))
    return out, rel, reactor, tags


def read_hints(tree: ProjectTree, module_path: str) -> list[Hint]:
    """Every `go build` line of the project's build files and `//go:generate` directives."""
    hints = []
    for rel in tree.files:
        name = posixpath.basename(rel)
        generate = rel.endswith(".go") and name != "magefile.go"
        if not generate and name not in BUILD_FILE_NAMES and not name.endswith(BUILD_FILE_SUFFIXES):
            continue
        text = tree.text(rel)
        if text is None or (generate and "//go:generate" not in text):
            continue
        folder = posixpath.dirname(rel) or "."
        # A script in scripts/ is often run from the root: its paths are read both ways.
        bases = [folder, "."] if name.endswith((".sh", ".bash")) and folder != "." else [folder]
        lines = (
            ((text.count("\n", 0, m.start()) + 1, m[1]) for m in _GENERATE.finditer(text))
            if generate
            else _logical_lines(text)
        )
        for number, line in lines:
            if not _GO_BUILD.search(line):
                continue
            wasip1 = _WASIP1.search(line) is not None
            js = _JS.search(line) is not None
            for base in bases:
                output, package, reactor, tags = parse_line(line, base, module_path)
                if output is not None or package is not None:
                    where = f"{rel}:{number}"
                    hints.append(Hint(where, output, package, wasip1, reactor, js, tags))
    return hints


def read_by_hosts(tree: ProjectTree, outputs: set[str]) -> dict[str, str]:
    """Which of OUTPUTS (module paths relative to the root) a Go program of the project reads by
    that path (a string literal, relative to the program's folder, outside `//go:generate`):
    each with where (`main.go:27`). Such a host needs the module under that fixed name."""
    found: dict[str, str] = {}
    for rel in tree.files:
        if not rel.endswith(".go") or len(found) == len(outputs):
            continue
        text = tree.text(rel)
        if text is None or ".wasm" not in text:
            continue
        folder = posixpath.dirname(rel) or "."
        for m in _GO_WASM_PATH.finditer(text):
            start = text.rfind("\n", 0, m.start()) + 1
            if text[start : m.start()].lstrip().startswith("//"):
                continue  # a comment or a //go:generate line, not a read
            path = _inside(posixpath.join(folder, m[1]))
            if path in outputs and path not in found:
                found[path] = f"{rel}:{text.count(chr(10), 0, m.start()) + 1}"
    return found


def module_path_of(root: Path) -> str:
    """The module path in ROOT/go.mod ('' when it cannot be read)."""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found = re.search(r"^\s*module\s+\"?([^\s\"]+)", text, re.MULTILINE)
    return found[1] if found else ""
