"""wasip1 plugins the way hosts load them (issue 23 #5): not precompressed unless asked, and a
dist that serve, verify and check accept with a module of no variants."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, build_fixture, manifest_of
from tests.serving import request, wasmship_serve
from wasmship.distformat.reader import read_manifest
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


# A host that reads a fixed path (module/module.wasm) beside a page whose module is hashed.
FIXED = """\
[[target]]
name = "app"
package = "./cmd/app"

[[target]]
name = "module"
package = "./cmd/plugin"
goos = "wasip1"
folder = "module"
hash = {hash}
"""


def build(wasmship: Run, project: Path, *args: str) -> str:
    proc = wasmship("build", "--profile", "fast", *args, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def verify(wasmship: Run, project: Path) -> None:
    proc = wasmship("verify", "--strict", "dist", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hash_false_writes_a_plugin_under_the_fixed_path_its_host_reads(
    wasmship: Run, tmp_path: Path, go: Go
) -> None:
    project = build_fixture(
        tmp_path, go, "multi", "--profile", "fast", config=FIXED.format(hash="false")
    )
    dist = project / "dist"
    module = module_of(dist, "module")
    assert module["path"] == "module/module.wasm" and module["immutable"] is False
    assert (dist / "module" / "module.wasm").read_bytes()[:4] == b"\0asm"
    manifest: Any = manifest_of(dist)
    flags = {t["name"]: t["flags"]["hashed_names"] for t in manifest["targets"]}
    assert flags == {"app": True, "module": False}
    assert module_of(dist, "app")["path"] != "app.wasm"  # the page's module stays hashed
    verify(wasmship, project)

    # Up to date: the fast path leaves the dist as it is.
    assert "dist up to date" in build(wasmship, project)
    # A new plugin replaces the file under the same name; the old page module is kept, and
    # no earlier plugin is (a fixed name has one version).
    for package, word in (("plugin", "plugin says"), ("app", "app")):
        main = project / "cmd" / package / "main.go"
        main.write_text(main.read_text().replace(f'"{word} ', f'"{word} anew '))
    build(wasmship, project)
    assert b"plugin says anew hi" in (dist / "module" / "module.wasm").read_bytes()
    kept = [k.file.path for k in read_manifest(dist).kept]
    assert kept and not any(path.startswith("module/") for path in kept)
    verify(wasmship, project)
    # --target app carries the plugin over as it is: its settings did not change.
    build(wasmship, project, "--target", "app")
    assert module_of(dist, "module")["path"] == "module/module.wasm"
    verify(wasmship, project)
    # hash = true is a change of the inputs: built again, hashed.
    (project / "wasmship.toml").write_text(FIXED.format(hash="true"))
    build(wasmship, project)
    assert module_of(dist, "module")["path"].startswith("module/module.")
    assert not (dist / "module" / "module.wasm").exists()
    verify(wasmship, project)


# A command guest that imports a host function (plugins/cmd/conduit), beside one that does not.
GUESTS = """\
[[target]]
name = "conduit"
package = "./cmd/conduit"
goos = "wasip1"
allow = ["stdout", "conduit.command_request"]

[[target]]
name = "hello"
package = "./cmd/hello"
goos = "wasip1"
"""


@pytest.fixture(scope="module")
def guests(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The plugins fixture built once with GUESTS."""
    root = tmp_path_factory.mktemp("guests")
    return build_fixture(root, go, "plugins", "--profile", "fast", config=GUESTS)


def test_smoke_names_the_host_imports_a_guest_needs_and_cannot_run_it_here(
    guests: Path, wasmship: Run
) -> None:
    proc = wasmship("smoke", cwd=guests)
    # 3, as a module that needs a browser where there is none: nothing is wrong with the module
    # or the configuration, this machine lacks what runs it (docs/cli.md, exit codes).
    assert proc.returncode == 3, proc.stderr
    assert re.search(
        r"^smoke conduit: cannot run here: it imports conduit\.command_request, which only its "
        r"host provides \(smoke provides WASI preview 1\) \(wazero v[\d.]+\)$",
        proc.stderr,
        re.M,
    ), proc.stderr
    assert re.search(r"^smoke hello: ok ", proc.stderr, re.M)  # the other guest still runs
    assert "not instantiated" not in proc.stderr and "stderr is not granted" not in proc.stderr
    assert (
        "wasmship: error: conduit needs its host's imports (conduit: conduit.command_request), "
        "which smoke does not provide" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    document = json.loads(wasmship("smoke", "--json", "--target", "conduit", cwd=guests).stdout)
    run = document["runs"][0]
    assert (document["ok"], run["outcome"]) == (False, "needs its host")
    assert "conduit.command_request" in run["verdict"]


def test_size_measures_a_wasip1_module(guests: Path, wasmship: Run) -> None:
    def measured(*args: str) -> dict[str, Any]:
        proc = wasmship("size", "--json", *args, cwd=guests)
        assert proc.returncode == 0, proc.stderr
        document: dict[str, Any] = json.loads(proc.stdout)
        return document

    module = module_of(guests / "dist", "conduit")
    found = measured("--target", "conduit")
    assert (found["module"], found["total"]) == ("conduit.wasm", module["size"])
    names = {p["name"] for p in found["packages"]}
    assert {"runtime", "fmt", "main"} <= names and found["coverage"] > 0.9
    # The package picks its target, whatever its goos; a dist of plugins only measures them.
    assert measured("./cmd/hello")["module"] == "hello.wasm"
    both = wasmship("size", cwd=guests)
    assert both.returncode == 0, both.stderr
    assert "conduit" in both.stdout and "hello" in both.stdout
