"""The `dcz` content encoding (RFC 9842): zstd with an earlier version of a file as dictionary.

A dcz body is a zstd skippable frame holding the dictionary's SHA-256 (the 8 bytes
`5e 2a 4d 18 20 00 00 00`, then the 32-byte hash), then one zstd frame compressed with the
dictionary's raw bytes. Written once here, used by the build (to make deltas), verify and
check (to decode them) and serve (to name them).
"""

from __future__ import annotations

import hashlib

from wasmship.distformat.digests import available_dictionary, parse_available_dictionary
from wasmship.distformat.names import delta_path
from wasmship.encodings import zstd

__all__ = [
    "DczError",
    "available_dictionary",
    "compress",
    "decompress",
    "delta_path",
    "dictionary_hash",
    "fits",
    "parse_available_dictionary",
]

MAGIC = bytes.fromhex("5e2a4d1820000000")  # skippable frame 0x184D2A5E, 32 bytes of payload
HEADER_SIZE = len(MAGIC) + 32
# RFC 9842 (and Chromium): a dcz window may be up to 8 MB or 1.25 times the
# dictionary, whichever is larger, and never more than 128 MB.
MIN_WINDOW_LIMIT = 8 * 1024 * 1024
MAX_WINDOW_LIMIT = 128 * 1024 * 1024


def window_limit(dictionary_size: int) -> int:
    """The largest window a client must accept for a delta from a dictionary of this size."""
    return min(MAX_WINDOW_LIMIT, max(MIN_WINDOW_LIMIT, dictionary_size + dictionary_size // 4))


def fits(content_size: int, dictionary_size: int) -> bool:
    """Whether a delta of CONTENT_SIZE bytes can reach its dictionary within the window limit.

    zstd reaches into a dictionary only while the bytes decoded so far fit in the window, so
    the window must cover the whole new file; the frame then records exactly its size.
    """
    return 0 < content_size <= window_limit(dictionary_size)


def header(dictionary: bytes) -> bytes:
    """The 40 bytes a dcz body starts with for DICTIONARY."""
    return MAGIC + hashlib.sha256(dictionary).digest()


def compress(data: bytes, dictionary: bytes, level: int) -> bytes:
    """DATA as a dcz body against DICTIONARY; deterministic for equal inputs and level.

    The caller checks `fits` first: the frame's window is the content size.
    """
    zstandard = zstd.zstandard()
    params = zstandard.ZstdCompressionParameters.from_level(
        level,
        source_size=len(data),
        window_log=zstd.window_log(len(data)),  # `fits` checked the dcz limit
        # Pinned, so the bytes never depend on the library's defaults.
        write_content_size=1,
        write_checksum=1,
        write_dict_id=0,
        threads=0,
    )
    prepared = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    frame = zstandard.ZstdCompressor(compression_params=params, dict_data=prepared).compress(data)
    return header(dictionary) + bytes(frame)


class DczError(ValueError):
    """A body that is not a valid dcz delta for the dictionary at hand."""


def dictionary_hash(body: bytes) -> str:
    """The hex SHA-256 of the dictionary a dcz BODY needs; DczError if it has no dcz header."""
    if len(body) < HEADER_SIZE or body[: len(MAGIC)] != MAGIC:
        raise DczError(f"no dcz header: starts with {body[:8].hex(' ')}, expected {MAGIC.hex(' ')}")
    return body[len(MAGIC) : HEADER_SIZE].hex()


def decompress(body: bytes, dictionary: bytes, max_size: int) -> bytes:
    """Undo `compress`: checks the header names DICTIONARY, then decodes at most MAX_SIZE bytes."""
    wanted = dictionary_hash(body)
    if wanted != hashlib.sha256(dictionary).hexdigest():
        raise DczError(f"made for dictionary {wanted[:16]}…, not the one given")
    zstandard = zstd.zstandard()
    prepared = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    decoder = zstandard.ZstdDecompressor(dict_data=prepared, max_window_size=MAX_WINDOW_LIMIT)
    try:
        return bytes(decoder.decompress(body[HEADER_SIZE:], max_output_size=max_size))
    except zstandard.ZstdError as exc:
        raise DczError(f"the zstd frame does not decode: {exc}") from exc
