"""A real build with a real Go, run by Node with that GOROOT's wasm_exec_node.js."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import Go, Run, manifest_of, need, snapshot

pytestmark = pytest.mark.toolchain


def files_of(manifest: dict[str, object]) -> dict[str, dict[str, object]]:
    targets = manifest["targets"]
    assert isinstance(targets, list) and len(targets) == 1
    result: dict[str, dict[str, object]] = targets[0]["files"]
    return result


def run_in_node(go: Go, dist: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run dist's module with the GOROOT's wasm_exec_node.js and dist's own copy of the shim."""
    node = need("node")
    entries = files_of(manifest_of(dist))
    runner = tmp_path / "node-runner"
    runner.mkdir(parents=True)
    shutil.copyfile(go.shim_dir() / "wasm_exec_node.js", runner / "wasm_exec_node.js")
    # wasm_exec_node.js requires ./wasm_exec: give it the shim wasmship shipped.
    shutil.copyfile(dist / str(entries["wasm_exec.js"]["path"]), runner / "wasm_exec.js")
    module = dist / str(entries["main.wasm"]["path"])
    return subprocess.run(
        [node, str(runner / "wasm_exec_node.js"), str(module)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_runs_in_node_with_the_matching_shim(
    go: Go, built_hello: Path, tmp_path: Path
) -> None:
    entries = files_of(manifest_of(built_hello))
    shim = built_hello / str(entries["wasm_exec.js"]["path"])
    assert shim.read_bytes() == (go.shim_dir() / "wasm_exec.js").read_bytes()
    module = (built_hello / str(entries["main.wasm"]["path"])).read_bytes()
    assert module[:8] == b"\0asm\x01\0\0\0"
    proc = run_in_node(go, built_hello, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello from Go WebAssembly\n"


def test_manifest_validates_and_matches_the_files(go: Go, built_hello: Path) -> None:
    import hashlib

    manifest = manifest_of(built_hello)
    schema = json.loads(files("wasmship").joinpath("data", "manifest.schema.json").read_text())
    jsonschema.validate(manifest, schema)
    assert manifest["go"] == {"version": go.version}
    assert str(go.goroot) not in (built_hello / "manifest.json").read_text()
    raw = (built_hello / "manifest.json").read_text()
    assert raw.endswith("}\n")
    assert raw == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    entries = files_of(manifest)
    assert set(entries) == {
        "main.wasm",
        "wasm_exec.js",
        "loader.js",
        "loader.css",
        "icon.svg",
        "index.html",
    }
    listed = {"manifest.json"}
    for logical, entry in entries.items():
        data = (built_hello / str(entry["path"])).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        listed.add(str(entry["path"]))
        assert entry["immutable"] is (logical != "index.html")
        for variant in entry["encodings"].values():  # type: ignore[attr-defined]
            blob = (built_hello / variant["path"]).read_bytes()
            assert variant["size"] == len(blob) < len(data)
            listed.add(variant["path"])
    assert {p.name for p in built_hello.iterdir()} == listed
    assert set(entries["main.wasm"]["encodings"]) == {"br", "gzip"}  # type: ignore[arg-type]
    assert entries["main.wasm"]["content_type"] == "application/wasm"


def test_names_are_content_hashed(built_hello: Path) -> None:
    import hashlib

    entries = files_of(manifest_of(built_hello))
    for logical in ("main.wasm", "wasm_exec.js", "loader.js", "loader.css"):
        path = str(entries[logical]["path"])
        stem, ext = logical.rsplit(".", 1)
        digest = hashlib.sha256((built_hello / path).read_bytes()).hexdigest()[:8]
        assert path == f"{stem}.{digest}.{ext}"


def test_variants_decode_to_the_original_and_gzip_is_deterministic(built_hello: Path) -> None:
    import gzip

    import brotli

    entries = files_of(manifest_of(built_hello))
    module = entries["main.wasm"]
    original = (built_hello / str(module["path"])).read_bytes()
    encodings = module["encodings"]
    assert isinstance(encodings, dict)
    gz = (built_hello / encodings["gzip"]["path"]).read_bytes()
    assert gzip.decompress(gz) == original
    assert gz[4:8] == b"\0\0\0\0"  # mtime 0
    assert gz[3] & 0x08 == 0  # no FNAME
    assert brotli.decompress((built_hello / encodings["br"]["path"]).read_bytes()) == original


def test_page_references_hashed_scripts_with_integrity(built_hello: Path) -> None:
    entries = files_of(manifest_of(built_hello))
    page = (built_hello / "index.html").read_text()
    for logical in ("wasm_exec.js", "loader.js"):
        entry = entries[logical]
        assert f'src="{entry["path"]}" integrity="{entry["integrity"]}"' in page
    assert f'data-wasm="{entries["main.wasm"]["path"]}"' in page
    assert f'data-wasm-size="{entries["main.wasm"]["size"]}"' in page
    assert 'id="wasmship-status"' in page
    # One inline script, the early fetch of the module (docs/loader.md#early-fetch); every
    # other <script> has a src.
    assert page.count("<script") == page.count("<script defer src=") + 1
    (early,) = re.findall(r"<script>(.*?)</script>", page)
    assert f'new URL("{entries["main.wasm"]["path"]}",document.baseURI)' in early


def test_two_builds_are_byte_identical(hello: Path, wasmship: Run, tmp_path: Path) -> None:
    first = wasmship("build", "-q", "--out", str(tmp_path / "one"), cwd=hello)
    assert first.returncode == 0, first.stderr
    second = wasmship("build", "-q", "--out", str(tmp_path / "two"), cwd=hello)
    assert second.returncode == 0, second.stderr
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_tags_ldflags_and_go_flags_reach_go_build(
    go: Go, hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    proc = wasmship(
        "build",
        "-q",
        "--tags",
        "shout",
        "--ldflags",
        "-X main.unused=1",
        "--",
        "-v",
        cwd=hello,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    out = run_in_node(go, hello / "dist", tmp_path)
    assert out.stdout == "HELLO FROM GO WEBASSEMBLY\n"
    assert manifest_of(hello / "dist")["targets"][0]["flags"]["tags"] == ["shout"]  # type: ignore[index]

    proc = wasmship("build", "-q", "--ldflags", "-X main.message=ldflags-win", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    assert run_in_node(go, hello / "dist", tmp_path / "again").stdout == "ldflags-win\n"


def test_no_hash_keeps_plain_names(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", "-q", "--no-hash", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (hello / "dist").iterdir()}
    plain = {"main.wasm", "wasm_exec.js", "loader.js", "loader.css", "index.html", "manifest.json"}
    assert plain <= names
    entries = files_of(manifest_of(hello / "dist"))
    assert entries["main.wasm"]["immutable"] is False


def test_json_output_is_one_document(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", "--json", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["manifest"] == manifest_of(hello / "dist")
    assert {"toolchain", "compile", "compress", "manifest"} <= set(document["timings"])


def test_human_output_has_steps_and_table(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    for step in ("toolchain", "compile", "shim", "fingerprint", "loader", "compress", "manifest"):
        assert step in proc.stdout
    assert "main." in proc.stdout and "br" in proc.stdout and "gzip" in proc.stdout
    assert "\x1b[" not in proc.stdout  # no colour when not a TTY


def test_package_outside_the_module_with_its_own_go_mod(
    go: Go, hello: Path, project: object, wasmship: Run, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = wasmship("build", "-q", str(hello), "--out", "out", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert manifest_of(elsewhere / "out")["targets"][0]["package"] == "example.com/hello"  # type: ignore[index]
    assert run_in_node(go, elsewhere / "out", tmp_path).stdout == "hello from Go WebAssembly\n"


def test_html_template_is_filled(hello: Path, wasmship: Run) -> None:
    template = hello / "page.html"
    template.write_text(
        "<!doctype html><html><head><title>Mine</title>\n<!-- wasmship:scripts -->\n</head>"
        "<body><h1>My app</h1><!-- wasmship:status --></body></html>\n"
    )
    proc = wasmship("build", "-q", "--html", "page.html", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    page = (hello / "dist" / "index.html").read_text()
    assert "<title>Mine</title>" in page and "<h1>My app</h1>" in page
    assert "wasmship:scripts" not in page and 'id="wasmship-status"' in page
    assert page.count("<script defer src=") == 2


def test_a_dist_whose_manifest_is_not_json_is_refused_saying_where(
    hello: Path, wasmship: Run
) -> None:
    dist = hello / "dist"
    dist.mkdir()
    (dist / "manifest.json").write_text('{\n  "tool": {"name": "wasmship",}\n}\n')
    (dist / "notes.txt").write_text("mine\n")
    before = snapshot(dist)
    proc = wasmship("build", "-q", cwd=hello)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"wasmship: error: refusing to replace {dist}: its {dist / 'manifest.json'} is not "
        "valid JSON (line 2, column 31: Expecting property name enclosed in double quotes); "
        "fix or remove it, or pass --force to replace the folder\n"
    )
    assert snapshot(dist) == before
    proc = wasmship("build", "-q", "--force", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    assert manifest_of(dist)["tool"]["name"] == "wasmship"  # type: ignore[index]
    assert not (dist / "notes.txt").exists()


def test_out_through_a_dangling_symlink_is_refused(
    hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    nowhere = tmp_path / "nowhere" / "dist"
    (hello / "public").symlink_to(nowhere)
    (hello / "site").symlink_to(tmp_path / "gone")
    for out, link, target in [
        ("public", hello / "public", nowhere),
        ("site/dist", hello / "site", tmp_path / "gone"),
    ]:
        proc = wasmship("build", "-q", "--out", out, cwd=hello)
        assert proc.returncode == 2, proc.stderr
        through = "" if out == "public" else f" goes through {link}, which"
        assert proc.stderr == (
            f"wasmship: error: refusing to use {hello / out} as the dist folder: it{through} "
            f"is a symbolic link to {target}, which does not exist; point the link at a "
            "folder, remove it or pass another --out\n"
        )
        assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello"]  # nothing was created
    assert (hello / "public").is_symlink() and (hello / "site").is_symlink()
    # A link to an existing folder is followed: the dist is written there, the link stays.
    real = tmp_path / "real"
    real.mkdir()
    (hello / "served").symlink_to(real)
    for _ in range(2):  # the second build replaces the dist behind the link
        proc = wasmship("build", "-q", "--out", "served", cwd=hello)
        assert proc.returncode == 0, proc.stderr
        assert (hello / "served").is_symlink() and (hello / "served").readlink() == real
        assert manifest_of(real)["tool"]["name"] == "wasmship"  # type: ignore[index]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello", "real"]
