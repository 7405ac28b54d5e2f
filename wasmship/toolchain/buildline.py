"""The `go build` command line, from one description: the release build (compile), the same
build with names and the linker's graph (size), and with inlining off too (plugins' origins)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmship.errors import DistError, UsageError

RELEASE_LDFLAGS = "-s -w"  # no symbol table, no DWARF: what a dist ships
# Go keeps a link's output in its build cache under the main package's compile key, which
# ignores -ldflags under -trimpath: a later build whose output is up to date replays the
# -dumpdep graph of the last link of the same sources (thousands of lines). An (empty)
# -asmflags is recorded in the main package's build info, so in that key, and changes no code.
OWN_LINK_KEY = "-asmflags="
NO_INLINING = "-gcflags=all=-l"  # or a call is folded into its caller, and the graph loses it

# The flags of `go build` that the lines below set, or that would make go write its output
# elsewhere, write none, or build another thing: given after `--`, go takes the last one, so
# the release would be built where wasmship never reads it (and the old module published).
# Each maps to what to use instead.
OWNED_GO_FLAGS = {
    "o": "wasmship writes the module itself; choose the dist folder with --out (out in "
    "wasmship.toml)",
    "tags": "set build tags with --tags (tags in wasmship.toml)",
    "ldflags": "set linker flags with --ldflags (ldflags in wasmship.toml); they are added to "
    "wasmship's -s -w (--debug-symbols leaves those out)",
    "trimpath": "wasmship always builds with -trimpath, for reproducible modules",
    "buildmode": "a dist ships an executable module; for a wasip1 one, set goos in a [[target]]",
    "C": "give the package as PACKAGE, or module and package in a [[target]] of wasmship.toml",
    "n": "go build -n builds nothing, so the previous module would be published",
}
# go build's flags that take a value as the next argument (`-gcflags all=-N`), so that value is
# not read as a package.
VALUE_FLAGS = frozenset(
    {"o", "p", "C", "asmflags", "buildmode", "compiler", "gccgoflags", "gcflags", "installsuffix"}
    | {"ldflags", "mod", "modfile", "overlay", "pgo", "pkgdir", "tags", "toolexec", "covermode"}
    | {"coverpkg"}
)


def check_go_flags(flags: Sequence[str]) -> None:
    """Refuse extra `go build` flags (after `--`) that wasmship owns, that redirect or drop the
    output, or that name packages: UsageError naming the flag and the setting to use."""
    value_next = False
    for flag in flags:
        if value_next:
            value_next = False
            continue
        if flag == "--" or not flag.startswith("-") or flag == "-":
            raise UsageError(
                f"`-- {flag}`: after `--` come go build flags only; the package is wasmship's "
                "PACKAGE argument (or package in wasmship.toml)"
            )
        name, has_value, _ = flag.lstrip("-").partition("=")
        reason = OWNED_GO_FLAGS.get(name)
        if reason is not None:
            raise UsageError(f"`-- {flag}` is refused: {reason}")
        value_next = name in VALUE_FLAGS and not has_value


# The go build flags wasmship runs when they come from a file it did not write this run (a
# dist's manifest, which `wasmship size` rebuilds from): none that runs a program or reads
# another file (-toolexec, -exec, -overlay, -modfile, -pgo, ...), since data never becomes code.
RECORDED_GO_FLAGS = frozenset({"a", "asmflags", "buildvcs", "gcflags", "mod", "p", "v", "x"})


def check_recorded_flags(flags: Sequence[str], where: str) -> None:
    """Refuse go build flags recorded in WHERE (a manifest) that are not in RECORDED_GO_FLAGS:
    DistError naming the flag."""
    value_next = False
    for flag in flags:
        if value_next:
            value_next = False
            continue
        name, has_value, _ = flag.lstrip("-").partition("=")
        if not flag.startswith("-") or name not in RECORDED_GO_FLAGS:
            raise DistError(
                f"{where} records the go build flag {flag!r}, which wasmship does not run from "
                "a file; build the dist here (`wasmship build -- FLAGS`) and measure that"
            )
        value_next = name in VALUE_FLAGS and not has_value


@dataclass(frozen=True)
class BuildLine:
    """How a target's package is built: what `go build` is given, the user's flags included."""

    go: str
    package: str  # as go is given it, in the folder go runs in
    tags: tuple[str, ...] = ()
    ldflags: str = ""  # the user's, without wasmship's -s -w
    go_flags: tuple[str, ...] = ()  # after `--` on wasmship's command line
    strip: bool = True  # -s -w (not with --debug-symbols)

    def __post_init__(self) -> None:
        check_go_flags(self.go_flags)  # whoever made this line: settings, a manifest

    def _tags(self) -> list[str]:
        return ["-tags", ",".join(self.tags)] if self.tags else []

    def _ldflags(self, *ours: str) -> str:
        return " ".join(part for part in (*ours, self.ldflags) if part)

    def release(self, output: Path) -> list[str]:
        """The build of the module a dist ships (no shell)."""
        cmd = [self.go, "build", "-trimpath", "-o", str(output), *self._tags()]
        ldflags = self._ldflags(RELEASE_LDFLAGS if self.strip else "")
        if ldflags:
            cmd += ["-ldflags", ldflags]
        return [*cmd, *self.go_flags, "--", self.package]

    def with_names(self, output: Path) -> list[str]:
        """The same code with its names kept, the linker printing its graph (-dumpdep)."""
        # A user's own -s would strip the names again; everything else stays as it was built.
        ldflags = " ".join(f for f in (*self.ldflags.split(), "-w", "-dumpdep") if f != "-s")
        cmd = [self.go, "build", "-trimpath", "-o", str(output), *self._tags()]
        cmd += ["-ldflags", ldflags, OWN_LINK_KEY]
        return [*cmd, *self.go_flags, "--", self.package]

    def with_origins(self, output: Path) -> list[str]:
        """The release build with inlining off and the linker printing its graph."""
        ldflags = self._ldflags(RELEASE_LDFLAGS if self.strip else "")
        cmd = [self.go, "build", "-trimpath", "-o", str(output), *self._tags(), OWN_LINK_KEY]
        cmd += [*self.go_flags, NO_INLINING, "-ldflags", f"{ldflags} -dumpdep".strip()]
        return [*cmd, "--", self.package]
