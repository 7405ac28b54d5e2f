"""Step: adopt the project's own web folder (--static DIR).

Its files are copied under their own names and served with revalidation; every reference in
its HTML, JS and CSS to a built artifact's plain name (`main.wasm`, `wasm_exec.js`) becomes the
hashed name, so existing code loads hashed, immutable modules without an edit.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path, PurePosixPath

from wasmship.build.context import BuildContext
from wasmship.build.steps.fingerprint import add_file
from wasmship.dist.names import LOADER, MANIFEST, PAGE
from wasmship.errors import UsageError

REWRITTEN_SUFFIXES = frozenset({".html", ".htm", ".js", ".mjs", ".css"})
RESERVED = frozenset({MANIFEST})


def static_page(ctx: BuildContext) -> bool:
    """Whether the static folder brings its own index.html (then wasmship writes no page)."""
    folder = ctx.config.static
    return folder is not None and (folder / PAGE).is_file()


def reference_pattern(names: list[str]) -> re.Pattern[str]:
    """A plain name as a whole URL path segment: `"./main.wasm"`, `'wasm_exec.js?v=1'`."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w.$-])({alternatives})(?![\w$-]|\.\w)")


def rewrite(text: str, renames: dict[str, str]) -> str:
    """TEXT with each plain artifact name replaced by its hashed name."""
    if not renames:
        return text
    return reference_pattern(list(renames)).sub(lambda m: renames[m.group(1)], text)


def static_files(folder: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, file) for every file under FOLDER, sorted, dotfiles left out."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(folder.resolve()):
            raise UsageError(f"--static: {path} links outside {folder}; copy the file in instead")
        files.append((str(rel), path))
    return files


def copy_static(ctx: BuildContext) -> None:
    """Copy the static folder into staging, rewriting references to hashed artifact names."""
    folder = ctx.config.static
    if folder is None:
        return
    if not folder.is_dir():
        raise UsageError(f"--static {folder}: no such folder")
    out = ctx.config.out_path
    if out == folder.resolve() or folder.resolve() in out.parents:
        raise UsageError(f"--static {folder}: the dist folder {out} is inside it; pick another")
    renames = {
        logical: entry.path
        for logical, entry in ctx.files.items()
        if entry.immutable and logical != LOADER
    }
    copied = []
    for rel, path in static_files(folder):
        if rel in RESERVED or (rel in ctx.files and rel != PAGE):
            raise UsageError(
                f"--static {folder}: {rel} has the name of a file wasmship writes; rename it"
            )
        data = path.read_bytes()
        if PurePosixPath(rel).suffix.lower() in REWRITTEN_SUFFIXES:
            # Not UTF-8 text: copied as it is.
            with contextlib.suppress(UnicodeDecodeError):
                data = rewrite(data.decode("utf-8"), renames).encode("utf-8")
        (ctx.staging / rel).parent.mkdir(parents=True, exist_ok=True)
        add_file(ctx, rel, data, hashed=False)
        ctx.static_files.append(rel)
        copied.append(rel)
    ctx.notes["static"] = f"{len(copied)} files from {folder.name}/"
