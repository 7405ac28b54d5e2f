"""The cache folder's layout: one root rule, named buckets, one LRU bound across them, clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Go, base_env
from wasmship import cachedir
from wasmship.builder.cache import CompressionCache
from wasmship.cachedir import (
    BUCKETS,
    COMPRESSION,
    DEV,
    OUTPUTS,
    RUNNERS,
    SIZE,
    WAZERO_COMPILED,
    bound,
    cache_root,
    empty,
    entries,
    folder_bytes,
    hold,
)
from wasmship.cleanup import clean_cache

KIB = 1024
LONG_AGO = time.time() - 86_400


def put(path: Path, size: int, used: float) -> Path:
    """A file of SIZE bytes at PATH, last used at USED."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (used, used))
    return path


def folder_entry(path: Path, size: int, used: float) -> Path:
    """A folder entry holding one file of SIZE bytes, last used at USED."""
    put(path / "inner" / "file", size, used)
    for folder in (path / "inner", path):
        os.utime(folder, (used, used))
    return path


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A cache with one 10 KiB entry in every bucket, the oldest first in BUCKETS order."""
    root = tmp_path / "cache"
    put(COMPRESSION.path(root) / "ab" / ("ab" + "0" * 62), 10 * KIB, LONG_AGO)
    folder_entry(OUTPUTS.path(root) / "d1", 10 * KIB, LONG_AGO + 1)
    folder_entry(DEV.path(root) / "s1", 10 * KIB, LONG_AGO + 2)
    put(SIZE.path(root) / ("c" * 64 + ".json"), 10 * KIB, LONG_AGO + 3)
    folder_entry(RUNNERS.path(root) / "r1", 10 * KIB, LONG_AGO + 4)
    folder_entry(WAZERO_COMPILED.path(root) / "r1", 10 * KIB, LONG_AGO + 5)
    return root


def names(dropped: list[cachedir.Entry]) -> list[str]:
    return [entry.bucket.name for entry in dropped]


def test_the_root_rule_takes_the_flag_then_the_variable_then_xdg_then_home() -> None:
    assert cache_root({"WASMSHIP_CACHE_DIR": "/c"}, Path("/flag")) == Path("/flag")
    assert cache_root({"WASMSHIP_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert cache_root({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/wasmship")
    assert cache_root({"HOME": "/h"}) == Path("/h/.cache/wasmship")


def test_every_bucket_has_its_own_folder() -> None:
    assert [b.name for b in BUCKETS] == [
        "compression",
        "out",
        "dev",
        "size",
        "runners",
        "wazero-compiled",
        "tls",  # serve and dev --https (issue 26)
    ]
    assert len({b.folder for b in BUCKETS}) == len(BUCKETS)


def test_entries_have_their_files_bytes_and_newest_use(filled: Path) -> None:
    (found,) = entries(filled, OUTPUTS)
    assert found.path == OUTPUTS.path(filled) / "d1"
    assert found.size == 10 * KIB
    assert found.last_use == pytest.approx(LONG_AGO + 1)
    put(found.path / "inner" / "newer", 5, LONG_AGO + 100)  # a write inside is a use
    (again,) = entries(filled, OUTPUTS)
    assert again.size == 10 * KIB + 5 and again.last_use >= LONG_AGO + 100
    assert sum(len(entries(filled, b)) for b in BUCKETS) == 6
    assert folder_bytes(filled) == 60 * KIB + 5


def test_the_bound_drops_the_least_recently_used_across_buckets(filled: Path) -> None:
    dropped = bound(filled, 35 * KIB)
    assert names(dropped) == ["compression", "out", "dev"]
    assert folder_bytes(filled) == 30 * KIB
    assert bound(filled, 35 * KIB) == []  # within the bound: nothing more goes


def test_a_touched_entry_goes_last(filled: Path) -> None:
    cachedir.touch(COMPRESSION.path(filled) / "ab" / ("ab" + "0" * 62))
    assert names(bound(filled, 10 * KIB)) == ["out", "dev", "size", "runners", "wazero-compiled"]
    assert len(entries(filled, COMPRESSION)) == 1


def test_what_the_running_command_uses_is_never_evicted(filled: Path) -> None:
    started = time.time()
    out = OUTPUTS.path(filled) / "d1"
    folder_entry(RUNNERS.path(filled) / "r2", 10 * KIB, started + 1)  # used by this command
    dropped = bound(filled, 0, since=started, keep=[out])
    assert names(dropped) == ["compression", "dev", "size", "runners", "wazero-compiled"]
    assert [e.path.name for e in entries(filled, RUNNERS)] == ["r2"]
    assert out.is_dir()


def test_a_held_entry_stays_and_goes_once_released(filled: Path) -> None:
    session = DEV.path(filled) / "s1"
    with hold(session):
        os.utime(session, (LONG_AGO, LONG_AGO))  # old, yet held by a live session
        assert "dev" not in names(bound(filled, 0))
        assert session.is_dir()
        gone, held = empty(filled, DEV)
        assert gone == [] and [e.path for e in held] == [session]
    assert names(bound(filled, 0)) == ["dev"]
    assert not session.exists()


def test_a_hold_makes_the_entry_again_when_it_was_evicted(tmp_path: Path) -> None:
    entry = RUNNERS.path(tmp_path) / "r1"
    with hold(entry):
        assert (entry / cachedir.IN_USE).is_file()
    shutil.rmtree(entry)
    with hold(entry):
        assert entry.is_dir()


def test_fresh_temp_files_are_no_entries_and_stale_ones_go(tmp_path: Path) -> None:
    fresh = put(SIZE.path(tmp_path) / ".tmp-new.json", 10, time.time())
    stale = put(SIZE.path(tmp_path) / ".tmp-old.json", 10, LONG_AGO)
    assert entries(tmp_path, SIZE) == []
    assert fresh.exists() and not stale.exists()


def test_the_compression_cache_lives_in_its_bucket(tmp_path: Path) -> None:
    cache = CompressionCache(tmp_path)
    cache.put("ab" + "1" * 62, b"payload")
    assert cache.entries == COMPRESSION.path(tmp_path)
    assert [e.path for e in entries(tmp_path, COMPRESSION)] == [cache.path_for("ab" + "1" * 62)]


def test_clean_cache_dry_run_says_what_each_bucket_holds_and_removes_nothing(
    filled: Path,
) -> None:
    result = clean_cache(filled, dry_run=True).as_dict()
    assert result["entries"] == 6 and result["bytes"] == 60 * KIB
    assert result["removed"] == 6 and result["removed_bytes"] == 60 * KIB
    buckets = {b["name"]: b for b in result["buckets"]}  # type: ignore[attr-defined]
    assert buckets["out"]["entries"] == 1 and buckets["out"]["bytes"] == 10 * KIB
    assert folder_bytes(filled) == 60 * KIB


def test_clean_cache_empties_every_bucket(filled: Path) -> None:
    result = clean_cache(filled)
    assert sum(b.removed for b in result.buckets) == 6
    assert list(filled.iterdir()) == []


def test_clean_cache_refuses_a_file_as_the_cache_folder(tmp_path: Path) -> None:
    from wasmship.errors import UsageError

    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        clean_cache(tmp_path / "file")


def wasmship(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_clean_cache_cli_reports_and_empties(filled: Path, tmp_path: Path) -> None:
    env = base_env(WASMSHIP_CACHE_DIR=str(filled))
    dry = wasmship("clean", "--cache", "--dry-run", "--json", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    document = json.loads(dry.stdout)
    assert document["dry_run"] is True and document["entries"] == 6
    assert folder_bytes(filled) == 60 * KIB
    text = wasmship("clean", "--cache", "--dry-run", cwd=tmp_path, env=env)
    assert "would remove 6 entries, 60.0 KiB" in text.stdout
    assert "  out " in text.stdout
    wet = wasmship("clean", "--cache", cwd=tmp_path, env=env)
    assert wet.returncode == 0, wet.stderr
    assert "removed 6 entries" in wet.stdout
    assert list(filled.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("clean", "--cache", "dist"), "takes no DIST"),
        (("clean", "--dry-run"), "--dry-run goes with --cache"),
    ],
)
def test_clean_cache_usage_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    proc = wasmship(*args, cwd=tmp_path, env=base_env(WASMSHIP_CACHE_DIR=str(tmp_path / "c")))
    assert proc.returncode == 2
    assert message in proc.stderr


def test_three_builds_stay_within_the_bound_and_clean_empties_the_cache(
    go: Go, tmp_path: Path
) -> None:
    """The issue's line: three dists built with --cache-max-size 12MiB leave at most 12 MiB in
    the cache folder (heavy alone takes about 11 MB, hello and dom about 4 MB each), and
    `wasmship clean --cache` leaves it empty."""
    cache = tmp_path / "cache"
    env = base_env(WASMSHIP_GO=go.binary, WASMSHIP_CACHE_DIR=str(cache))
    for name in ("heavy", "hello", "dom"):
        project = tmp_path / name
        shutil.copytree(FIXTURES / name, project)
        proc = wasmship(
            "build", "-q", "--profile", "fast", "--cache-max-size", "12MiB", cwd=project, env=env
        )
        assert proc.returncode == 0, proc.stderr
        assert folder_bytes(cache) <= 12 << 20
    assert len(entries(cache, OUTPUTS)) < 3  # heavy's outputs, the least recently used, went
    proc = wasmship("clean", "--cache", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert folder_bytes(cache) == 0
    assert [p for p in cache.rglob("*")] == []
