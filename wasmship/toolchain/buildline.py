"""The `go build` command line, from one description: the release build (compile), the same
build with names and the linker's graph (size), and with inlining off too (plugins' origins)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RELEASE_LDFLAGS = "-s -w"  # no symbol table, no DWARF: what a dist ships
# Go keeps a link's output in its build cache under the main package's compile key, which
# ignores -ldflags under -trimpath: a later build whose output is up to date replays the
# -dumpdep graph of the last link of the same sources (thousands of lines). An (empty)
# -asmflags is recorded in the main package's build info, so in that key, and changes no code.
OWN_LINK_KEY = "-asmflags="
NO_INLINING = "-gcflags=all=-l"  # or a call is folded into its caller, and the graph loses it


@dataclass(frozen=True)
class BuildLine:
    """How a target's package is built: what `go build` is given, the user's flags included."""

    go: str
    package: str  # as go is given it, in the folder go runs in
    tags: tuple[str, ...] = ()
    ldflags: str = ""  # the user's, without wasmship's -s -w
    go_flags: tuple[str, ...] = ()  # after `--` on wasmship's command line
    strip: bool = True  # -s -w (not with --debug-symbols)

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
