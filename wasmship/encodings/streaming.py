"""Encoders fed in chunks, so a build can tell how far they are, with one-shot's exact bytes.

brotli and zlib give the same bytes whichever way their input is cut, with one exception this
module keeps to: brotli fixes its size hint at the first block it encodes, from the bytes given
so far, and below 1 MiB it picks another hasher and context model (encode.c UpdateSizeHint,
quality.h ChooseHasher). Chunks of 1 MiB (a multiple of every brotli input block) keep one-shot
compression's bytes; tests/test_encode_jobs.py checks it on real modules and text.

zopfli cannot stream, and zstd streamed (python-zstandard's compressobj or stream_writer, even
given the whole input at once) writes other bytes than its one-shot compress: those run in one
call and report only their start and end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

CHUNK = 1 << 20

Progress = Callable[[int], None]  # told the input bytes an encoder has read so far

_STRATEGIES = {"default": 0, "filtered": 1}  # zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED


def ignore(done: int) -> None:
    """No one asked how far an encoder is."""


def chunks(data: bytes) -> Iterator[memoryview]:
    """DATA in CHUNK-sized views, without copying it."""
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield view[start : start + CHUNK]


def feed(
    data: bytes,
    process: Callable[[memoryview], bytes],
    finish: Callable[[], bytes],
    progress: Progress,
    before: int = 0,
) -> bytes:
    """DATA through a streaming encoder chunk by chunk, telling PROGRESS (after BEFORE bytes)."""
    parts = []
    done = before
    for chunk in chunks(data):
        parts.append(process(chunk))
        done += len(chunk)
        progress(done)
    parts.append(finish())
    return b"".join(parts)


def gzip(data: bytes, level: int, strategies: list[str], progress: Progress) -> bytes:
    """The smallest gzip of the strategies (first wins a tie); header: mtime 0, no name."""
    import zlib

    best: bytes | None = None
    for index, strategy in enumerate(strategies):
        # wbits 31: zlib writes the gzip wrapper itself, with mtime 0 and no file name.
        packer = zlib.compressobj(level, zlib.DEFLATED, 31, 8, _STRATEGIES[strategy])
        packed = feed(data, packer.compress, packer.flush, progress, index * len(data))
        if best is None or len(packed) < len(best):
            best = packed
    assert best is not None, "no gzip strategy"
    return best
