"""wasmship size on real Go builds: packages, data, embedded files, diffs, budgets, bad inputs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, base_env
from tests.test_config_targets import MULTI_CONFIG

FMT_ONLY = """package main

import "fmt"

func main() { fmt.Println("hello") }
"""

WITH_XML = """package main

import (
	"encoding/xml"
	"fmt"
)

type Item struct {
	Name string `xml:"name"`
}

func main() {
	out, _ := xml.Marshal(Item{Name: "x"})
	fmt.Println(string(out))
}
"""

WITH_EMBED = """package main

import (
	_ "embed"
	"fmt"
)

//go:embed blob.bin
var blob []byte

func main() { fmt.Println(len(blob)) }
"""

MIB = 1 << 20


def program(root: Path, name: str, main: str, **files: bytes) -> Path:
    """A Go module example.com/NAME in ROOT/NAME with MAIN as main.go and FILES beside it."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
    (folder / "main.go").write_text(main)
    for file, data in files.items():
        (folder / file.replace("_", ".")).write_bytes(data)
    return folder


def ok(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return proc


def size_json(wasmship: Run, folder: Path, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok(wasmship("size", "--json", *args, cwd=folder)).stdout)
    return document


def package(document: dict[str, Any], name: str) -> dict[str, Any]:
    found = [p for p in document["packages"] if p["name"] == name]
    assert found, f"{name} not in {[p['name'] for p in document['packages']]}"
    return found[0]


@pytest.fixture(scope="module")
def xml_app(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    import subprocess
    import sys

    folder = program(tmp_path_factory.mktemp("size"), "xmlapp", WITH_XML)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "--quiet"],
        cwd=folder,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return folder


def test_a_program_using_encoding_xml_shows_its_code(wasmship: Run, xml_app: Path) -> None:
    document = size_json(wasmship, xml_app)
    manifest = json.loads((xml_app / "dist" / "manifest.json").read_text())
    module = manifest["targets"][0]["files"]["main.wasm"]
    assert document["module"] == "main.wasm" and document["path"] == module["path"]
    assert document["total"] == module["size"] == (xml_app / "dist" / module["path"]).stat().st_size
    xml = package(document, "encoding/xml")
    assert xml["code"] > 10_000 and xml["data"] > 0 and xml["br_estimate"] > 0
    assert any(f["name"].startswith("encoding/xml.(*printer).") for f in xml["functions"])
    assert package(document, "main")["code"] > 0
    assert package(document, "runtime")["code"] > xml["code"]
    # Every byte is counted once: the packages and the unattributed rest make the module.
    parts = sum(p["code"] + p["data"] for p in document["packages"])
    assert parts == document["attributed"]
    assert parts + sum(document["unattributed"].values()) == document["total"]
    assert document["attributed"] / document["total"] >= 0.95
    assert document["coverage"] >= 0.95
    # The estimates add up to the module's real .br size.
    estimates = sum(p["br_estimate"] for p in document["packages"]) + document["unattributed_br"]
    assert document["br"] == module["encodings"]["br"]["size"] == estimates
    assert document["diff"] is None and "no earlier build" in document["diff_note"]


def test_the_terminal_table_and_the_same_bytes_twice(wasmship: Run, xml_app: Path) -> None:
    first = ok(wasmship("size", "--top", "5", cwd=xml_app)).stdout
    lines = first.splitlines()
    assert lines[0].startswith("main.wasm (main.") and "attributed to" in lines[0]
    assert any(line.startswith("runtime") and "█" in line for line in lines)
    assert any("more packages" in line for line in lines)
    assert any("unattributed" in line for line in lines)
    again = ok(wasmship("size", "--top", "5", cwd=xml_app)).stdout
    assert again == first
    one = size_json(wasmship, xml_app)
    assert size_json(wasmship, xml_app) == one


def test_the_dist_is_named_as_an_argument_and_the_old_flags_still_work(
    wasmship: Run, xml_app: Path
) -> None:
    default = size_json(wasmship, xml_app)
    assert size_json(wasmship, xml_app, "dist") == default
    assert size_json(wasmship, xml_app, "dist", ".") == default  # DIST PACKAGE
    assert size_json(wasmship, xml_app, ".") == default  # one argument, not a dist: PACKAGE
    old = ok(wasmship("size", "--json", "-o", "dist", cwd=xml_app))
    assert json.loads(old.stdout) == default
    assert old.stderr == (
        "wasmship: note: size -o/--out DIST is deprecated; use wasmship size DIST\n"
    )
    treemap = ok(wasmship("size", "dist", "--treemap", "a.html", cwd=xml_app))
    assert treemap.stdout.endswith("report: a.html\n") and treemap.stderr == ""
    html = ok(wasmship("size", "--html", "b.html", cwd=xml_app))
    assert html.stderr == "wasmship: note: size --html FILE is deprecated; use --treemap FILE\n"
    assert (xml_app / "a.html").read_bytes() == (xml_app / "b.html").read_bytes()
    twice = wasmship("size", "dist", "-o", "dist", cwd=xml_app)
    assert twice.returncode == 2 and "the dist is named twice" in twice.stderr


def test_an_embedded_mebibyte_is_data_of_the_embedding_package(
    wasmship: Run, tmp_path: Path
) -> None:
    blob = random.Random(15).randbytes(MIB)  # incompressible, like a photo
    folder = program(tmp_path, "embedder", WITH_EMBED, blob_bin=blob)
    ok(wasmship("build", "--quiet", cwd=folder))
    document = size_json(wasmship, folder)
    main = package(document, "main")
    assert 0.98 * MIB <= main["data"] <= 1.02 * MIB
    assert main["symbols"][0]["name"] == "main..gobytes.1"
    assert main["symbols"][0]["size"] == MIB
    assert document["packages"][1]["name"] == "main"  # second only to the runtime
    assert document["coverage"] >= 0.95


def test_an_added_import_shows_in_the_diff_with_its_sign(wasmship: Run, tmp_path: Path) -> None:
    folder = program(tmp_path, "growing", FMT_ONLY)
    first = json.loads(ok(wasmship("build", "--json", "--size-report", cwd=folder)).stdout)
    report = first["size"]["main"]
    assert report["diff"] is None and package(report, "fmt")["code"] > 0
    (folder / "main.go").write_text(WITH_XML)
    grown = ok(wasmship("build", "--size-report", cwd=folder))
    line = next(line for line in grown.stdout.splitlines() if line.startswith("size: "))
    assert line.startswith("size: main.wasm +") and "encoding/xml +" in line and "(new)" in line
    document = size_json(wasmship, folder)
    change = document["diff"]
    assert change["raw"] > 100_000 and change["br"] > 0
    xml = next(c for c in change["packages"] if c["name"] == "encoding/xml")
    assert (
        xml["status"] == "new"
        and xml["raw"]
        == package(document, "encoding/xml")["code"] + (package(document, "encoding/xml")["data"])
    )
    # Back to fmt only: the kept module (with encoding/xml) was stored, so the diff shrinks.
    (folder / "main.go").write_text(FMT_ONLY)
    shrunk = json.loads(ok(wasmship("build", "--json", "--size-report", cwd=folder)).stdout)
    change = shrunk["size"]["main"]["diff"]
    assert change["raw"] < -100_000
    assert {"name": "encoding/xml", "raw": -xml["raw"], "br": -xml["br"], "status": "gone"} in (
        change["packages"]
    )
    # A budget failure says which packages grew.
    (folder / "main.go").write_text(WITH_XML)
    over = wasmship("build", "--budget", "main:raw=1MiB", cwd=folder)
    assert over.returncode == 1
    assert "over its budget" in over.stderr
    assert "since the build before: main.wasm +" in over.stderr and "encoding/xml +" in over.stderr


def test_without_stored_data_there_is_a_note_not_a_diff(wasmship: Run, tmp_path: Path) -> None:
    folder = program(tmp_path, "unstored", FMT_ONLY)
    ok(wasmship("build", "--quiet", cwd=folder))
    (folder / "main.go").write_text(WITH_XML)
    ok(wasmship("build", "--quiet", cwd=folder))
    document = size_json(wasmship, folder)
    assert document["diff"] is None
    assert document["diff_note"].startswith("no size data stored for main.")
    assert "--size-report" in document["diff_note"]


def test_bad_inputs_get_a_message_and_an_exit_code(
    wasmship: Run, xml_app: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = wasmship("size", cwd=empty)
    assert missing.returncode == 4 and "dist does not exist: run `wasmship build`" in missing.stderr
    assert "Traceback" not in missing.stderr
    (empty / "dist").mkdir()
    no_manifest = wasmship("size", cwd=empty)
    assert no_manifest.returncode == 4 and "has no manifest.json" in no_manifest.stderr
    not_a_folder = wasmship("size", "-o", "main.go", cwd=xml_app)
    assert not_a_folder.returncode == 4 and "is a file, not a dist folder" in not_a_folder.stderr
    # A module file that is not WebAssembly (a damaged dist).
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for file in ("go.mod", "main.go"):
        (damaged / file).write_bytes((xml_app / file).read_bytes())
    ok(wasmship("build", "--quiet", cwd=damaged))
    manifest = json.loads((damaged / "dist" / "manifest.json").read_text())
    module = damaged / "dist" / manifest["targets"][0]["files"]["main.wasm"]["path"]
    module.write_bytes(b"<html>not a module</html>")
    broken = wasmship("size", "--json", cwd=damaged)
    assert broken.returncode == 1 and "is not a WebAssembly module" in broken.stderr
    assert json.loads(broken.stdout)["ok"] is False
    # Sources that changed since the dist was built.
    changed = tmp_path / "changed"
    changed.mkdir()
    for file in ("go.mod", "main.go"):
        (changed / file).write_bytes((xml_app / file).read_bytes())
    ok(wasmship("build", "--quiet", cwd=changed))
    (changed / "main.go").write_text(FMT_ONLY)
    stale = wasmship("size", cwd=changed)
    assert stale.returncode == 1 and "was not built from these sources" in stale.stderr
    assert "Traceback" not in stale.stderr


def test_a_wasip1_only_dist_is_measured(wasmship: Run, tmp_path: Path) -> None:
    # Issue 23 #5: size measures wasip1 modules too (it refused them, "GOOS=js" only).
    folder = program(tmp_path, "plugin", FMT_ONLY)
    (folder / "wasmship.toml").write_text(
        '[[target]]\nname = "plugin"\npackage = "."\ngoos = "wasip1"\n'
    )
    ok(wasmship("build", "--quiet", cwd=folder))
    assert size_json(wasmship, folder)["module"] == "plugin.wasm"
    assert size_json(wasmship, folder, "--target", "plugin")["target"] == "plugin"


def test_size_keeps_its_data_in_the_cache_dir_of_wasmship_toml(
    wasmship: Run, xml_app: Path, tmp_path: Path, go: Go
) -> None:
    config = xml_app / "wasmship.toml"
    config.write_text(f"cache-dir = {str(tmp_path / 'cache')!r}\n")
    env = base_env(WASMSHIP_GO=go.binary)
    del env["WASMSHIP_CACHE_DIR"]  # the variable would win over the file
    try:
        ok(wasmship("size", "--json", cwd=xml_app, env=env))
    finally:
        config.unlink()
    assert list((tmp_path / "cache" / "size").rglob("*.json"))


MULTI = MULTI_CONFIG  # the multi fixture's targets


def test_a_package_picks_the_target_built_from_it(
    wasmship: Run, tmp_path_factory: pytest.TempPathFactory, go: Go
) -> None:
    from tests.conftest import build_fixture

    multi = build_fixture(tmp_path_factory.mktemp("size-multi"), go, "multi", config=MULTI)
    # Each package names its own target: never another target measured against it.
    assert size_json(wasmship, multi, "./cmd/worker")["module"].startswith("worker")
    assert size_json(wasmship, multi, "dist", "./cmd/app")["module"].startswith("app")
    # Its wasip1 plugin too (issue 23 #5; it was refused, "GOOS=js" only).
    assert size_json(wasmship, multi, "./cmd/plugin")["module"] == "plugin.wasm"
    # A package no target was built from, with several targets: the list, not a guess.
    lib = wasmship("size", "./internal/lib", cwd=multi)
    assert lib.returncode == 2, lib.stderr
    assert "no target of" in lib.stderr
    assert "app (example.com/multi/cmd/app)" in lib.stderr
    assert "worker (example.com/multi/cmd/worker)" in lib.stderr
    # --target naming another target than the package's.
    other = wasmship("size", "--target", "app", "./cmd/worker", cwd=multi)
    assert other.returncode == 2, other.stderr
    assert "./cmd/worker is the package of target worker, not of app" in other.stderr
    assert "Traceback" not in lib.stderr + other.stderr
