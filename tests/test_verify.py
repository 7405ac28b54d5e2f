"""`wasmship verify DIST`: a clean dist passes; each kind of damage is found and named by path."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, Go, Run, base_env, files_of, manifest_of, snapshot
from wasmship.builder.csp import inline_of
from wasmship.distformat.digests import integrity, integrity_matches
from wasmship.distformat.page import local_path, read_page, references
from wasmship.distformat.webmanifest import web_manifest_references
from wasmship.verify.scripts import script_calls


@pytest.fixture
def dist(built_hello: Path, tmp_path: Path) -> Path:
    """A private copy of the shared built dist, free to damage."""
    copy = tmp_path / "dist"
    shutil.copytree(built_hello, copy)
    return copy


def verify(wasmship: Run, dist: Path, *args: str) -> tuple[int, list[str], str]:
    """Run the real CLI; return its exit code, its output lines and its stderr."""
    proc = wasmship("verify", str(dist), *args, cwd=dist.parent)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def lines_for(lines: list[str], path: str, severity: str = "error") -> list[str]:
    """The problems about PATH, and about what a line of PATH says (`index.html:9: ...`)."""
    about = re.compile(rf"{severity}: {re.escape(path)}(:[0-9]+)?: ")
    return [line for line in lines if about.match(line)]


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of PATH where NEEDLE first appears."""
    text = path.read_text()
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def write_manifest(dist: Path, manifest: Any) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (dist / "manifest.json").write_text(text)


def test_a_clean_build_verifies(wasmship: Run, dist: Path) -> None:
    code, lines, stderr = verify(wasmship, dist)
    assert code == 0, (lines, stderr)
    assert lines == [f"{dist}: 18 files match manifest.json"]
    assert stderr == ""
    code, lines, _ = verify(wasmship, dist, "--strict", "--quiet")
    assert (code, lines) == (0, [])


def test_json_output_of_a_clean_dist(wasmship: Run, dist: Path) -> None:
    proc = wasmship("verify", "--json", str(dist), cwd=dist.parent)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["ok"] is True
    assert document["problems"] == []
    assert document["files_checked"] == 18


def test_dist_defaults_to_the_dist_folder_here(wasmship: Run, dist: Path) -> None:
    proc = wasmship("verify", cwd=dist.parent)
    assert (proc.returncode, proc.stdout) == (0, "dist: 18 files match manifest.json\n")


def test_one_corrupt_byte_in_the_module(wasmship: Run, dist: Path) -> None:
    module = dist / files_of(dist)["main.wasm"]["path"]
    data = bytearray(module.read_bytes())
    data[len(data) // 2] ^= 0xFF
    module.write_bytes(bytes(data))
    code, lines, stderr = verify(wasmship, dist)
    assert code == 1
    assert lines_for(lines, module.name) == [
        f"error: {module.name}: sha256 differs from the manifest (changed after the build?)"
    ]
    assert len([line for line in lines if line.startswith("error:")]) == 1
    assert "verify found 1 problem;" in stderr
    assert "Traceback" not in stderr


def test_a_module_without_the_wasm_header(wasmship: Run, dist: Path) -> None:
    # A manifest that agrees with the bytes (but for the hash in the name, kept for the page).
    manifest: Any = manifest_of(dist)
    entry = manifest["targets"][0]["files"]["main.wasm"]
    for variant in entry["encodings"].values():
        (dist / variant["path"]).unlink()
    fake = b"\0asm\x02\0\0\0" + b"\0" * 64  # a future binary version is not ours to run
    (dist / entry["path"]).write_bytes(fake)
    entry.update(
        size=len(fake),
        sha256=hashlib.sha256(fake).hexdigest(),
        integrity=integrity(fake),
        encodings={},
    )
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    found = lines_for(lines, entry["path"])
    assert len(found) == 2
    assert any("not a WebAssembly module" in line for line in found)
    assert any("the hash in the name" in line for line in found)
    # The page's data-wasm-size is stale now too, and says so.
    assert any("data-wasm-size" in line for line in lines_for(lines, "index.html"))


def test_a_truncated_brotli_variant(wasmship: Run, dist: Path) -> None:
    br = dist / files_of(dist)["main.wasm"]["encodings"]["br"]["path"]
    data = br.read_bytes()
    br.write_bytes(data[: len(data) // 2])
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    found = lines_for(lines, br.name)
    assert any("size is" in line and "sha256 differs" in line for line in found)
    assert any("does not decode as br" in line for line in found)


def test_a_gzip_variant_of_other_content(wasmship: Run, dist: Path) -> None:
    entry = files_of(dist)["wasm_exec.js"]
    gz = dist / entry["encodings"]["gzip"]["path"]
    gz.write_bytes(gzip.compress(b"console.log('not the shim');\n", mtime=0))
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    found = lines_for(lines, gz.name)
    expected = f"decodes to different bytes than {entry['path']} (sha256 differs)"
    assert f"error: {gz.name}: {expected}" in found


def test_a_deleted_file(wasmship: Run, dist: Path) -> None:
    loader = files_of(dist)["loader.js"]["path"]
    (dist / loader).unlink()
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    assert lines_for(lines, loader) == [
        f"error: {loader}: missing: the manifest lists it but the dist has no such file"
    ]
    line = line_of(dist / "index.html", f'src="{loader}"')
    assert f'error: index.html:{line}: <script src="{loader}">: {loader} does not exist' in lines


def test_a_wrong_integrity_in_the_page(wasmship: Run, dist: Path) -> None:
    shim = files_of(dist)["wasm_exec.js"]
    page = dist / "index.html"
    wrong = integrity(b"something else")
    page.write_text(page.read_text().replace(shim["integrity"], wrong))
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    tag = f'<script src="{shim["path"]}">'
    line = line_of(page, tag[len("<script ") : -1])
    assert f"error: index.html:{line}: {tag}: integrity does not match {shim['path']}" in lines
    # The page itself changed after the build, which is its own problem.
    assert any("sha256 differs" in line for line in lines_for(lines, "index.html"))


def test_data_wasm_pointing_at_a_missing_file(wasmship: Run, dist: Path) -> None:
    module = files_of(dist)["main.wasm"]["path"]
    page = dist / "index.html"
    page.write_text(page.read_text().replace(f'data-wasm="{module}"', 'data-wasm="gone.wasm"'))
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    line = line_of(page, 'data-wasm="gone.wasm"')
    assert (
        f'error: index.html:{line}: <script data-wasm="gone.wasm">: gone.wasm does not exist'
        in lines
    )


def test_a_stray_file_warns_and_fails_only_when_strict(wasmship: Run, dist: Path) -> None:
    (dist / "notes").mkdir()
    (dist / "notes" / "todo.txt").write_text("remember the milk\n")
    code, lines, stderr = verify(wasmship, dist)
    assert code == 0, stderr
    assert lines_for(lines, "notes/todo.txt", "warning") == [
        "warning: notes/todo.txt: not in the manifest: it would be deployed without being verified"
    ]
    assert lines[-1].endswith("18 files match manifest.json, 1 warning")
    code, lines, stderr = verify(wasmship, dist, "--strict")
    assert code == 1
    assert len(lines_for(lines, "notes/todo.txt", "error")) == 1
    assert "verify found 1 problem" in stderr


def test_a_manifest_that_breaks_the_schema(wasmship: Run, dist: Path) -> None:
    manifest: Any = manifest_of(dist)
    del manifest["tool"]
    manifest["targets"][0]["files"]["main.wasm"]["size"] = "big"
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    schema_lines = lines_for(lines, "manifest.json")
    assert any("at $:" in line and "'tool' is a required property" in line for line in schema_lines)
    assert any(
        "at $.targets[0].files['main.wasm'].size" in line and "'big'" in line
        for line in schema_lines
    )


def test_two_problems_are_both_reported(wasmship: Run, dist: Path) -> None:
    entries = files_of(dist)
    (dist / entries["index.html"]["encodings"]["br"]["path"]).unlink()
    shim = dist / entries["wasm_exec.js"]["path"]
    shim.write_bytes(shim.read_bytes() + b"\n// appended\n")
    proc = wasmship("verify", "--json", str(dist), cwd=dist.parent)
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert document["ok"] is False
    paths = {p["path"] for p in document["problems"] if p["severity"] == "error"}
    assert {entries["index.html"]["encodings"]["br"]["path"], shim.name} <= paths
    assert document["errors"] >= 2


def test_no_dist_to_verify_exits_4(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("verify", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 4
    assert "no such folder" in proc.stderr and "nope" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = wasmship("verify", "empty", cwd=tmp_path)
    assert proc.returncode == 4
    assert "no manifest.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_manifest_that_is_not_json(wasmship: Run, dist: Path) -> None:
    (dist / "manifest.json").write_text("{ not json")
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    [line] = lines
    assert line.startswith("error: manifest.json: not valid JSON")


def add_zstd_variant(dist: Path, logical: str) -> Path:
    zstandard = pytest.importorskip("zstandard")  # a test dependency: never skips in CI
    manifest: Any = manifest_of(dist)
    entry = manifest["targets"][0]["files"][logical]
    blob = zstandard.ZstdCompressor(level=19).compress((dist / entry["path"]).read_bytes())
    path = entry["path"] + ".zst"
    (dist / path).write_bytes(blob)
    entry["encodings"]["zstd"] = {
        "path": path,
        "size": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    write_manifest(dist, manifest)
    return dist / path


def test_zstd_variants_are_decoded_when_zstandard_is_there(wasmship: Run, dist: Path) -> None:
    variant = add_zstd_variant(dist, "loader.js")
    code, lines, _ = verify(wasmship, dist, "--strict")
    assert code == 0, lines
    data = variant.read_bytes()
    variant.write_bytes(data[: len(data) // 2])
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    assert any("does not decode as zstd" in line for line in lines_for(lines, variant.name))


def test_zstd_variants_without_zstandard_are_reported_unchecked(
    wasmship: Run, dist: Path, tmp_path: Path
) -> None:
    variant = add_zstd_variant(dist, "loader.js")
    blocker = tmp_path / "no-zstandard"
    blocker.mkdir()
    (blocker / "zstandard.py").write_text("raise ImportError('zstandard is not installed')\n")
    env = base_env()
    env["PYTHONPATH"] = f"{blocker}:{env['PYTHONPATH']}"
    proc = wasmship("verify", str(dist), cwd=dist.parent, env=env)
    assert proc.returncode == 0, proc.stdout
    assert (
        f"warning: {variant.name}: cannot check the zstd variant: install the zstandard package"
        in proc.stdout.splitlines()
    )


def test_page_references_are_read_as_the_browser_would() -> None:
    html = (
        '<script defer src="js/loader.1.js" integrity="sha384-x" data-wasm="../main.wasm" '
        'data-wasm-size="9"></script><script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="/app.css"><link rel="icon" href="favicon.ico">'
    )
    refs = references(html)
    assert [(r.attribute, r.resolved) for r in refs] == [
        ("src", "js/loader.1.js"),
        ("data-wasm", "js/../main.wasm"),  # against the script's URL, as the loader does
        ("src", "https://cdn.example/x.js"),
        ("href", "/app.css"),
        ("href", "favicon.ico"),  # an icon is fetched too: a reference verify follows
    ]
    assert local_path("index.html", refs[1].resolved) == "main.wasm"
    assert local_path("index.html", "/app.css") == "app.css"
    assert local_path("sub/page.html", "../a%20b.js?v=1") == "a b.js"
    assert local_path("index.html", "../../etc/passwd") is None


def test_integrity_uses_the_strongest_algorithm_given() -> None:
    data = b"console.log(1)\n"
    good = integrity(data)
    assert integrity_matches(good, data)
    assert integrity_matches(f"sha256-wrong {good}", data)  # sha384 is stronger: it decides
    assert not integrity_matches(f"{good[:-4]}AAA=", data)
    assert not integrity_matches("md5-abc", data)


def test_verify_is_importable_without_click() -> None:
    # Library first: the check runs from Python with no CLI involved.
    code = "import wasmship.verify, sys; sys.exit('click' in sys.modules)"
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], env=base_env(), capture_output=True)
    assert proc.returncode == 0, proc.stderr


# -- the manifest against itself and against the bytes (issue 11) ----------------------------


@pytest.fixture(scope="module")
def rebuilt(built_hello: Path, go: Go, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built hello built again with another module: the first one kept, a delta from it."""
    project = tmp_path_factory.mktemp("rebuilt") / "hello"
    shutil.copytree(built_hello.parent, project)
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "-q", "--ldflags", "-X main.message=again"],
        cwd=project,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return project / "dist"


@pytest.fixture
def kept_dist(rebuilt: Path, tmp_path: Path) -> Path:
    """A private copy of the rebuilt dist (with `previous` and a dcz delta), free to damage."""
    copy = tmp_path / "dist"
    shutil.copytree(rebuilt, copy)
    return copy


def errors_of(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("error:")]


def rename(dist: Path, old: str, new: str) -> None:
    (dist / old).rename(dist / new)


def test_an_integrity_pasted_from_another_file(wasmship: Run, dist: Path) -> None:
    manifest: Any = manifest_of(dist)
    files = manifest["targets"][0]["files"]
    shim = files["wasm_exec.js"]
    right = shim["integrity"]
    shim["integrity"] = files["loader.js"]["integrity"]
    write_manifest(dist, manifest)
    code, lines, stderr = verify(wasmship, dist, "--strict")
    assert code == 1, lines
    where = "$.targets[0].files['wasm_exec.js'].integrity"
    assert errors_of(lines) == [
        f"error: {shim['path']}: {where} does not match the file (its SRI is {right})"
    ]
    assert "verify found 1 problem;" in stderr


def test_a_kept_file_with_a_wrong_integrity(wasmship: Run, kept_dist: Path) -> None:
    code, lines, _ = verify(wasmship, kept_dist, "--strict")
    assert code == 0, lines  # the rebuilt dist itself is clean
    manifest: Any = manifest_of(kept_dist)
    [kept] = manifest["previous"]
    right = kept["integrity"]
    kept["integrity"] = manifest["targets"][0]["files"]["main.wasm"]["integrity"]
    write_manifest(kept_dist, manifest)
    code, lines, _ = verify(wasmship, kept_dist, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f"error: {kept['path']}: $.previous[0].integrity does not match the file "
        f"(its SRI is {right})"
    ]


def test_a_logical_name_that_disagrees_with_its_path(wasmship: Run, dist: Path) -> None:
    manifest: Any = manifest_of(dist)
    files = manifest["targets"][0]["files"]
    files["style.css"] = files.pop("loader.css")
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    where = "$.targets[0].files['style.css'].path"
    assert errors_of(lines) == [
        f"error: {files['style.css']['path']}: {where} is neither its logical name "
        "'style.css' nor its hashed name style.<8 hex>.css"
    ]


def test_a_hashed_name_that_is_not_its_sha256(wasmship: Run, dist: Path) -> None:
    # The module renamed (with its variants) and the page following it: only the name is wrong.
    manifest: Any = manifest_of(dist)
    files = manifest["targets"][0]["files"]
    module, page = files["main.wasm"], files["index.html"]
    old, new = module["path"], "main.00000000.wasm"
    for variant in module["encodings"].values():
        rename(dist, variant["path"], variant["path"].replace(old, new))
        variant["path"] = variant["path"].replace(old, new)
    rename(dist, old, new)
    module["path"] = new
    text = (dist / "index.html").read_text()
    # The page's early fetch names the module: its hash in the policy follows it.
    (was,) = inline_of(text).scripts
    text = text.replace(old, new)
    (now,) = inline_of(text).scripts
    html = text.replace(was, now).encode()
    for rule in manifest["headers"]:
        rule["set"] = {k: v.replace(was, now) for k, v in rule["set"].items()}
    (dist / "index.html").write_bytes(html)
    for variant in page["encodings"].values():
        (dist / variant["path"]).unlink()
    page.update(
        size=len(html),
        sha256=hashlib.sha256(html).hexdigest(),
        integrity=integrity(html),
        encodings={},
    )
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f"error: {new}: $.targets[0].files['main.wasm'].path: the hash in the name, 00000000, "
        f"is not the start of its sha256 ({module['sha256'][:8]}…)"
    ]


def test_a_plain_variant_under_another_key_or_at_another_path(wasmship: Run, dist: Path) -> None:
    manifest: Any = manifest_of(dist)
    files = manifest["targets"][0]["files"]
    shim = files["wasm_exec.js"]["encodings"]
    shim["deflate"] = {**shim.pop("gzip"), "coding": "gzip"}  # decodes, but not under its key
    module = files["main.wasm"]
    gz = module["encodings"]["gzip"]
    moved = module["path"].removesuffix(".wasm") + ".gz"
    rename(dist, gz["path"], moved)
    gz["path"] = moved
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f"error: {moved}: $.targets[0].files['main.wasm'].encodings.gzip.path must be "
        f"{module['path']}.gz (its file's path + .gz)",
        f"error: {shim['deflate']['path']}: $.targets[0].files['wasm_exec.js'].encodings.deflate: "
        "a gzip variant's key must be 'gzip'",
    ]


def test_a_delta_under_another_key_or_at_another_path(wasmship: Run, kept_dist: Path) -> None:
    manifest: Any = manifest_of(kept_dist)
    module = manifest["targets"][0]["files"]["main.wasm"]
    [key] = [k for k in module["encodings"] if k.startswith("dcz-")]
    delta = module["encodings"].pop(key)
    dictionary = delta["dictionary"]
    assert key == f"dcz-{dictionary}" and dictionary == manifest["previous"][0]["sha256"]
    wrong_key = "dcz-" + "0" * 64
    module["encodings"][wrong_key] = delta
    moved = f"{module['path']}.dcz"
    rename(kept_dist, delta["path"], moved)
    right, delta["path"] = delta["path"], moved
    write_manifest(kept_dist, manifest)
    code, lines, _ = verify(wasmship, kept_dist, "--strict")
    assert code == 1
    where = f"$.targets[0].files['main.wasm'].encodings['{wrong_key}']"
    assert errors_of(lines) == [
        f"error: {moved}: {where}: a delta's key must be dcz-<its dictionary>, dcz-{dictionary}",
        f"error: {moved}: {where}.path must be {right} "
        "(its file's path, its dictionary's hash prefix, .dcz)",
    ]


def test_a_path_listed_twice(wasmship: Run, dist: Path) -> None:
    manifest: Any = manifest_of(dist)
    first = manifest["targets"][0]
    # A second target sharing the first one's files: the same entries are fine, checked once.
    manifest["targets"].append({**first, "name": "copy", "files": dict(first["files"])})
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist, "--strict")
    assert code == 0, lines
    assert lines == [f"{dist}: {len(snapshot(dist)) - 1} files match manifest.json"]
    copy = manifest["targets"][1]["files"]
    shim = copy["wasm_exec.js"] = {**first["files"]["wasm_exec.js"], "content_type": "text/plain"}
    loader = copy["loader.js"] = {**first["files"]["loader.js"], "sha256": "0" * 64}
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f"error: {loader['path']}: listed twice for different content: sha256 "
        f"{first['files']['loader.js']['sha256'][:8]}… at $.targets[0].files['loader.js'], "
        "00000000… at $.targets[1].files['loader.js']",
        f"error: {shim['path']}: listed twice with different entries: "
        "$.targets[0].files['wasm_exec.js'] and $.targets[1].files['wasm_exec.js'] "
        "(the same bytes; they differ in content_type)",
    ]


def test_a_file_is_not_a_dist_folder(wasmship: Run, hello: Path) -> None:
    proc = wasmship("verify", "go.mod", cwd=hello)
    assert proc.returncode == 4
    assert proc.stderr == (
        "wasmship: error: go.mod is a file, not a dist folder; "
        "pass the dist folder `wasmship build` wrote\n"
    )
    assert proc.stdout == ""


# -- every reference resolves (issue 12) -------------------------------------------------------

WEB_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Worker app</title>
<link rel="preconnect" href="https://fonts.example">
<link rel="stylesheet" href="css/style.css?v=2#top">
<link rel="icon" href="icons/icon.svg" type="image/svg+xml">
<link
  rel="manifest"
  href="app.webmanifest">
<script defer src="./app.js"></script>
<script type="module" src="js/module.mjs"></script>
</head>
<body>
<h1>Worker app</h1>
<img src="/icons/icon.svg" alt=""><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
<p id="out">waiting for the worker…</p>
<script>
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js");
  }
</script>
</body>
</html>
"""

WEB_FILES = {
    "index.html": WEB_PAGE,
    "app.js": (FIXTURES / "workerapp" / "web" / "app.js").read_text()
    + """
// fetch("old/config.json") was the file once: a comment is not a reference.
fetch("data/config.json").then((reply) => reply.json());
fetch(`data/${"config"}.json`);
fetch("data/" + "config.json");
window.fetch('https://api.example/status', { mode: "cors" });
""",
    "js/module.mjs": """// In a subfolder: fetch is relative to the page, new URL to the module.
const config = new URL("../data/config.json", import.meta.url);
await fetch("data/config.json");
export { config };
""",
    "sw.js": """// The service worker: its own URL is its base.
importScripts("./sw-cache.js", "data/../sw-cache.js");
""",
    "sw-cache.js": 'self.addEventListener("install", () => self.skipWaiting());\n',
    "data/config.json": '{"greeting": "hello"}\n',
    "icons/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>\n',
    "app.webmanifest": """{
  "name": "Worker app",
  "start_url": "./",
  "scope": "./",
  "icons": [
    {"src": "icons/icon.svg", "sizes": "any", "type": "image/svg+xml"}
  ]
}
""",
}


@pytest.fixture(scope="module")
def built_webapp(go: Go, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workerapp fixture with a page, scripts and a web manifest referencing each other."""
    project = tmp_path_factory.mktemp("webapp") / "workerapp"
    shutil.copytree(FIXTURES / "workerapp", project)
    # Its app.js fetches another origin: the [csp] table lists it, so the pages get the policy.
    (project / "wasmship.toml").write_text('[csp]\nconnect-src = ["https://api.example"]\n')
    for name, text in WEB_FILES.items():
        (project / "web" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "web" / name).write_text(text)
    proc = subprocess.run(
        # Names kept: these tests edit files in place (hashed names: tests/test_assets.py).
        [sys.executable, "-m", "wasmship", "build", "-q", "--static", "web", "--keep-names", "*"],
        cwd=project,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return project / "dist"


@pytest.fixture
def webapp(built_webapp: Path, tmp_path: Path) -> Path:
    """A private copy of the built web app, free to break."""
    copy = tmp_path / "dist"
    shutil.copytree(built_webapp, copy)
    return copy


def edit(dist: Path, rel: str, old: str, new: str) -> int:
    """Replace OLD with NEW in the dist's file REL as a build would have written it (its
    manifest entry follows, its variants go); the line NEW is on."""
    path = dist / rel
    text = path.read_text()
    assert text.count(old) == 1, old
    data = text.replace(old, new).encode()
    path.write_bytes(data)
    manifest: Any = manifest_of(dist)
    [entry] = [e for t in manifest["targets"] for e in t["files"].values() if e["path"] == rel]
    for variant in entry["encodings"].values():
        (dist / variant["path"]).unlink()
    entry.update(
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        integrity=integrity(data),
        encodings={},
    )
    write_manifest(dist, manifest)
    return line_of(path, new)


def test_a_web_app_whose_references_all_resolve_verifies(wasmship: Run, webapp: Path) -> None:
    # External URLs, data: URLs, template literals, concatenations and comments are not read.
    code, lines, stderr = verify(wasmship, webapp, "--strict")
    assert code == 0, lines
    assert lines == [f"{webapp}: {len(snapshot(webapp)) - 1} files match manifest.json"]
    assert stderr == ""
    # The query and fragment are not part of the file's name.
    line = edit(webapp, "index.html", 'href="css/style.css?', 'href="css/site.css?')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f'error: index.html:{line}: <link rel="stylesheet" href="css/site.css?v=2#top">: '
        "css/site.css does not exist"
    ]


@pytest.mark.parametrize(
    ("rel", "old", "new", "message"),
    [
        (
            "index.html",
            'src="./app.js"',
            'src="./ap.js"',
            '<script src="./ap.js">: ap.js does not exist',
        ),
        (
            "index.html",
            'href="icons/icon.svg"',
            'href="icons/gone.svg"',
            '<link rel="icon" href="icons/gone.svg">: icons/gone.svg does not exist',
        ),
        (
            "index.html",
            'src="/icons/icon.svg"',
            'src="/icon.svg"',
            '<img src="/icon.svg">: icon.svg does not exist',
        ),
        (
            "index.html",
            'href="app.webmanifest"',
            'href="manifest.webmanifest"',
            '<link rel="manifest" href="manifest.webmanifest">: '
            "manifest.webmanifest does not exist",
        ),
        (
            "index.html",
            'register("sw.js")',
            'register("/service-worker.js")',
            'navigator.serviceWorker.register("/service-worker.js"): '
            "service-worker.js does not exist",
        ),
        (
            "app.js",
            'fetch("data/config.json")',
            'fetch("data/settings.json")',
            'fetch("data/settings.json"): data/settings.json does not exist (if a service '
            'worker answers it, declare it: routes = ["data/settings.json"] in wasmship.toml)',
        ),
        (
            "app.js",
            'new Worker("worker.js")',
            "new Worker('workers/worker.js')",
            'new Worker("workers/worker.js"): workers/worker.js does not exist',
        ),
        (
            "js/module.mjs",
            'fetch("data/config.json")',
            'fetch("config.json")',
            'fetch("config.json"): config.json does not exist '
            "(relative to index.html, which loads it) (if a service worker answers it, "
            'declare it: routes = ["config.json"] in wasmship.toml)',
        ),
        (
            "js/module.mjs",
            'URL("../data/config.json", import.meta.url)',
            'URL("data/config.json", import.meta.url)',
            'new URL("data/config.json", import.meta.url): js/data/config.json does not exist',
        ),
        (
            "sw.js",
            '"data/../sw-cache.js"',
            '"../sw-cache.js"',
            'importScripts("../sw-cache.js") points outside the dist',
        ),
        (
            "app.webmanifest",
            '"src": "icons/icon.svg"',
            '"src": "icons/icon-512.png"',
            '$.icons[0].src "icons/icon-512.png": icons/icon-512.png does not exist',
        ),
        (
            "app.webmanifest",
            '"start_url": "./"',
            '"start_url": "app/"',
            '$.start_url "app/": app/index.html does not exist',
        ),
        (
            "app.webmanifest",
            '"scope": "./"',
            '"scope": "/app/"',
            '$.scope "/app/": app/ does not exist',
        ),
    ],
)
def test_a_broken_reference_is_an_error_at_its_line(
    wasmship: Run, webapp: Path, rel: str, old: str, new: str, message: str
) -> None:
    before = (webapp / rel).read_text()
    line = edit(webapp, rel, old, new)
    code, lines, stderr = verify(wasmship, webapp, "--strict")
    assert code == 1, lines
    inline = rel.endswith(".html") and any(old in code for _, code in read_page(before).scripts)
    # An inline script edited after the build is also outside the page's policy (issue 27).
    policy = [e for e in errors_of(lines) if "not in the Content-Security-Policy" in e]
    assert [e for e in errors_of(lines) if e not in policy] == [f"error: {rel}:{line}: {message}"]
    assert len(policy) == (1 if inline else 0), policy
    assert f"verify found {1 + len(policy)} problem" in stderr


def test_a_worker_loading_the_plain_shim_name_is_caught(wasmship: Run, webapp: Path) -> None:
    shim = files_of(webapp)["wasm_exec.js"]["path"]
    line = edit(webapp, "worker.js", f'importScripts("{shim}")', 'importScripts("wasm_exec.js")')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f'error: worker.js:{line}: importScripts("wasm_exec.js"): wasm_exec.js does not exist'
    ]


def test_linking_wasmships_manifest_as_the_web_manifest_warns(wasmship: Run, webapp: Path) -> None:
    line = edit(webapp, "index.html", 'href="app.webmanifest"', 'href="/manifest.json"')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 0, lines
    assert lines_for(lines, "index.html", "warning") == [
        f'warning: index.html:{line}: <link rel="manifest" href="/manifest.json">: '
        "manifest.json is wasmship's, not a web manifest"
    ]


def test_a_web_manifest_that_is_not_json(wasmship: Run, webapp: Path) -> None:
    line = edit(webapp, "app.webmanifest", '"scope": "./",', '"scope": "./"')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f"error: app.webmanifest:{line + 1}: not a web manifest: not valid JSON "
        "(Expecting ',' delimiter)"
    ]


def test_references_in_json_output_carry_their_line(wasmship: Run, webapp: Path) -> None:
    line = edit(webapp, "app.js", 'fetch("data/config.json")', 'fetch("data/gone.json")')
    proc = wasmship("verify", "--json", str(webapp), cwd=webapp.parent)
    assert proc.returncode == 1
    [problem] = json.loads(proc.stdout)["problems"]
    assert problem == {
        "severity": "error",
        "path": "app.js",
        "line": line,
        "message": 'fetch("data/gone.json"): data/gone.json does not exist (if a service '
        'worker answers it, declare it: routes = ["data/gone.json"] in wasmship.toml)',
    }


def test_script_calls_are_read_from_string_literals_only() -> None:
    code = """// fetch("commented.json")
/* new Worker("commented.js") */ const s = "// not a comment";
self.fetch( 'a.json' , {cache: "no-store"});
api.fetch("method-of-something-else.json");
fetch(`templated/${name}.json`); fetch("pre/" + name); fetch(name);
importScripts("one.js",
  "two.js", later);
new SharedWorker("shared.js"); new Worker(new URL("w.js", import.meta.url));
new URL("page.html", location.href); new URL("other.html", somewhere);
WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject);
"""
    calls = [(c.describe(), c.line, c.script_relative) for c in script_calls(code, first_line=3)]
    assert calls == [
        ('fetch("a.json")', 5, False),
        ('importScripts("one.js")', 8, False),
        ('importScripts("two.js")', 9, False),
        ('new SharedWorker("shared.js")', 10, False),
        ('new URL("w.js", import.meta.url)', 10, True),
        ('new URL("page.html", location.href)', 11, False),
        ('fetch("main.wasm")', 12, False),
    ]


def test_web_manifest_references_have_their_lines() -> None:
    text = '{"icons": [{"src": "a.png"},\n {"src": "b\\/c.png", "purpose": "any"}],\n'
    text += ' "shortcuts": [{"url": "x", "icons": [{"src": "n.png"}]}], "start_url": "."}'
    found = [(r.describe(), r.line) for r in web_manifest_references(text)]
    assert found == [
        ('$.icons[0].src "a.png"', 1),
        ('$.icons[1].src "b/c.png"', 2),
        ('$.start_url "."', 3),
    ]


def test_only_the_page_wasmship_wrote_needs_a_data_wasm(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    root = project("hello")
    web = root / "web"
    web.mkdir()
    (web / "about.html").write_text("<!doctype html><title>About</title><p>About this app.</p>\n")
    proc = wasmship("build", "-q", "--static", "web", cwd=root)
    assert proc.returncode == 0, proc.stderr
    code, lines, _ = verify(wasmship, root / "dist", "--strict")
    assert code == 0, lines


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_a_variant_that_decodes_to_more_than_its_file_is_stopped_there(
    wasmship: Run, dist: Path, coding: str
) -> None:
    # 256 MiB of zeros packs into a few hundred KB: decoding it whole would be a bomb.
    import zlib

    import brotli

    bomb_size = 256 << 20
    if coding == "br":
        blob = brotli.compress(bytes(bomb_size), quality=1)
    else:
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)
        blob = packer.compress(bytes(bomb_size)) + packer.flush()
    manifest: Any = manifest_of(dist)
    entry = manifest["targets"][0]["files"]["loader.js"]
    variant = entry["encodings"][coding]
    (dist / variant["path"]).write_bytes(blob)
    variant.update(size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    write_manifest(dist, manifest)
    code, lines, _ = verify(wasmship, dist)
    assert code == 1
    expected = f"decodes to more than the {entry['size']} bytes expected; stopped there"
    assert any(expected in line for line in lines_for(lines, variant["path"])), lines


def test_a_client_route_is_a_file_only_without_spa(wasmship: Run, webapp: Path) -> None:
    """A reference to a path without an extension that no file has: missing in a dist built
    without --spa; a route of the page (servers answer it with index.html) in one built with it.
    A missing file with an extension stays an error either way."""
    line = edit(webapp, "index.html", 'href="icons/icon.svg"', 'href="settings/profile"')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 1
    assert errors_of(lines) == [
        f'error: index.html:{line}: <link rel="icon" href="settings/profile">: '
        "settings/profile does not exist"
    ]
    manifest: Any = manifest_of(webapp)
    manifest["spa"] = True
    write_manifest(webapp, manifest)
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 0, lines
    edit(webapp, "index.html", 'href="settings/profile"', 'href="settings/profile.svg"')
    code, lines, _ = verify(wasmship, webapp, "--strict")
    assert code == 1
    assert "settings/profile.svg does not exist" in errors_of(lines)[0]
