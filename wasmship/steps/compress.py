"""Step 6: precompress every file that benefits; keep a variant only when it is smaller."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import brotli

from wasmship.context import Artifact, BuildContext, Encoding
from wasmship.steps.fingerprint import sha256_hex

BROTLI_MAX_WINDOW = 24  # the largest window of the brotli format (RFC 7932)
BROTLI_MIN_WINDOW = 10


@dataclass(frozen=True)
class Codec:
    """A content encoding: its HTTP name, file suffix and compressor."""

    name: str  # the Content-Encoding token, and the manifest's key
    suffix: str
    compress: Callable[[bytes, str], bytes]  # (data, content type) -> compressed bytes


def brotli_window(size: int) -> int:
    """The smallest window that covers the whole file, within the format's limits."""
    return max(BROTLI_MIN_WINDOW, min(BROTLI_MAX_WINDOW, max(size - 1, 1).bit_length()))


def compress_brotli(data: bytes, content_type: str) -> bytes:
    """Brotli at quality 11 with a window sized to the file."""
    mode = brotli.MODE_TEXT if content_type.startswith("text/") else brotli.MODE_GENERIC
    result: bytes = brotli.compress(data, mode=mode, quality=11, lgwin=brotli_window(len(data)))
    return result


def compress_gzip(data: bytes, content_type: str) -> bytes:
    """Gzip level 9, deterministic: mtime 0 and no file name in the header."""
    return gzip.compress(data, compresslevel=9, mtime=0)


CODECS: tuple[Codec, ...] = (
    Codec("br", ".br", compress_brotli),
    Codec("gzip", ".gz", compress_gzip),
)


def compress(ctx: BuildContext) -> None:
    """Write .br and .gz siblings for every artifact, in parallel (both codecs release the GIL)."""
    work: list[tuple[Artifact, Codec]] = [
        (artifact, codec) for artifact in ctx.artifacts.values() for codec in CODECS
    ]

    def run(item: tuple[Artifact, Codec]) -> tuple[Artifact, Codec, bytes]:
        artifact, codec = item
        data = (ctx.staging / artifact.path).read_bytes()
        return artifact, codec, codec.compress(data, artifact.content_type)

    # Largest first, so the slowest job starts at once.
    work.sort(key=lambda item: -item[0].size)
    with ThreadPoolExecutor(max_workers=max(1, ctx.config.jobs)) as pool:
        results = list(pool.map(run, work))
    for artifact, codec, packed in results:
        if len(packed) >= artifact.size:
            continue
        path = artifact.path + codec.suffix
        (ctx.staging / path).write_bytes(packed)
        artifact.encodings[codec.name] = Encoding(
            path=path, size=len(packed), sha256=sha256_hex(packed)
        )
    kept = sum(len(a.encodings) for a in ctx.artifacts.values())
    ctx.notes["compress"] = f"{kept} variants"
