"""The one place that talks to Go: the linker's graph, the symbol rule size and plugins share,
the `go build` command lines, the `go list -json` reader, and a build that stays quiet after
`wasmship size`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Go, Run, base_env
from wasmship.distformat.plugin import Import
from wasmship.errors import DistError, UsageError
from wasmship.plugins.origin import describe
from wasmship.size.symbols import owner
from wasmship.toolchain.buildline import (
    OWN_LINK_KEY,
    BuildLine,
    check_go_flags,
    check_recorded_flags,
)
from wasmship.toolchain.dumpdep import is_dumpdep_line, parse_dumpdep, path_to
from wasmship.toolchain.golist import json_stream
from wasmship.toolchain.symbols import function_package, package_of

DUMP = (
    "# example.com/app\n"
    "_ -> _rt0_wasm_wasip1\n"
    "_rt0_wasm_wasip1 -> main.main\n"
    "main.main -> example.com/x%2ev2.(*T).Read <UsedInIface>\n"
    "example.com/x%2ev2.(*T).Read <UsedInIface> -> go:itab.*os.File,io.Reader\n"
    "go:itab.*os.File,io.Reader -> os.(*File).Read <UsedInIface>\n"
    "os.(*File).Read <UsedInIface> -> syscall.fd_read\n"
)


def test_the_graph_drops_the_linkers_annotations() -> None:
    graph = parse_dumpdep(DUMP)
    assert not any("<" in s for s in graph.reached)
    assert graph.referrer["syscall.fd_read"] == "os.(*File).Read"
    assert graph.referrer["os.(*File).Read"] == "go:itab.*os.File,io.Reader"
    assert "_" not in graph.reached and "_rt0_wasm_wasip1" not in graph.referrer
    assert path_to("syscall.fd_read", graph)[0] == "_rt0_wasm_wasip1"
    assert is_dumpdep_line("main.main -> os.Exit") and not is_dumpdep_line("# example.com/app")


def test_size_and_plugins_name_a_symbols_package_by_one_rule() -> None:
    graph = parse_dumpdep(DUMP)
    # %2e is a dot of the last path element; an itab is its concrete type's package.
    assert package_of("example.com/x%2ev2.(*T).Read") == "example.com/x.v2"
    assert package_of("go:itab.*os.File,io.Reader") == "os"
    assert package_of("example.com/x.F[example.com/y.T].func1") == "example.com/x"
    assert function_package('go:string."x"') == "runtime"
    assert owner("example.com/x%2ev2.(*T).Read", graph) == "example.com/x.v2"
    # plugins: the deepest function of the program's own packages names the origin.
    origin = describe(Import("wasi_snapshot_preview1", "fd_read"), {"syscall.fd_read"}, graph, "m")
    assert origin.startswith("pulled in by example.com/x.v2 (example.com/x%2ev2.(*T).Read → ")


def test_one_description_gives_every_build_line(tmp_path: Path) -> None:
    line = BuildLine("go", "./cmd/app", ("a", "b"), "-X main.v=1", ("-v",))
    out = tmp_path / "m.wasm"
    assert line.release(out) == [
        *("go", "build", "-trimpath", "-o", str(out), "-tags", "a,b"),
        *("-ldflags", "-s -w -X main.v=1", "-v", "--", "./cmd/app"),
    ]
    named = line.with_names(out)
    assert named[named.index("-ldflags") + 1] == "-X main.v=1 -w -dumpdep"
    assert OWN_LINK_KEY in named and named[-2:] == ["--", "./cmd/app"]
    origins = line.with_origins(out)
    assert origins[origins.index("-ldflags") + 1] == "-s -w -X main.v=1 -dumpdep"
    assert "-gcflags=all=-l" in origins and OWN_LINK_KEY in origins
    unstripped = BuildLine("go", ".", strip=False)
    assert "-ldflags" not in unstripped.release(out)


@pytest.mark.parametrize(
    ("flags", "refused"),
    [
        (("-o", "../x.wasm"), "-o"),
        (("-o=../x.wasm",), "-o"),
        (("--o", "x"), "-o"),
        (("-v", "-gcflags", "all=-N", "-o", "x"), "-o"),
        (("-trimpath=false",), "-trimpath"),
        (("-ldflags=-X main.v=1",), "-ldflags"),
        (("-tags", "dev"), "-tags"),
        (("-buildmode=c-shared",), "-buildmode"),
        (("-C", ".."), "-C"),
        (("-n",), "-n"),
        (("./other",), "the package"),
        (("--", "./other"), "the package"),
    ],
)
def test_go_flags_that_wasmship_owns_or_that_move_the_output_are_refused(
    flags: tuple[str, ...], refused: str
) -> None:
    with pytest.raises(UsageError, match=r"refused|the package") as caught:
        check_go_flags(flags)
    assert refused in str(caught.value)
    with pytest.raises(UsageError):  # whoever makes the line: a manifest's go_flags too
        BuildLine("go", ".", go_flags=flags)


def test_other_go_flags_pass_with_their_values() -> None:
    check_go_flags(("-v", "-x", "-race", "-gcflags", "all=-N -l", "-mod=vendor", "-p", "1"))
    check_go_flags(("-modfile", "alt.mod", "-buildvcs", "-overlay", "o.json", "-buildvcs=false"))


def test_go_list_prints_objects_one_after_another() -> None:
    assert json_stream('{"A": 1}\n{"A": 2}\n') == [{"A": 1}, {"A": 2}]
    assert json_stream("  \n") == []
    with pytest.raises(ValueError):
        json_stream('{"A": ')


@pytest.mark.toolchain
def test_a_build_after_size_is_quiet_and_go_errors_still_show(
    wasmship: Run, go: Go, tmp_path: Path
) -> None:
    project = tmp_path / "uptodate"
    shutil.copytree(FIXTURES / "uptodate", project)
    first = wasmship("build", "-q", cwd=project)
    assert first.returncode == 0, first.stderr
    size = wasmship("size", cwd=project)
    assert size.returncode == 0, size.stderr
    # Go replays a cached link's output when the module is up to date: never size's -dumpdep.
    again = wasmship("build", "-q", cwd=project)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    (project / "main.go").write_text("package main\n\nfunc main() { undefined() }\n")
    broken = wasmship("build", "-q", cwd=project)
    plain = subprocess.run(
        [go.binary, "build", "-o", str(tmp_path / "plain.wasm"), "."],
        cwd=project,
        env=base_env(GOOS="js", GOARCH="wasm", GOFLAGS=""),
        capture_output=True,
        text=True,
    )
    assert broken.returncode == 1 and plain.returncode == 1
    assert "undefined: undefined" in plain.stderr
    assert plain.stderr.strip() in broken.stderr
    assert not any(is_dumpdep_line(line) for line in broken.stderr.splitlines())


def test_size_never_runs_a_program_a_manifest_names_in_its_go_flags(
    wasmship: Run, tmp_path: Path
) -> None:
    # A dist is data: `size` rebuilds with the flags its manifest records, but none that makes
    # go run another program (-toolexec) or read another file (-overlay, -modfile).
    project = tmp_path / "uptodate"
    shutil.copytree(FIXTURES / "uptodate", project)
    assert wasmship("build", "-q", cwd=project).returncode == 0
    path = project / "dist" / "manifest.json"
    marker = tmp_path / "ran"
    manifest = json.loads(path.read_text())
    manifest["targets"][0]["flags"]["go_flags"] = ["-toolexec", f"/usr/bin/touch {marker}"]
    path.write_text(json.dumps(manifest))
    proc = wasmship("size", cwd=project)
    assert proc.returncode == 4, proc.stderr
    assert "records the go build flag '-toolexec'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_flags_recorded_in_a_manifest_are_only_those_that_run_nothing() -> None:
    check_recorded_flags(["-gcflags", "all=-N -l", "-mod=mod", "-v", "-asmflags="], "m")
    for flags in (["-toolexec=x"], ["-overlay", "o.json"], ["-exec", "x"], ["./pkg"], ["-pgo=f"]):
        with pytest.raises(DistError, match="does not run from a file"):
            check_recorded_flags(flags, "m")
