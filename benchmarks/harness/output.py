"""Where a benchmark works and what it leaves: its scratch folder and its tables."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A new temporary folder for one run, removed at the end unless KEEP (then named)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if keep:
            print(f"benchmark: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def publish(tables: str, markdown: Path | None) -> None:
    """Print TABLES, and write them to MARKDOWN as well when it is given."""
    print(tables)
    if markdown:
        markdown.write_text(tables)
