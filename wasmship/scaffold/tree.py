"""The project's files init reads (pages, scripts, build files, Go sources), found by one bounded
walk: no dot-folders, node_modules, vendor, testdata or wasmship dists; so many files, so deep,
so large at most."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from wasmship.distformat.names import MANIFEST
from wasmship.distformat.reader import is_wasmship_dist

SKIPPED_FOLDERS = frozenset({"node_modules", "vendor", "testdata", "__pycache__"})
MAX_DEPTH = 6
MAX_FILES = 20_000  # files looked at; the rest of a huge tree is not read
MAX_TEXT_BYTES = 2 << 20  # a file larger than this is not read
READ_SUFFIXES = (".html", ".htm", ".js", ".mjs", ".go", ".sh", ".bash", ".mk", ".yml", ".yaml")
READ_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile", "justfile", "Justfile"})


@dataclass
class ProjectTree:
    """The files under a module root worth reading, by POSIX path relative to it."""

    root: Path
    files: list[str]
    _texts: dict[str, str | None] = field(default_factory=dict)

    def text(self, rel: str) -> str | None:
        """REL's text (undecodable bytes replaced), or None if it cannot be read or is too big."""
        if rel not in self._texts:
            path = self.root / rel
            try:
                too_big = path.stat().st_size > MAX_TEXT_BYTES
                text = None if too_big else path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = None
            self._texts[rel] = text
        return self._texts[rel]

    def under(self, folder: str) -> list[str]:
        """The files in FOLDER ("." for all), relative to it."""
        if folder == ".":
            return list(self.files)
        prefix = folder.rstrip("/") + "/"
        return [f[len(prefix) :] for f in self.files if f.startswith(prefix)]


def walk(root: Path) -> ProjectTree:
    """The readable files under ROOT, sorted."""
    found: list[str] = []
    seen = 0
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root)
        depth = len(rel.parts)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIPPED_FOLDERS
            and depth < MAX_DEPTH
            and not (here / d / "go.mod").is_file()  # a nested module is a project of its own
            and not ((here / d / MANIFEST).is_file() and is_wasmship_dist(here / d))
        )
        for name in sorted(names):
            seen += 1
            if seen > MAX_FILES:
                return ProjectTree(root, sorted(found))
            if name.endswith(READ_SUFFIXES) or name in READ_NAMES:
                found.append((rel / name).as_posix())
    return ProjectTree(root, sorted(found))
