"""zstd, written once: the one import of zstandard and the one window rule (zstd and dcz)."""

from __future__ import annotations

import importlib
from typing import Any

MIN_WINDOW_LOG = 10
# RFC 9659: a zstd Content-Encoding must not need more than an 8 MB window to decode.
HTTP_MAX_WINDOW_LOG = 23


class ZstandardMissing(ImportError):
    """The zstandard package is not installed."""


def zstandard() -> Any:
    """The zstandard module, imported on first use."""
    try:
        return importlib.import_module("zstandard")
    except ImportError:
        raise ZstandardMissing("the zstandard package is not installed") from None


def window_log(size: int, limit: int | None = None) -> int:
    """log2 of the smallest power-of-two window covering SIZE bytes, at most LIMIT if given."""
    log = max(MIN_WINDOW_LOG, max(size - 1, 1).bit_length())
    return log if limit is None else min(limit, log)
