"""--keep N: hashed files of earlier builds stay in the dist, checked, listed, pruned."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, Go, base_env
from wasmship.distformat.schema import manifest_schema
from wasmship.verify import verify_dist

# No toolchain mark: keeping and pruning old files is Python's work, the same with any Go, so
# the Go version matrix does not run it again.

Build = Callable[..., subprocess.CompletedProcess[str]]


def builder(root: Path, go: Go) -> Build:
    """Build ROOT's hello with a message of its own (so each version's module differs)."""

    def build(message: str, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "wasmship", "build", "--quiet"),
                *("--ldflags", f"-X main.message={message}", *args),
            ],
            cwd=root,
            env=base_env(WASMSHIP_GO=go.binary),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    return build


def manifest(dist: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((dist / "manifest.json").read_text())
    return loaded


def module_path(m: dict[str, Any]) -> str:
    path: str = m["targets"][0]["files"]["main.wasm"]["path"]
    return path


@dataclass(frozen=True)
class History:
    dist: Path
    manifests: list[dict[str, Any]]  # after build 1, 2, 3, 4
    listings: list[set[str]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, go: Go) -> History:
    """Four builds of a changing module into one dist with the default --keep 2."""
    root = tmp_path_factory.mktemp("generations") / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    build = builder(root, go)
    manifests, listings = [], []
    for n in range(1, 5):
        build(f"v{n}", "--server-config", "netlify")
        manifests.append(manifest(root / "dist"))
        listings.append({p.name for p in (root / "dist").iterdir()})
    return History(root / "dist", manifests, listings)


def test_the_first_build_keeps_nothing(history: History) -> None:
    assert "previous" not in history.manifests[0]


def test_the_previous_module_is_kept_and_listed(history: History) -> None:
    first, second = history.manifests[0], history.manifests[1]
    old = first["targets"][0]["files"]["main.wasm"]
    kept = [p for p in second["previous"] if p["logical"] == "main.wasm"]
    assert len(kept) == 1
    entry = kept[0]
    assert entry["generation"] == 1 and entry["target"] == "main"
    assert {k: entry[k] for k in old} == old  # path, size, hashes, encodings as they were
    assert old["path"] in history.listings[1]
    assert old["encodings"]["br"]["path"] in history.listings[1]
    # The shim and loader did not change: they are the new build's, not kept copies.
    assert {p["logical"] for p in second["previous"]} == {"main.wasm"}


def test_a_kept_dist_validates_and_verifies(history: History) -> None:
    jsonschema.validate(history.manifests[3], manifest_schema())
    result = verify_dist(history.dist, strict=True)
    assert result.ok and not result.problems, [p.line() for p in result.problems]


def test_the_oldest_generation_is_pruned(history: History) -> None:
    paths = [module_path(m) for m in history.manifests]
    last = history.manifests[3]
    kept = {p["path"]: p["generation"] for p in last["previous"]}
    assert kept == {paths[2]: 1, paths[1]: 2}
    assert paths[0] not in history.listings[3]
    assert not any(name.startswith(paths[0]) for name in history.listings[3])


def test_netlify_headers_name_the_kept_files(history: History) -> None:
    headers = (history.dist / "_headers").read_text()
    for entry in history.manifests[3]["previous"]:
        block = headers.split(f"\n/{entry['path']}\n", 1)[1].split("\n\n", 1)[0]
        assert "Cache-Control: public, max-age=31536000, immutable" in block


def test_keep_0_keeps_nothing(tmp_path: Path, go: Go) -> None:
    root = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    build = builder(root, go)
    build("v1")
    first = module_path(manifest(root / "dist"))
    build("v2", "--keep", "0")
    assert "previous" not in manifest(root / "dist")
    assert not (root / "dist" / first).exists()


def test_keep_from_wasmship_toml(tmp_path: Path, go: Go) -> None:
    root = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    (root / "wasmship.toml").write_text("keep = 0\n")
    build = builder(root, go)
    build("v1")
    build("v2")
    assert "previous" not in manifest(root / "dist")


def test_a_corrupt_old_file_is_dropped_with_a_warning(tmp_path: Path, go: Go) -> None:
    root = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", root)
    build = builder(root, go)
    build("v1")
    dist = root / "dist"
    old = module_path(manifest(dist))
    data = bytearray((dist / old).read_bytes())
    data[100] ^= 0xFF
    (dist / old).write_bytes(bytes(data))
    proc = build("v2")
    assert f"{old} does not match the manifest it came from" in proc.stderr
    assert "dropped" in proc.stderr
    after = manifest(dist)
    assert old not in {p["path"] for p in after.get("previous", [])}
    assert not (dist / old).exists()
    # Nothing was made from it: no variant of the new module names its hash.
    variants = after["targets"][0]["files"]["main.wasm"]["encodings"]
    assert all(not v.get("dictionary") for v in variants.values())
    assert verify_dist(dist, strict=True).ok
