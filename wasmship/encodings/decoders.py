"""Undoing a content coding (br, gzip, zstd): one decoder per coding, for verify and check."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from wasmship.encodings import zstd

IDENTITY = "identity"


class DecodeError(Exception):
    """Bytes that cannot be decoded as their coding says (corrupt, or no decoder here)."""


class UnknownCoding(DecodeError):
    """A coding wasmship has no decoder for."""


class DecoderMissing(DecodeError):
    """A coding wasmship knows whose decoder is an optional package that is not installed."""


class TooLarge(DecodeError):
    """Bytes that decode to more than they may (a decompression bomb, or another file)."""


def _too_large(max_size: int) -> TooLarge:
    return TooLarge(f"decodes to more than the {max_size} bytes expected; stopped there")


def _brotli(body: bytes, max_size: int | None) -> bytes:
    import brotli

    if max_size is None:
        result: bytes = brotli.decompress(body)
        return result
    decoder = brotli.Decompressor()
    # One byte over the limit is enough to know: the output buffer never grows past it.
    out: bytes = decoder.process(body, output_buffer_limit=max_size + 1)
    if len(out) > max_size:
        raise _too_large(max_size)
    if not decoder.is_finished():
        raise DecodeError("the brotli stream ends early (truncated)")
    return out


def _gzip(body: bytes, max_size: int | None) -> bytes:
    if max_size is None:
        return gzip.decompress(body)
    decoder = zlib.decompressobj(wbits=31)  # a gzip member; its CRC and size are checked at eof
    out = decoder.decompress(body, max_size + 1)
    if len(out) > max_size:
        raise _too_large(max_size)
    if not decoder.eof:
        raise DecodeError("the gzip stream ends early (truncated)")
    return out


def _zstd(body: bytes, max_size: int | None) -> bytes:
    try:
        zstandard: Any = zstd.zstandard()
    except zstd.ZstandardMissing:
        raise DecoderMissing(
            "cannot decode zstd here: install the zstandard package (pip install zstandard)"
        ) from None
    if max_size is None:
        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
    # Frames written in streaming mode carry no size; the expected one bounds the output.
    return bytes(zstandard.ZstdDecompressor().decompress(body, max_output_size=max_size + 1))


_DECODERS = {"br": _brotli, "gzip": _gzip, "x-gzip": _gzip, "zstd": _zstd}


def decode(body: bytes, coding: str, *, max_size: int | None = None) -> bytes:
    """BODY with CODING undone (MAX_SIZE: the decoded size expected at most, if known)."""
    coding = coding.strip().lower()
    if coding in ("", IDENTITY):
        return body
    decoder = _DECODERS.get(coding)
    if decoder is None:
        raise UnknownCoding(f"no decoder for Content-Encoding {coding!r}")
    try:
        return decoder(body, max_size)
    except DecodeError:
        raise
    except Exception as exc:  # each decoder has its own error type; all mean "corrupt"
        raise DecodeError(f"not valid {coding}: {exc}") from exc
