"""wasip1 plugins the way hosts load them (issue 23 #5): not precompressed unless asked, and a
dist that serve, verify and check accept with a module of no variants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, build_fixture, manifest_of
from tests.serving import request, wasmship_serve
from wasmship.distformat.schema import schema_problems

# The multi fixture: a page's module, a plugin as most projects write it, and one that asks.
MIXED = """\
[[target]]
name = "app"
package = "./cmd/app"

[[target]]
name = "plugin"
package = "./cmd/plugin"
goos = "wasip1"

[[target]]
name = "packed"
package = "./cmd/plugin"
goos = "wasip1"
compress = true
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The multi fixture built once with MIXED (fast profile: compression is not timed here)."""
    root = tmp_path_factory.mktemp("mixed")
    return build_fixture(root, go, "multi", "--profile", "fast", config=MIXED)


def module_of(dist: Path, target: str) -> dict[str, Any]:
    manifest: Any = manifest_of(dist)
    found = next(t for t in manifest["targets"] if t["name"] == target)
    entry: dict[str, Any] = found["files"][f"{target}.wasm"]
    return entry


def test_a_wasip1_module_is_not_precompressed_unless_its_target_asks(mixed: Path) -> None:
    dist = mixed / "dist"
    plugin, packed = module_of(dist, "plugin"), module_of(dist, "packed")
    assert plugin["encodings"] == {}
    assert not list(dist.glob("plugin.*.wasm.*"))  # no .br, no .gz beside it
    assert set(packed["encodings"]) >= {"br", "gzip"}  # `compress = true` asks for them
    assert set(module_of(dist, "app")["encodings"]) >= {"br", "gzip"}  # js: as before
    assert list(schema_problems(manifest_of(dist))) == []


def test_verify_and_check_accept_a_plugin_without_variants(mixed: Path, tmp_path: Path) -> None:
    dist = mixed / "dist"
    verified = subprocess.run(
        [sys.executable, "-m", "wasmship", "verify", "--strict", str(dist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stderr
    plugin = module_of(dist, "plugin")
    with wasmship_serve(dist, "--quiet", stderr=tmp_path / "serve.log") as server:
        reply = request(server.port, "/" + plugin["path"], {"Accept-Encoding": "br, gzip"})
        assert reply.status == 200 and reply.header("Content-Encoding") is None
        assert reply.header("Content-Type") == "application/wasm"
        assert len(reply.body) == plugin["size"]
        checked = subprocess.run(
            [sys.executable, "-m", "wasmship", "check", server.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compress_must_be_true_or_false(wasmship: Run, tmp_path: Path) -> None:
    (tmp_path / "wasmship.toml").write_text(
        '[[target]]\nname = "p"\ngoos = "wasip1"\ncompress = "yes"\n'
    )
    proc = wasmship("build", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "wasmship.toml:4: compress must be true or false, not 'yes'" in proc.stderr
    assert "Traceback" not in proc.stderr
