"""The compression cache on its own: keys, verified reads, atomic writes, LRU eviction."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from wasmship.builder.cache import (
    MAGIC,
    CompressionCache,
    cache_key,
)
from wasmship.cachedir import cache_root as default_cache_dir
from wasmship.encodings.encoders import GzipEncoder, Profile, Settings, encoders

INPUT = "ab" * 32
BROTLI = Settings(codec="brotli", library="brotli 1.2.1", level=11, window=22, mode="generic")


def entries(cache: CompressionCache) -> list[Path]:
    return sorted(p for p in cache.entries.rglob("*") if p.is_file())


def test_key_changes_with_every_setting_and_the_input() -> None:
    base = cache_key(INPUT, BROTLI)
    assert cache_key(INPUT, BROTLI) == base
    variations = [
        Settings("brotli", "brotli 1.2.1", 5, 22, "generic"),  # quality
        Settings("brotli", "brotli 1.2.1", 11, 24, "generic"),  # window
        Settings("brotli", "brotli 1.2.1", 11, 22, "text"),  # mode
        Settings("brotli", "brotli 1.1.0", 11, 22, "generic"),  # library version
        Settings("zstd", "brotli 1.2.1", 11, 22, "generic"),  # codec
        Settings("brotli", "brotli 1.2.1", 11, 22, "generic", dictionary="cd" * 32),
    ]
    keys = {cache_key(INPUT, s) for s in variations} | {cache_key("ef" * 32, BROTLI)}
    assert base not in keys
    assert len(keys) == len(variations) + 1


def test_the_profile_reaches_the_key_through_the_settings() -> None:
    def keys(profile: Profile) -> set[str]:
        return {
            cache_key(INPUT, e.settings_for(3_000_000, "application/wasm"))
            for e in encoders(profile, GzipEncoder.ZLIB, zstd=True)
        }

    assert keys(Profile.RELEASE).isdisjoint(keys(Profile.FAST))


def test_put_then_get_round_trips_and_counts(tmp_path: Path) -> None:
    cache = CompressionCache(tmp_path / "c")
    key = cache_key(INPUT, BROTLI)
    assert cache.get(key) is None
    cache.put(key, b"payload")
    assert cache.get(key) == b"payload"
    assert (cache.stats.hits, cache.stats.misses, cache.stats.written) == (1, 1, 1)
    # Only the entry is left behind: no temp files.
    assert [p.name for p in entries(cache)] == [key]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b[: len(MAGIC) + 5], id="truncated-in-digest"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b[:-3] + bytes([b[-3] ^ 0x01]) + b[-2:], id="flipped-payload"),
        pytest.param(lambda b: bytes([b[0] ^ 0x20]) + b[1:], id="flipped-magic"),
        pytest.param(
            lambda b: b[: len(MAGIC)] + bytes([b[len(MAGIC)] ^ 0xFF]) + b[len(MAGIC) + 1 :],
            id="flipped-digest",
        ),
    ],
)
def test_a_damaged_entry_is_a_miss_and_put_repairs_it(tmp_path: Path, damage: object) -> None:
    cache = CompressionCache(tmp_path)
    key = cache_key(INPUT, BROTLI)
    cache.put(key, b"the compressed bytes")
    path = cache.path_for(key)
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get(key) is None
    assert cache.stats.repaired == 1
    cache.put(key, b"the compressed bytes")
    assert cache.get(key) == b"the compressed bytes"


def test_a_hit_marks_the_entry_recently_used(tmp_path: Path) -> None:
    cache = CompressionCache(tmp_path)
    key = cache_key(INPUT, BROTLI)
    cache.put(key, b"x")
    os.utime(cache.path_for(key), (1_000_000, 1_000_000))
    assert cache.get(key) == b"x"
    assert cache.path_for(key).stat().st_mtime > 1_000_000


def test_eviction_drops_least_recently_used_first_and_keeps_the_bound(tmp_path: Path) -> None:
    cache = CompressionCache(tmp_path, max_size=10_000)
    entry_size = len(MAGIC) + 32 + 3000
    keys = [cache_key(f"{i:064x}", BROTLI) for i in range(5)]
    for age, key in enumerate(keys):
        cache.put(key, bytes([age]) * 3000)
        # Oldest first: keys[0] was used longest ago.
        os.utime(cache.path_for(key), (2_000_000 + age, 2_000_000 + age))
    # keys[0] is read now, so it becomes the most recently used.
    assert cache.get(keys[0]) is not None
    assert cache.size() == 5 * entry_size
    assert cache.evict() == 2
    assert cache.size() <= 10_000
    kept = {p.name for p in entries(cache)}
    assert kept == {keys[0], keys[3], keys[4]}
    assert cache.stats.evicted == 2


def test_eviction_clears_stale_temp_files_only(tmp_path: Path) -> None:
    cache = CompressionCache(tmp_path)
    key = cache_key(INPUT, BROTLI)
    cache.put(key, b"x")
    stale = cache.path_for(key).parent / ".tmp-dead"
    fresh = cache.path_for(key).parent / ".tmp-writing"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (1_000_000, 1_000_000))
    cache.evict()
    assert not stale.exists()
    assert fresh.exists()
    assert cache.get(key) == b"x"


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path: Path) -> None:
    payloads = [bytes([i]) * 200_000 for i in range(4)]
    key = cache_key(INPUT, BROTLI)
    seen: list[bytes | None] = []
    errors: list[BaseException] = []

    def writer(payload: bytes) -> None:
        cache = CompressionCache(tmp_path)  # each thread its own handle, like separate builds
        for _ in range(20):
            cache.put(key, payload)

    def reader() -> None:
        cache = CompressionCache(tmp_path)
        for _ in range(60):
            try:
                seen.append(cache.get(key))
            except BaseException as exc:  # pragma: no cover - the assertion reports it
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(value is None or value in payloads for value in seen)
    assert CompressionCache(tmp_path).get(key) in payloads
    assert [p.name for p in entries(CompressionCache(tmp_path))] == [key]


def test_an_unwritable_cache_costs_only_a_miss(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a folder")
    cache = CompressionCache(blocker)
    key = cache_key(INPUT, BROTLI)
    cache.put(key, b"x")
    assert cache.get(key) is None
    assert cache.stats.errors == 1


def test_default_location_follows_the_environment(tmp_path: Path) -> None:
    assert default_cache_dir({"WASMSHIP_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert default_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/wasmship")
    assert default_cache_dir({"HOME": "/h"}) == Path("/h/.cache/wasmship")
