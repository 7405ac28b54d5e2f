"""wasip1 plugins at build time: imports and exports read from real Go modules, the capability
vocabulary, allow lists refused with the Go package that pulled an import in, the manifest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Go, Run, base_env, manifest_of
from tests.test_errors import assert_clean_failure
from wasmship.distformat.plugin import Export, Import, ModuleInterface
from wasmship.distformat.reader import read_manifest
from wasmship.distformat.schema import schema_problems
from wasmship.plugins.allowlist import (
    BASELINE,
    DEFAULT_GRANTS,
    WASI,
    Refusal,
    allow_problem,
    allowed_keys,
    grants,
    refused,
    words_for,
)
from wasmship.plugins.origin import declared_imports, describe, is_standard
from wasmship.toolchain.dumpdep import parse_dumpdep
from wasmship.toolchain.symbols import function_package as package_of
from wasmship.wasm.binary import NotWasm
from wasmship.wasm.interface import read_interface


def wasip1_build(go: Go, project: Path, package: str, out: Path, *flags: str) -> bytes:
    subprocess.run(
        [go.binary, "build", "-trimpath", "-ldflags=-s -w", *flags, "-o", str(out), package],
        cwd=project,
        env=base_env(GOOS="wasip1", GOARCH="wasm", GOFLAGS=""),
        check=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugins fixture module, copied once."""
    dest = tmp_path_factory.mktemp("plugins") / "plugins"
    shutil.copytree(FIXTURES / "plugins", dest)
    return dest


def wasi(*names: str) -> set[str]:
    return {f"{WASI}.{name}" for name in names}


def test_go_imports_the_baseline_and_nothing_more_in_a_program_that_prints(
    go: Go, plugins: Path
) -> None:
    """The baseline of docs/plugins.md is what Go imports: if a Go release changes it, this says."""
    hello = read_interface(wasip1_build(go, plugins, "./cmd/hello", plugins / "hello.wasm"))
    assert {i.key for i in hello.imports} == wasi(*BASELINE)
    assert hello.exports == (Export("_start", "func"), Export("memory", "memory"))
    assert refused(hello, []) == ()  # an empty allow list lets a printing program build


def test_exports_include_wasmexport_functions(go: Go, plugins: Path) -> None:
    reactor = plugins / "add.wasm"
    found = read_interface(wasip1_build(go, plugins, "./cmd/add", reactor, "-buildmode=c-shared"))
    assert found.functions() == ("_initialize", "add")
    assert {i.module for i in found.imports} == {WASI}
    # Each import once, sorted: Go's runtime and syscall both import fd_write.
    assert list(found.imports) == sorted(set(found.imports))


def test_the_reader_refuses_what_is_not_a_module() -> None:
    with pytest.raises(NotWasm, match="not a WebAssembly module"):
        read_interface(b"<html>")
    with pytest.raises(NotWasm, match="runs past the end"):
        read_interface(b"\0asm\1\0\0\0\2\x7f")
    # An import section of one import whose module name claims more bytes than there are.
    with pytest.raises(NotWasm, match="runs past its section"):
        read_interface(b"\0asm\1\0\0\0\2\3\1\x09a")
    assert read_interface(b"\0asm\1\0\0\0") == ModuleInterface((), ())


def test_words_map_to_wasi_imports_and_deny_everything_else() -> None:
    keys = allowed_keys(["fs"])
    assert wasi("path_open", "fd_read", "fd_seek", "path_unlink_file") <= keys
    assert f"{WASI}.sock_accept" not in keys
    assert allowed_keys([]) == frozenset(wasi(*BASELINE))
    assert allowed_keys(["path_open"]) - allowed_keys([]) == frozenset(wasi("path_open"))
    assert "env.host_log" in allowed_keys(["env.host_log"])
    module = ModuleInterface(
        (Import(WASI, "fd_write"), Import(WASI, "path_open"), Import("env", "host_log")), ()
    )
    assert refused(module, ["stdout"]) == (Import(WASI, "path_open"), Import("env", "host_log"))
    assert refused(module, ["fs", "env.host_log"]) == ()
    assert words_for(Import(WASI, "fd_read")) == ("stdin", "fs")
    assert words_for(Import(WASI, "fd_write")) == ("stdout", "stderr", "fs")
    assert words_for(Import("env", "host_log")) == ()
    line = Refusal("p", Import(WASI, "fd_read"), "pulled in by example.com/x (x.Read → y)").line()
    assert line == (
        'wasi_snapshot_preview1.fd_read (allow "stdin" or "fs"): '
        "pulled in by example.com/x (x.Read → y)"
    )
    assert Refusal("p", Import("env", "f")).line() == 'env.f (allow "env.f")'


def test_grants_follow_the_allow_list_and_default_to_no_files() -> None:
    assert grants(None) == DEFAULT_GRANTS
    assert "fs" not in DEFAULT_GRANTS and "env" not in DEFAULT_GRANTS
    assert grants(()) == ()
    assert grants(("stdout", "fs", "exit", "wasi_snapshot_preview1.path_open")) == ("fs", "stdout")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("clock", None),
        ("path_open", None),
        ("wasi_snapshot_preview1.path_open", None),
        ("env.host_log", None),
        ("clok", "unknown capability 'clok' (did you mean 'clock'?)"),
        ("wasi_snapshot_preview1.open", "WASI preview 1 has no function 'open'"),
        (3, "allow entries are strings, not 3"),
    ],
)
def test_allow_entries_are_checked(entry: object, problem: str | None) -> None:
    found = allow_problem(entry)
    assert found is None if problem is None else problem in (found or "")


def test_the_linker_tree_names_the_package_that_pulled_an_import_in(tmp_path: Path) -> None:
    dump = "\n".join(
        [
            "# example.com/plugins/cmd/reader",
            "_ -> _rt0_wasm_wasip1",
            "_rt0_wasm_wasip1 -> runtime.rt0_go",
            "runtime.rt0_go -> main.main",
            "main.main -> example.com/plugins/files.Read",
            "example.com/plugins/files.Read -> os.ReadFile",
            "os.ReadFile -> os.OpenFile",
            "os.OpenFile -> syscall.Open",
            "syscall.Open -> syscall.path_open",
            "os.other -> syscall.path_open",  # a later edge: the tree keeps the first
            "runtime.write1 -> runtime.fd_write",
        ]
    )
    parents = parse_dumpdep(dump)
    assert parents.referrer["syscall.path_open"] == "syscall.Open"
    item = Import(WASI, "path_open")
    assert describe(item, {"syscall.path_open"}, parents, "example.com/plugins/cmd/reader") == (
        "pulled in by example.com/plugins/files "
        "(example.com/plugins/files.Read → os.ReadFile → … → syscall.path_open)"
    )
    assert describe(Import(WASI, "fd_write"), {"runtime.fd_write"}, parents, "m") == (
        "pulled in by the Go runtime (runtime.write1 → runtime.fd_write)"
    )
    assert describe(item, {"not.reached"}, parents, "m") == ""
    assert package_of("example.com/x.(*T).Read") == "example.com/x"
    assert package_of("example.com/x.F[example.com/y.T]") == "example.com/x"
    assert package_of("type:*example.com/x.T") == "example.com/x"
    assert package_of('go:string."x"') == "runtime"
    assert (is_standard("internal/poll"), is_standard("example.com/x"), is_standard("main")) == (
        True,
        False,
        False,
    )
    source = tmp_path / "host.go"
    source.write_text(
        "package host\n\n//go:wasmimport env host_log\n//go:noescape\nfunc hostLog(p uint32)\n"
    )
    package = {"ImportPath": "example.com/host", "Name": "host", "Dir": str(tmp_path)}
    assert declared_imports([{**package, "GoFiles": ["host.go"]}]) == {
        "env.host_log": {"example.com/host.hostLog"}
    }


PLUGIN_CONFIG = """\
[[target]]
name = "reader"
package = "./cmd/reader"
goos = "wasip1"
allow = {allow}
"""


def test_a_plugin_importing_more_than_allowed_is_refused_naming_the_package(
    plugins: Path, wasmship: Run, tmp_path: Path
) -> None:
    project = tmp_path / "refused"
    shutil.copytree(plugins, project, ignore=shutil.ignore_patterns("*.wasm"))
    (project / "wasmship.toml").write_text(PLUGIN_CONFIG.format(allow='["stdout", "clock"]'))
    proc = wasmship("build", cwd=project)
    assert_clean_failure(
        proc,
        1,
        'target \'reader\' imports what its allow list (["stdout", "clock"]) does not grant:',
        '  wasi_snapshot_preview1.path_open (allow "fs"): pulled in by example.com/plugins/files '
        "(example.com/plugins/files.Read → os.ReadFile → … → syscall.path_open)\n",
        "Add the capability to the target's allow list in wasmship.toml",
    )
    for name in ("fd_read", "fd_filestat_get", "path_filestat_get"):
        assert f"wasi_snapshot_preview1.{name} (allow " in proc.stderr
    assert "wasi_snapshot_preview1.fd_write" not in proc.stderr  # the baseline is never refused
    assert not (project / "dist").exists()

    (project / "wasmship.toml").write_text(PLUGIN_CONFIG.format(allow='["stdout", "fs"]'))
    proc = wasmship("build", "-q", cwd=project)
    assert proc.returncode == 0, proc.stderr
    manifest = manifest_of(project / "dist")
    assert not list(schema_problems(manifest))
    interface = manifest["targets"][0]["interface"]
    assert interface["allow"] == ["stdout", "fs"]
    assert {"module": WASI, "name": "path_open", "kind": "func"} in interface["imports"]
    assert interface["exports"] == [
        {"name": "_start", "kind": "func"},
        {"name": "memory", "kind": "memory"},
    ]
    typed = read_manifest(project / "dist").targets[0].interface
    assert typed is not None and typed.allow == ("stdout", "fs")
    assert Import(WASI, "path_open") in typed.imports


@pytest.mark.parametrize(
    ("table", "line", "message"),
    [
        ('goos = "wasip1"\nallow = ["clok"]\n', 5, "unknown capability 'clok' (did you mean"),
        ('goos = "wasip1"\nallow = "fs"\n', 5, "allow must be a list"),
        ('allow = ["fs"]\n', 4, "allow is for wasip1 targets"),
    ],
)
def test_allow_lists_are_checked_in_wasmship_toml(
    plugins: Path, wasmship: Run, table: str, line: int, message: str
) -> None:
    (plugins / "wasmship.toml").write_text(
        f'[[target]]\nname = "reader"\npackage = "./cmd/reader"\n{table}'
    )
    try:
        proc = wasmship("build", cwd=plugins)
    finally:
        (plugins / "wasmship.toml").unlink()
    assert_clean_failure(proc, 2, f"wasmship.toml:{line}: ", message)


def test_smoke_usage_errors_need_no_dist(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("smoke", "--call", cwd=tmp_path)
    assert_clean_failure(proc, 2, "Error: --call needs the name of an exported function")
    proc = wasmship("smoke", "--memory", "1KiB", cwd=tmp_path)
    assert_clean_failure(proc, 2, "--memory: 1024 bytes is less than one 64 KiB page")
