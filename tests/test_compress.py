"""The compress step: cached, parallel, deterministic, with the optional zopfli and zstd codecs."""

from __future__ import annotations

import gzip
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import pytest
import zstandard

from tests.conftest import FIXTURES, Go, base_env, manifest_of, need, snapshot
from wasmship.builder.cache import CompressionCache
from wasmship.encodings.encoders import (
    BROTLI_MAX_WINDOW,
    MIN_SAVING_PERCENT,
    GzipEncoder,
    Profile,
    brotli_window,
    encoders,
    saves_enough,
    worth_compressing,
    zstd_window,
)
from wasmship.errors import UsageError

ZOPFLI_AND_ZSTD = ("--gzip", "zopfli", "--zstd")


@dataclass(frozen=True)
class Built:
    """A finished build: its dist, its human output and the cache it used."""

    dist: Path
    stdout: str
    cache: Path


def build(
    go: Go, source: Path, out: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The real profile unless a test says --profile: this file is about compression.
    full_env = base_env(WASMSHIP_GO=go.binary, COLUMNS="200", WASMSHIP_PROFILE="release")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "-o", out, *args],
        cwd=source,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def built(go: Go, source: Path, out: str, cache: Path, *args: str) -> Built:
    proc = build(go, source, out, "--cache-dir", str(cache), *args)
    assert proc.returncode == 0, proc.stderr
    return Built(source / out, proc.stdout, cache)


def compress_note(stdout: str) -> str:
    """The compress step's note, whitespace normalised."""
    for line in stdout.splitlines():
        if re.search(r"\bcompress\b", line):
            return " ".join(line.split())
    raise AssertionError(f"no compress line in:\n{stdout}")


def from_cache(stdout: str) -> tuple[int, int]:
    match = re.search(r"(\d+) of (\d+) from cache", compress_note(stdout))
    assert match, compress_note(stdout)
    return int(match.group(1)), int(match.group(2))


def entries(cache: Path) -> Iterator[Path]:
    """What is in the compression cache's entries (not go's outputs beside them)."""
    return CompressionCache(cache).entries.rglob("*")


def cache_entries(cache: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in entries(cache) if p.is_file()}


def decoded(dist: Path) -> dict[tuple[str, str], tuple[bytes, bytes]]:
    """(file, encoding) -> (original bytes, decoded variant) for every variant in the manifest."""
    decoders = {
        "br": brotli.decompress,
        "gzip": gzip.decompress,
        "zstd": lambda b: zstandard.ZstdDecompressor().decompress(b),
    }
    result = {}
    for target in manifest_of(dist)["targets"]:  # type: ignore[attr-defined]
        for name, entry in target["files"].items():
            original = (dist / entry["path"]).read_bytes()
            for encoding, variant in entry["encodings"].items():
                data = (dist / variant["path"]).read_bytes()
                assert len(data) == variant["size"]
                result[(name, encoding)] = (original, decoders[encoding](data))
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compress") / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    return root


@pytest.fixture(scope="module")
def cold(go: Go, source: Path) -> Built:
    """A release build with zopfli and zstd into an empty cache."""
    cache = source.parent / "cache"
    return built(go, source, "cold", cache, *ZOPFLI_AND_ZSTD)


@pytest.fixture(scope="module")
def warm(go: Go, cold: Built) -> Built:
    """The same build again into another dist, after ageing every cache entry."""
    for path in entries(cold.cache):
        if path.is_file():
            os.utime(path, (1_000_000, 1_000_000))
    return built(go, cold.dist.parent, "warm", cold.cache, *ZOPFLI_AND_ZSTD)


# -- pure settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "window"),
    [(0, 10), (1000, 10), (1009, 10), (1010, 11), (2**22 - 15, 22), (2**22, 23), (10**9, 24)],
)
def test_brotli_window_covers_the_file(size: int, window: int) -> None:
    assert brotli_window(size) == window
    assert window == BROTLI_MAX_WINDOW or (1 << window) - 16 >= size - 1


def test_zstd_window_never_exceeds_what_http_clients_decode() -> None:
    assert zstd_window(1000) == 10
    assert zstd_window(3_000_000) == 22
    assert zstd_window(500_000_000) == 23


def test_fast_profile_uses_cheap_settings_and_never_zopfli() -> None:
    fast = {e.encoding: e for e in encoders(Profile.FAST, GzipEncoder.ZOPFLI, zstd=True)}
    release = {e.encoding: e for e in encoders(Profile.RELEASE, GzipEncoder.ZOPFLI, zstd=True)}
    assert (fast["br"].level, fast["gzip"].codec, fast["gzip"].level) == (5, "gzip", 6)
    assert (release["br"].level, release["gzip"].codec) == (11, "zopfli")
    assert fast["zstd"].level < release["zstd"].level


def test_a_variant_must_save_five_percent_of_its_file() -> None:
    assert MIN_SAVING_PERCENT == 5
    assert saves_enough(1000, 950) and not saves_enough(1000, 951)
    assert saves_enough(20, 19) and not saves_enough(19, 19)
    assert not saves_enough(0, 1)


def test_compressed_types_are_tried_only_when_a_probe_saves_enough() -> None:
    noise = random.Random(7).randbytes(20_000)
    text = b"a page of text, the same line again and again\n" * 400
    assert not worth_compressing(noise, "image/png")
    assert worth_compressing(text, "application/pdf")  # an uncompressed PDF still compresses
    assert worth_compressing(noise, "audio/wav")  # not a compressed type: the encoders decide
    assert worth_compressing(noise, "text/plain; charset=utf-8")


# -- real builds --------------------------------------------------------------------------------


def test_cold_build_compresses_everything_and_fills_the_cache(cold: Built) -> None:
    hits, total = from_cache(cold.stdout)
    assert (hits, total) == (0, 18)  # 6 files x br, gzip, zstd
    assert len(cache_entries(cold.cache)) == 18


def test_every_variant_decodes_to_its_file(cold: Built) -> None:
    variants = decoded(cold.dist)
    assert {enc for _, enc in variants} == {"br", "gzip", "zstd"}
    for key, (original, data) in variants.items():
        assert data == original, key


def test_manifest_lists_zstd_like_the_other_encodings(cold: Built) -> None:
    entry = manifest_of(cold.dist)["targets"][0]["files"]["main.wasm"]  # type: ignore[index]
    zst = entry["encodings"]["zstd"]
    assert set(zst) == {"path", "size", "sha256"}
    assert zst["path"] == entry["path"] + ".zst"


def test_zopfli_gzip_is_no_larger_than_gzip_9(cold: Built) -> None:
    gzip_tool = need("gzip")
    for entry in manifest_of(cold.dist)["targets"][0]["files"].values():  # type: ignore[index]
        plain = subprocess.run(
            [gzip_tool, "-9", "-n", "-c", str(cold.dist / entry["path"])],
            capture_output=True,
            check=True,
        ).stdout
        ours = (cold.dist / entry["encodings"]["gzip"]["path"]).read_bytes()
        assert len(ours) <= len(plain), entry["path"]
        assert ours[4:8] == b"\0\0\0\0" and ours[3] == 0  # mtime 0, no name: deterministic


def test_second_build_takes_every_variant_from_the_cache(cold: Built, warm: Built) -> None:
    assert from_cache(warm.stdout) == (18, 18)
    assert snapshot(warm.dist) == snapshot(cold.dist)
    # Nothing was rewritten, and every entry used was marked recently used.
    after = list(entries(cold.cache))
    assert {p.name: p.read_bytes() for p in after if p.is_file()} == cache_entries(cold.cache)
    assert len([p for p in after if p.is_file()]) == 18
    assert all(p.stat().st_mtime > 1_000_000 for p in after if p.is_file())


def test_environment_variable_moves_the_cache(go: Go, cold: Built) -> None:
    proc = build(
        go,
        cold.dist.parent,
        "from-env",
        *ZOPFLI_AND_ZSTD,
        env={"WASMSHIP_CACHE_DIR": str(cold.cache)},
    )
    assert proc.returncode == 0, proc.stderr
    assert from_cache(proc.stdout) == (18, 18)


def test_parallel_output_is_byte_identical_to_serial(go: Go, source: Path, tmp_path: Path) -> None:
    unused = tmp_path / "unused-cache"
    env = {"WASMSHIP_CACHE_DIR": str(unused)}
    serial = build(go, source, "serial", "--no-cache", "--jobs", "1", "--zstd", env=env)
    parallel = build(go, source, "parallel", "--no-cache", "--jobs", "2", "--zstd", env=env)
    assert serial.returncode == 0 and parallel.returncode == 0, serial.stderr + parallel.stderr
    assert "cache off" in compress_note(serial.stdout)
    assert snapshot(source / "serial") == snapshot(source / "parallel")
    assert not unused.exists()  # --no-cache writes nothing


def test_corrupt_entries_are_ignored_and_repaired(go: Go, source: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = built(go, source, "fast-1", cache, "--profile", "fast")
    paths = sorted(p for p in entries(cache) if p.is_file())
    assert len(paths) == 12  # 6 files x br, gzip
    for index, path in enumerate(paths):
        blob = path.read_bytes()
        # Half truncated, half with one flipped byte in the payload.
        path.write_bytes(blob[:-7] if index % 2 else blob[:-1] + bytes([blob[-1] ^ 0x55]))
    second = built(go, source, "fast-2", cache, "--profile", "fast")
    assert from_cache(second.stdout) == (0, 12)
    assert "12 corrupt cache entries replaced" in compress_note(second.stdout)
    assert snapshot(second.dist) == snapshot(first.dist)
    for original, data in decoded(second.dist).values():
        assert data == original
    # Repaired: every entry reads back verified.
    reader = CompressionCache(cache)
    assert all(reader.get(p.name) is not None for p in paths)
    third = built(go, source, "fast-3", cache, "--profile", "fast")
    assert from_cache(third.stdout) == (12, 12)


def test_fast_profile_variants_decode(go: Go, source: Path, tmp_path: Path) -> None:
    fast = built(go, source, "fast", tmp_path / "c", "--profile", "fast", "--zstd")
    variants = decoded(fast.dist)
    assert {enc for _, enc in variants} == {"br", "gzip", "zstd"}
    for original, data in variants.values():
        assert data == original


def test_cache_dir_default_is_under_xdg_cache_home(go: Go, source: Path, tmp_path: Path) -> None:
    env = base_env(WASMSHIP_GO=go.binary, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    env.pop("WASMSHIP_CACHE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "-q", "-o", "xdg", "--profile", "fast"],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert len([p for p in entries(tmp_path / "xdg" / "wasmship") if p.is_file()]) == 12


def test_cache_stays_under_its_bound(go: Go, source: Path, tmp_path: Path) -> None:
    cache = tmp_path / "small"
    # The fast variants of the module alone take about 1.3 MiB.
    built(go, source, "bounded", cache, "--profile", "fast", "--cache-max-size", "1MiB")
    assert 0 < CompressionCache(cache).size() <= 1 << 20
    assert 0 < len(cache_entries(cache)) < 12  # something of the 12 was evicted


@pytest.mark.parametrize(
    ("args", "blocked", "extra"),
    [
        (("--gzip", "zopfli"), "zopfli", "wasmship[zopfli]"),
        (("--zstd",), "zstandard", "wasmship[zstd]"),
    ],
)
def test_a_missing_extra_is_a_usage_error_naming_it(
    go: Go, source: Path, tmp_path: Path, args: tuple[str, ...], blocked: str, extra: str
) -> None:
    # A module of that name that fails to import stands for the package not being installed.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / f"{blocked}.py").write_text("raise ImportError('not installed')\n")
    env = base_env(WASMSHIP_GO=go.binary, WASMSHIP_PROFILE="release")  # fast never uses zopfli
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), env["PYTHONPATH"]])
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "-o", "never", *args],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert extra in proc.stderr and args[0] in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (source / "never").exists()


def test_missing_extra_raises_usage_error_in_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes `import zstandard` fail
    with pytest.raises(UsageError, match=r"pip install 'wasmship\[zstd\]'"):
        encoders(Profile.RELEASE, GzipEncoder.ZLIB, zstd=True)


def test_release_gzip_is_no_larger_than_gzip_9(built_hello: Path) -> None:
    gzip_tool = need("gzip")
    for entry in manifest_of(built_hello)["targets"][0]["files"].values():  # type: ignore[index]
        plain = subprocess.run(
            [gzip_tool, "-9", "-n", "-c", str(built_hello / entry["path"])],
            capture_output=True,
            check=True,
        ).stdout
        ours = built_hello / entry["encodings"]["gzip"]["path"]
        assert ours.stat().st_size <= len(plain), entry["path"]


# -- files compressed already (the site-assets fixture's web folder) -----------------------------

# Its files whose format compresses them already, and so well that a probe skips them.
INCOMPRESSIBLE = {
    "img/photo.jpg",
    "img/thumb.jpeg",
    "img/photo.webp",
    "img/photo.avif",
    "img/icon.png",
    "fonts/blocks.woff2",
    "media/clip.mp4",
    "media/clip.webm",
    "files/docs.zip",
    "files/notes.tar.gz",
    "files/items.zst",
}
# Compressed types all the same, whose bytes still compress: an uncompressed PDF, a FLAC with a
# padding block, a small GIF.
STILL_COMPRESSIBLE = {"files/notes.pdf", "media/tone.flac", "img/spinner.gif"}
# Tried (their types are not compressed ones) but saving under 5 % in every encoding.
BARELY = {"favicon.ico", "media/noise.wav"}


@pytest.fixture(scope="module")
def assets(go: Go, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The site-assets fixture with its web folder, zstd too, into an empty cache."""
    root = tmp_path_factory.mktemp("assets") / "site-assets"
    shutil.copytree(FIXTURES / "site-assets", root)
    return built(go, root, "cold", root.parent / "cache", "--static", "web", "--zstd")


def all_files(dist: Path) -> dict[str, dict[str, Any]]:
    """Every file's entry by its logical name: the web folder's path (hashed or not)."""
    return {
        logical: entry
        for target in manifest_of(dist)["targets"]
        for logical, entry in target["files"].items()
    }


def test_files_compressed_already_are_not_even_tried(assets: Built) -> None:
    files = all_files(assets.dist)
    assert files.keys() >= INCOMPRESSIBLE | STILL_COMPRESSIBLE | BARELY
    tried = len(files) - len(INCOMPRESSIBLE)
    assert from_cache(assets.stdout) == (0, 3 * tried)  # br, gzip, zstd of the others only
    assert len(cache_entries(assets.cache)) == 3 * tried
    assert f"{len(INCOMPRESSIBLE)} files already compressed" in compress_note(assets.stdout)
    for path in INCOMPRESSIBLE:
        assert files[path]["encodings"] == {}, path
        assert not list(assets.dist.glob(files[path]["path"] + ".*")), path
    for path in STILL_COMPRESSIBLE:
        assert set(files[path]["encodings"]) == {"br", "gzip", "zstd"}, path


def test_a_variant_is_kept_only_when_it_saves_five_percent(assets: Built) -> None:
    files = all_files(assets.dist)
    for path in BARELY:
        assert files[path]["encodings"] == {}, path
        assert not list(assets.dist.glob(files[path]["path"] + ".*")), path
    kept = 0
    for path, entry in files.items():
        for variant in entry["encodings"].values():
            assert saves_enough(entry["size"], variant["size"]), (path, variant)
            kept += 1
    assert kept > 60
    for original, data in decoded(assets.dist).values():
        assert data == original


def test_skipping_keeps_builds_cached_and_deterministic(go: Go, assets: Built) -> None:
    again = built(go, assets.dist.parent, "warm", assets.cache, "--static", "web", "--zstd")
    tried = 3 * (len(all_files(assets.dist)) - len(INCOMPRESSIBLE))
    assert from_cache(again.stdout) == (tried, tried)  # every variant tried, and none more
    assert len(cache_entries(assets.cache)) == tried
    assert snapshot(again.dist) == snapshot(assets.dist)
    proc = build(go, assets.dist.parent, "uncached", "--no-cache", "--static", "web", "--zstd")
    assert proc.returncode == 0, proc.stderr
    assert snapshot(assets.dist.parent / "uncached") == snapshot(assets.dist)
