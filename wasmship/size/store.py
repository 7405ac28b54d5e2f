"""Size data kept beside the compression cache, by module SHA-256, for the next build's diff.

The dist holds what gets deployed, and a package list is nothing a visitor needs (nor should
see), so the data lives in the cache folder: `<cache>/size/v1/<sha256>.json` (cachedir.SIZE).
A kept module's sources are gone by the next build; its stored data is what the new module is
compared with.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from wasmship.cachedir import SIZE, touch
from wasmship.size.model import ModuleSize, module_from_json

KEEP = 200  # stored modules; the least recently used go first


def stored_path(cache_dir: Path, sha256: str) -> Path:
    """Where the size data of the module with SHA256 is kept."""
    return SIZE.path(cache_dir) / f"{sha256}.json"


def save(cache_dir: Path, size: ModuleSize) -> Path | None:
    """Keep SIZE for later diffs; None when the cache folder cannot be written."""
    path = stored_path(cache_dir, size.sha256)
    text = json.dumps(size.to_json(), sort_keys=True, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError:
        return None
    _prune(path.parent)
    return path


def load(cache_dir: Path, sha256: str) -> ModuleSize | None:
    """The stored size data of the module with SHA256, or None (absent or unreadable)."""
    path = stored_path(cache_dir, sha256)
    try:
        document = json.loads(path.read_text("utf-8"))
        size = module_from_json(document)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if size.sha256 != sha256:
        return None
    touch(path)  # a diff used it: the cache's bound and the prune keep it longer
    return size


def _prune(folder: Path) -> None:
    """Drop the oldest entries beyond KEEP."""
    with contextlib.suppress(OSError):
        entries = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
