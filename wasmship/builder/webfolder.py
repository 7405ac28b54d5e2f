"""What of the project's own web folder (--static) goes into the dist, and what is left out.

`--static .` from a repository root must not publish the repository: Go sources, go.mod, the
build's own files, the dist and earlier dists, node_modules and precompressed copies (wasmship
compresses again) stay out by default. `static-exclude` leaves more out and `static-include`
brings anything back but the dist itself. Patterns are globs relative to the folder, as in
.gitignore: `*.psd` matches a name at any depth, `docs/*.md` (with a `/`) a path from the
folder, `drafts/` only folders, `**` any number of folders. Dotfiles stay out unless an include
pattern names them with their dot (`.well-known/`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from wasmship.builder.config import BuildConfig
from wasmship.distformat.names import CODINGS, MANIFEST, PAGE
from wasmship.distformat.reader import is_wasmship_dist
from wasmship.errors import UsageError

GO_FILES = frozenset({"go.mod", "go.sum", "go.work", "go.work.sum"})
BUILD_FILES = frozenset({"wasmship.toml", "Makefile", "makefile", "GNUmakefile"})
VCS_FOLDERS = frozenset({"CVS", "_darcs"})  # .git, .hg, .svn, .bzr are dotfiles
PRECOMPRESSED = tuple(c.suffix for c in CODINGS if not c.needs_dictionary)
NAMED_AT_MOST = 8  # more left-out names than this are summed up


@dataclass(frozen=True)
class LeftOut:
    """A file or folder of the web folder that does not go into the dist, and why."""

    rel: str  # "main.go", or "dist/" for a folder
    why: str  # "Go source", "Go module file", "build file", "dist", "earlier dist", ...


@dataclass(frozen=True)
class Selection:
    """The web folder's files that go into the dist, and what was left out."""

    folder: Path
    files: tuple[tuple[str, Path], ...]  # (relative POSIX path, file), sorted
    left_out: tuple[LeftOut, ...]

    def summary(self, label: str, count: int) -> str:
        """`12 files from ./ (left out: 8 Go sources, go.mod, go.sum, dist/)`: COUNT copied."""
        head = f"{count} file{'' if count == 1 else 's'} from {label}"
        parts = left_out_summary(self.left_out)
        return f"{head} (left out: {', '.join(parts)})" if parts else head


@dataclass(frozen=True)
class Pattern:
    """One glob of static-include or static-exclude."""

    text: str
    segments: tuple[str, ...]
    anchored: bool  # matched from the folder; else against a name at any depth
    folders_only: bool

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """`drafts/`, `*.psd`, `docs/*.md`, `/notes.txt`, `assets/**`."""
        body = text.strip().replace("\\", "/")
        folders_only = body.endswith("/")
        body = body.strip("/")
        if not body or any(part in (".", "..") for part in body.split("/")):
            raise UsageError(
                f"static pattern {text!r}: use a glob relative to the static folder, "
                "e.g. '*.psd' or 'drafts/'"
            )
        segments = tuple(s for s in body.split("/") if s)
        anchored = "/" in text.strip().rstrip("/")
        return cls(text, segments, anchored, folders_only)

    def matches(self, rel: PurePosixPath, is_folder: bool) -> bool:
        """Whether the file or folder REL (relative to the static folder) matches."""
        if self.folders_only and not is_folder:
            return False
        if not self.anchored:
            return _segment(self.segments[0], rel.name)
        return _match(self.segments, rel.parts)

    def may_match_under(self, folder: PurePosixPath) -> bool:
        """Whether something inside FOLDER could match (so a left-out folder is still read)."""
        if not self.anchored:
            return _undotted(folder.parts)
        return _prefix(self.segments, folder.parts)


def _segment(pattern: str, name: str) -> bool:
    """A glob segment against a name; `*` never matches a leading dot, as in a shell."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatchcase(name, pattern)


def _undotted(parts: tuple[str, ...]) -> bool:
    return not any(p.startswith(".") for p in parts)


def _match(segments: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not segments:
        return not parts
    if segments[0] == "**":  # any number of folders, never through a dotfile
        return any(
            _undotted(parts[:i]) and _match(segments[1:], parts[i:]) for i in range(len(parts) + 1)
        )
    return bool(parts) and _segment(segments[0], parts[0]) and _match(segments[1:], parts[1:])


def _prefix(segments: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether a path below the folder PARTS could match SEGMENTS."""
    for index, part in enumerate(parts):
        if index >= len(segments):
            return False
        if segments[index] == "**":
            return _undotted(parts[index:])
        if not _segment(segments[index], part):
            return False
    return True


def default_reason(path: Path, rel: PurePosixPath, is_folder: bool) -> str | None:
    """Why a site never needs REL by default; None when it may."""
    name = rel.name
    if is_folder:
        if name == "node_modules":
            return "node_modules"
        if name in VCS_FOLDERS:
            return "version control"
        if name == "vendor" and (path / "modules.txt").is_file():
            return "Go vendor folder"
        if is_wasmship_dist(path):
            return "earlier dist"
        return None
    if name.endswith(".go"):
        return "Go source"
    if name in GO_FILES:
        return "Go module file"
    if name in BUILD_FILES:
        return "build file"
    for suffix in PRECOMPRESSED:
        if name.endswith(suffix) and (path.parent / name[: -len(suffix)]).is_file():
            return "precompressed copy"
    return None


def select_files(
    folder: Path, dist: Path, *, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> Selection:
    """The files of FOLDER that go into the dist at DIST, sorted, and what was left out."""
    includes = [Pattern.parse(p) for p in include]
    excludes = [Pattern.parse(p) for p in exclude]
    root, dist = folder.resolve(), dist.resolve()
    files: list[tuple[str, Path]] = []
    left_out: list[LeftOut] = []
    seen: set[Path] = set()

    def take(path: Path, rel: PurePosixPath) -> None:
        if not path.resolve().is_relative_to(root):
            raise UsageError(f"--static: {path} links outside {folder}; copy the file in instead")
        files.append((str(rel), path))

    def walk(current: Path, rel: PurePosixPath, mode: str) -> None:
        """MODE: "all" takes what no rule leaves out, "forced" what is not a dotfile, "named"
        only what an include pattern names (inside a folder left out)."""
        if current.resolve() in seen:
            return  # a link back to a folder already read
        seen.add(current.resolve())
        for entry in sorted(os.scandir(current), key=lambda e: e.name):
            path, sub, is_folder = Path(entry.path), rel / entry.name, entry.is_dir()
            if is_folder and path.resolve() == dist:
                if mode != "named":
                    left_out.append(LeftOut(f"{sub}/", "dist"))  # never, even if included
                continue
            if any(p.matches(sub, is_folder) for p in includes) or (
                mode == "forced" and not entry.name.startswith(".")
            ):
                if is_folder:
                    walk(path, sub, "forced")
                else:
                    take(path, sub)
                continue
            why = "named" if mode == "named" else _why(path, sub, is_folder, excludes)
            if why is None:
                if is_folder:
                    walk(path, sub, "all")
                else:
                    take(path, sub)
                continue
            if why not in ("dotfile", "named"):
                left_out.append(LeftOut(f"{sub}/" if is_folder else str(sub), why))
            if is_folder and any(p.may_match_under(sub) for p in includes):
                walk(path, sub, "named")

    walk(folder, PurePosixPath(), "all")
    return Selection(folder, tuple(sorted(files)), tuple(left_out))


def _why(path: Path, rel: PurePosixPath, is_folder: bool, excludes: list[Pattern]) -> str | None:
    if rel.name.startswith("."):
        return "dotfile"
    if any(p.matches(rel, is_folder) for p in excludes):
        return "static-exclude"
    return default_reason(path, rel, is_folder)


# The order left-out names are told in: what would hurt most to publish first.
NAMED_ORDER = (
    "dist",
    "earlier dist",
    "Go module file",
    "build file",
    "Go vendor folder",
    "node_modules",
    "version control",
)


def left_out_summary(left_out: tuple[LeftOut, ...]) -> list[str]:
    """`8 Go sources`, `dist/`, `go.mod`, `3 precompressed copies`, `2 by static-exclude`."""

    def count(why: str, plural: str) -> list[str]:
        n = sum(1 for item in left_out if item.why == why)
        return [f"{n} {plural}" if n > 1 else f"1 {why}"] if n else []

    named = [item for item in left_out if item.why in NAMED_ORDER]
    names = [i.rel for i in sorted(named, key=lambda i: (NAMED_ORDER.index(i.why), i.rel))]
    if len(names) > NAMED_AT_MOST:
        names = [*names[: NAMED_AT_MOST - 1], f"{len(names) - NAMED_AT_MOST + 1} more"]
    excluded = sum(1 for item in left_out if item.why == "static-exclude")
    return [
        *count("Go source", "Go sources"),
        *names,
        *count("precompressed copy", "precompressed copies"),
        *([f"{excluded} by static-exclude"] if excluded else []),
    ]


def holds_dist_manifest(folder: Path) -> bool:
    """Whether FOLDER itself is a dist wasmship wrote (its manifest.json says so)."""
    return (folder / MANIFEST).is_file() and is_wasmship_dist(folder)


def own_page(config: BuildConfig) -> bool:
    """Whether the static folder brings its own index.html (then wasmship writes no page)."""
    folder = config.static
    if folder is None or not (folder / PAGE).is_file():
        return False
    page = PurePosixPath(PAGE)
    excluded = any(Pattern.parse(p).matches(page, False) for p in config.static_exclude)
    return not excluded or any(Pattern.parse(p).matches(page, False) for p in config.static_include)
