"""The compression cache: a variant is computed once per input and settings, across builds.

An entry lives at `<cache>/v1/<key[:2]>/<key>` (the folder is cachedir.COMPRESSION's), where
the key is the SHA-256 of the input's SHA-256 and the exact codec settings. The file holds a
magic, the SHA-256 of the payload and the payload; a read verifies the hash, so a corrupt or
truncated entry is a miss, never a bad variant. Entries are written to a temporary file in the
same folder and renamed into place, so concurrent builds never see half an entry. A hit
touches the entry; eviction drops the least recently used entries until the cache fits its
bound (then cachedir.bound bounds the whole cache folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from wasmship import cachedir
from wasmship.cachedir import COMPRESSION, DEFAULT_MAX_SIZE
from wasmship.encodings.encoders import Settings

FORMAT = "v1"  # in every key: a new entry format takes a new number
MAGIC = b"wasmship-cache-1\n"
_DIGEST = 32


def cache_key(input_sha256: str, settings: Settings) -> str:
    """The entry's name: the SHA-256 of the input's hash and the exact codec settings."""
    text = f"{FORMAT}\n{input_sha256}\n{settings.key_text()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """What one build did with the cache."""

    hits: int = 0
    misses: int = 0
    repaired: int = 0  # corrupt or truncated entries that were ignored and rewritten
    written: int = 0
    evicted: int = 0
    errors: int = 0  # entries that could not be written (full disk, read-only folder)


@dataclass
class CompressionCache:
    """A folder of compressed variants keyed by input and settings, bounded in size."""

    root: Path
    max_size: int = DEFAULT_MAX_SIZE
    stats: CacheStats = field(default_factory=CacheStats)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def entries(self) -> Path:
        """The folder of this cache format's entries."""
        return COMPRESSION.path(self.root)

    def path_for(self, key: str) -> Path:
        """Where the entry for KEY lives."""
        return self.entries / key[:2] / key

    def get(self, key: str) -> bytes | None:
        """The cached payload for KEY, or None when absent, corrupt or truncated."""
        path = self.path_for(key)
        try:
            blob = path.read_bytes()
        except OSError:
            self._count(misses=1)
            return None
        payload = blob[len(MAGIC) + _DIGEST :]
        head, digest = blob[: len(MAGIC)], blob[len(MAGIC) : len(MAGIC) + _DIGEST]
        if head != MAGIC or hashlib.sha256(payload).digest() != digest:
            self._count(misses=1, repaired=1)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a hit makes the entry the most recently used
        self._count(hits=1)
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store PAYLOAD under KEY atomically; a failure to write only costs a future miss."""
        path = self.path_for(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=cachedir.TEMP_PREFIX, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(MAGIC + hashlib.sha256(payload).digest() + payload)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError:
            self._count(errors=1)
            return
        self._count(written=1)

    def size(self) -> int:
        """The bytes the cache's entries take."""
        return sum(size for _, size, _ in self._scan())

    def evict(self) -> int:
        """Drop least recently used entries until the cache fits its bound; return how many."""
        entries = self._scan()
        total = sum(size for _, size, _ in entries)
        dropped = 0
        for path, size, _ in sorted(entries, key=lambda entry: entry[2]):
            if total <= self.max_size:
                break
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # another build evicted it first
            except OSError:
                continue
            total -= size
            dropped += 1
        self._count(evicted=dropped)
        return dropped

    def _scan(self) -> list[tuple[Path, int, float]]:
        """Every entry with its size and last use; stale temp files are removed on the way."""
        return [(e.path, e.size, e.last_use) for e in cachedir.entries(self.root, COMPRESSION)]

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)
