"""Undoing a content coding (br, gzip, zstd): one decoder per coding, for verify and check."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable
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


def _zstandard() -> Any:
    """The zstandard module; DecoderMissing when it is not installed."""
    try:
        return zstd.zstandard()
    except zstd.ZstandardMissing:
        raise DecoderMissing(
            "cannot decode zstd here: install the zstandard package (pip install zstandard)"
        ) from None


def _zstd(body: bytes, max_size: int | None) -> bytes:
    zstandard = _zstandard()
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


PIECE = 256 * 1024  # the most decoded bytes held at once while decoding a stream


class Decoding:
    """A body with CODING undone as it arrives, chunk by chunk: the decoded bytes are hashed
    and counted, never held (at most PIECE of them at once), and refused past MAX_SIZE."""

    def __init__(self, coding: str, max_size: int) -> None:
        self.coding = coding.strip().lower()
        self.max_size = max_size
        self.size = 0
        self.error: str | None = None
        self._digest = hashlib.sha256()
        try:
            self._feed = self._decoder()
        except DecodeError as exc:  # no decoder for this coding: the body cannot be checked
            self.error = str(exc)

    def _decoder(self) -> Callable[[bytes], None]:
        coding = self.coding
        if coding in ("", IDENTITY):
            return self._out
        if coding in ("gzip", "x-gzip"):
            gz = zlib.decompressobj(wbits=31)

            def gunzip(data: bytes) -> None:
                while data and not gz.eof:  # bytes after the member are not decoded
                    self._out(gz.decompress(data, PIECE))
                    data = gz.unconsumed_tail

            self._done: Callable[[], bool] = lambda: gz.eof
            return gunzip
        if coding == "br":
            import brotli

            br = brotli.Decompressor()

            def unbrotli(data: bytes) -> None:
                out = br.process(data, output_buffer_limit=PIECE)
                while out:  # the limit reached: what is left comes with empty input
                    self._out(out)
                    out = br.process(b"", output_buffer_limit=PIECE)

            self._done = br.is_finished
            return unbrotli
        if coding == "zstd":
            writer = _zstandard().ZstdDecompressor().stream_writer(self, write_size=PIECE)
            return writer.write  # type: ignore[no-any-return]
        raise UnknownCoding(f"no decoder for Content-Encoding {coding!r}")

    def write(self, data: bytes) -> int:
        """Take decoded DATA (zstandard's stream_writer writes here)."""
        self._out(data)
        return len(data)

    def _out(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_size:
            raise _too_large(self.max_size)
        self._digest.update(data)

    def feed(self, chunk: bytes) -> None:
        """Decode the next CHUNK of the body; a failure is kept in `error`, decoding stops."""
        if self.error is not None:
            return
        try:
            self._feed(chunk)
        except DecodeError as exc:
            self.error = str(exc)
        except Exception as exc:  # each decoder has its own error type; all mean "corrupt"
            self.error = f"not valid {self.coding}: {exc}"

    def finish(self) -> None:
        """The body has ended: a stream that has not is truncated."""
        done = getattr(self, "_done", None)
        if self.error is None and done is not None and not done():
            self.error = f"the {self.coding} stream ends early (truncated)"

    def sha256(self) -> str | None:
        """The decoded body's SHA-256, or None when it could not be decoded (see `error`)."""
        return self._digest.hexdigest() if self.error is None else None
