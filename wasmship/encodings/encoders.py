"""The content encodings wasmship writes, their exact settings, and the libraries behind them.

Every codec here releases the GIL while it compresses (measured by benchmarks/gil.py), so the
build runs them on threads. The libraries are imported only when a build needs them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from wasmship.distformat.names import is_compressed_type
from wasmship.encodings import dcz, streaming
from wasmship.encodings.zstd import HTTP_MAX_WINDOW_LOG, window_log, zstandard
from wasmship.errors import UsageError

BROTLI_MAX_WINDOW = 24  # the largest window of the brotli format (RFC 7932)
BROTLI_MIN_WINDOW = 10
ZOPFLI_ITERATIONS = 15  # zopfli's own default

# A variant is kept only when it saves at least this share of its file, in every encoding: a
# few bytes less are not worth a sibling file, a server rule and a Vary.
MIN_SAVING_PERCENT = 5
# The cheap look at an already-compressed file (PNG, JPEG, WOFF2, MP4, ...) before the real
# encoders: raw deflate at level 1 runs 50 to 100 times faster than brotli 11.
PROBE_LEVEL = 1


class Profile(StrEnum):
    """How hard to compress: `release` for what ships, `fast` for local iteration."""

    RELEASE = "release"
    FAST = "fast"


class GzipEncoder(StrEnum):
    """Which deflate encoder writes the gzip variant."""

    ZLIB = "zlib"
    ZOPFLI = "zopfli"


@dataclass(frozen=True)
class Settings:
    """Exactly what produces a variant's bytes; equal settings on equal input give equal bytes."""

    codec: str  # "brotli", "gzip" (zlib), "zopfli", "zstd"
    library: str  # the library and version that writes the bytes
    level: int  # quality, level or iterations, in the codec's own scale
    window: int = 0  # log2 of the window, 0 when the codec has no such setting
    mode: str = ""  # brotli's text/generic hint
    dictionary: str = ""  # SHA-256 of a compression dictionary (dcz), "" for none

    def key_text(self) -> str:
        """A canonical text of the settings, for cache keys."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Encoder:
    """One content encoding a build writes: its HTTP token, file suffix and codec choice."""

    encoding: str  # the Content-Encoding token, and the manifest's key: br, gzip, zstd
    codec: str
    level: int

    def settings_for(self, size: int, content_type: str) -> Settings:
        """The settings for one file: the window follows its size."""
        if self.codec == "brotli":
            text = content_type.startswith("text/") or "javascript" in content_type
            return Settings(
                codec="brotli",
                library=_library("brotli"),
                level=self.level,
                window=brotli_window(size),
                mode="text" if text else "generic",
            )
        if self.codec == "zstd":
            return Settings(
                codec="zstd", library=_library("zstd"), level=self.level, window=zstd_window(size)
            )
        if self.codec == "gzip":
            # zlib's default strategy loses to GNU gzip -9 on some text-heavy modules and
            # Z_FILTERED wins there, so release tries both and keeps the smaller.
            strategies = "default,filtered" if self.level >= 9 else "default"
            return Settings(
                codec="gzip", library=_library("gzip"), level=self.level, mode=strategies
            )
        return Settings(codec=self.codec, library=_library(self.codec), level=self.level)


def brotli_window(size: int) -> int:
    """The smallest window that covers the whole file, within the format's limits."""
    # A window of w bits reaches back (1 << w) - 16 bytes; the file needs size - 1.
    return max(BROTLI_MIN_WINDOW, min(BROTLI_MAX_WINDOW, (max(size, 1) + 14).bit_length()))


def zstd_window(size: int) -> int:
    """The smallest window covering the file, capped at what HTTP clients must decode."""
    return window_log(size, HTTP_MAX_WINDOW_LOG)


def encoders(
    profile: Profile = Profile.RELEASE,
    gzip: GzipEncoder = GzipEncoder.ZLIB,
    zstd: bool = False,
) -> tuple[Encoder, ...]:
    """The encoders a build writes; the profile picks the levels, so it is part of every key."""
    fast = profile is Profile.FAST
    chosen = [Encoder("br", "brotli", 5 if fast else 11)]
    if gzip is GzipEncoder.ZOPFLI and not fast:
        chosen.append(Encoder("gzip", "zopfli", ZOPFLI_ITERATIONS))
    else:
        chosen.append(Encoder("gzip", "gzip", 6 if fast else 9))
    if zstd:
        chosen.append(Encoder("zstd", "zstd", 3 if fast else 19))
    for encoder in chosen:
        _module(encoder.codec)  # a missing optional library is a usage error, before any work
    return tuple(chosen)


def saves_enough(original: int, compressed: int) -> bool:
    """Whether a COMPRESSED-byte variant of an ORIGINAL-byte file is worth keeping."""
    return (original - compressed) * 100 >= original * MIN_SAVING_PERCENT


def worth_compressing(data: bytes, content_type: str) -> bool:
    """Whether to run the encoders on DATA: always, unless its type is compressed already.

    Then only when a level-1 deflate probe already saves enough: brotli 11 on a large image
    costs seconds for a percent or two, while an uncompressed PDF or PNG still gets variants.
    """
    if not is_compressed_type(content_type):
        return True
    import zlib

    probe = zlib.compressobj(PROBE_LEVEL, zlib.DEFLATED, -15)  # raw deflate: no header to pay
    return saves_enough(len(data), len(probe.compress(data)) + len(probe.flush()))


# Measured on the benchmark programs (docs/performance.md): level 19 gives dcz deltas of 5-8 %
# of br in a fraction of brotli q11's time; 12 is several times faster and up to a quarter
# larger, which suits the fast profile.
DELTA_LEVELS = {Profile.RELEASE: 19, Profile.FAST: 12}


def delta_settings(profile: Profile, size: int, dictionary_sha256: str) -> Settings:
    """The settings of a dcz delta of a SIZE-byte file against one dictionary."""
    return Settings(
        codec="dcz",
        library=_library("zstd"),
        level=DELTA_LEVELS[profile],
        window=window_log(size),
        dictionary=dictionary_sha256,
    )


# Seconds per MB of a Go module, per (codec, level) that encoders() and DELTA_LEVELS pick, as
# measured on a 2-core machine: only their order matters, so the longest job starts first.
SECONDS_PER_MB = {
    ("brotli", 11): 1.5,
    ("brotli", 5): 0.03,
    ("zopfli", ZOPFLI_ITERATIONS): 2.8,
    ("gzip", 9): 0.3,  # both strategies
    ("gzip", 6): 0.04,
    ("zstd", 19): 0.3,
    ("zstd", 3): 0.004,
    ("dcz", 19): 0.25,
    ("dcz", 12): 0.04,
}


def estimated_seconds(settings: Settings, size: int) -> float:
    """About how long compressing SIZE bytes with SETTINGS takes (to order the work)."""
    return size / 1e6 * SECONDS_PER_MB.get((settings.codec, settings.level), 1.0)


def streamed_bytes(settings: Settings, size: int) -> int:
    """The input bytes `compress` reports reading for a SIZE-byte file: every pass's, or 0 for a
    codec it runs in one call (zopfli cannot stream; streamed zstd writes other bytes)."""
    if settings.codec == "brotli":
        return size
    if settings.codec == "gzip":
        return size * len(settings.mode.split(","))
    return 0


def compress(
    data: bytes,
    settings: Settings,
    dictionary: bytes | None = None,
    progress: streaming.Progress | None = None,
) -> bytes:
    """Compress DATA with exactly SETTINGS; deterministic for equal input and settings.

    brotli and gzip read DATA in chunks and tell PROGRESS how far they are; their bytes equal
    one-shot compression's (tests/test_encode_jobs.py checks it on real modules).
    """
    told = progress or streaming.ignore
    if settings.codec == "dcz":
        if dictionary is None:
            raise ValueError("a dcz delta needs its dictionary's bytes")
        return dcz.compress(data, dictionary, settings.level)
    if settings.dictionary or dictionary is not None:
        raise ValueError(f"{settings.codec} takes no dictionary")
    module = _module(settings.codec)
    if settings.codec == "brotli":
        mode = module.MODE_TEXT if settings.mode == "text" else module.MODE_GENERIC
        packer = module.Compressor(mode=mode, quality=settings.level, lgwin=settings.window)
        return streaming.feed(data, packer.process, packer.finish, told)
    if settings.codec == "gzip":
        return streaming.gzip(data, settings.level, settings.mode.split(","), told)
    if settings.codec == "zopfli":
        # zopfli's gzip header has mtime 0 and no name, like ours.
        return bytes(module.compress(data, numiterations=settings.level))
    if settings.codec == "zstd":
        params = module.ZstdCompressionParameters.from_level(
            settings.level, source_size=len(data), window_log=settings.window
        )
        return bytes(module.ZstdCompressor(compression_params=params).compress(data))
    raise ValueError(f"unknown codec {settings.codec!r}")


_EXTRAS = {"zopfli": "zopfli", "zstd": "zstd"}
_IMPORTS = {"brotli": "brotli", "gzip": "zlib", "zopfli": "zopfli.gzip", "zstd": "zstandard"}
_OPTIONS = {"zopfli": "--gzip zopfli", "zstd": "--zstd"}


def _module(codec: str) -> Any:
    """The library behind CODEC, imported on first use."""
    import importlib

    try:
        if codec == "zstd":
            return zstandard()
        module: ModuleType = importlib.import_module(_IMPORTS[codec])
    except ImportError:
        extra = _EXTRAS.get(codec)
        if extra is None:
            raise
        raise UsageError(
            f"{_OPTIONS[codec]} needs the {_IMPORTS[codec].split('.')[0]} package, "
            f"which is not installed; install it with: pip install 'wasmship[{extra}]'"
        ) from None
    return module


def _library(codec: str) -> str:
    """The name and version of the library that writes CODEC's bytes, for cache keys."""
    if codec == "brotli":
        return f"brotli {_module('brotli').__version__}"
    if codec == "gzip":
        import zlib

        return f"zlib {zlib.ZLIB_RUNTIME_VERSION}"
    if codec == "zopfli":
        import zopfli

        return f"zopfli {zopfli.__version__}"
    if codec == "zstd":
        module = _module("zstd")
        native = ".".join(str(part) for part in module.ZSTD_VERSION)
        return f"zstandard {module.__version__} libzstd {native}"
    raise ValueError(f"unknown codec {codec!r}")
