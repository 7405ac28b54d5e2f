"""Undoing a content coding (br, gzip, zstd): one decoder per coding, for verify and check."""

from __future__ import annotations

import gzip
from typing import Any

from wasmship.encodings import zstd

IDENTITY = "identity"


class DecodeError(Exception):
    """Bytes that cannot be decoded as their coding says (corrupt, or no decoder here)."""


class UnknownCoding(DecodeError):
    """A coding wasmship has no decoder for."""


class DecoderMissing(DecodeError):
    """A coding wasmship knows whose decoder is an optional package that is not installed."""


def _brotli(body: bytes, max_size: int | None) -> bytes:
    import brotli

    result: bytes = brotli.decompress(body)
    return result


def _gzip(body: bytes, max_size: int | None) -> bytes:
    return gzip.decompress(body)


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
