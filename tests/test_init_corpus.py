"""`wasmship init` then `wasmship build` on projects shaped as the corpus's real ones are
(tests/corpus/projects.toml): what made each of them need a hand edit, with no network."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.test_init import APP, config_of, go_module


def test_init_in_a_package_folder_writes_that_folders_file(wasmship: Run, tmp_path: Path) -> None:
    # ebiten's examples/flappy, fyne's cmd/hello: the maintainer runs init in the game's folder
    # of a module holding many mains; the project is that folder, as for `go build` there.
    root = go_module(
        tmp_path / "engine",
        {f"examples/{n}/main.go": APP for n in ("2048", "flappy", "blocks")},
    )
    here = root / "examples" / "flappy"
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert not (root / "wasmship.toml").exists()
    text, config = config_of(here)
    assert config == {"package": "."}, text
    assert "2048" not in text and "blocks" not in text
    out = here / "dist"
    built = wasmship("build", "-q", "--profile", "fast", cwd=here)
    assert built.returncode == 0, built.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    packages = [t["package"] for t in manifest["targets"]]
    assert packages == ["example.com/site/examples/flappy"], packages


# go-plugin's examples/helloworld: the guests' wasmexport sits in a library package, and both
# guests also build for js; only the go:generate lines and the host's Load calls say what they are.
GUEST = """\
//go:build (js && wasm) || wasip1

package main

import "example.com/site/plugin"

func main() {}

func init() { plugin.Register("%s") }
"""

LIBRARY = """\
//go:build wasip1

package plugin

var greeting string

// Register sets what greet answers.
func Register(text string) { greeting = text }

//go:wasmexport greet
func greet() int32 { return int32(len(greeting)) }
"""

HOST = """\
package main

import (
\t"fmt"
\t"os"
)

//go:generate go build -o plugin-morning/morning.wasm -buildmode=c-shared plugin-morning/morning.go
//go:generate go build -o plugin-evening/evening.wasm -buildmode=c-shared plugin-evening/evening.go

func main() {
\tfor _, path := range []string{"plugin-morning/morning.wasm", "plugin-evening/evening.wasm"} {
\t\tif _, err := os.Stat(path); err != nil {
\t\t\tfmt.Println(err)
\t\t}
\t}
}
"""


def test_plugins_a_host_reads_by_path_keep_that_path(wasmship: Run, tmp_path: Path) -> None:
    root = go_module(
        tmp_path / "goplugin",
        {
            "plugin/plugin.go": LIBRARY,
            "examples/helloworld/main.go": HOST,
            "examples/helloworld/plugin-morning/morning.go": GUEST % "morning",
            "examples/helloworld/plugin-evening/evening.go": GUEST % "evening",
            "cmd/protoc-gen-plugin/main.go": 'package main\n\nfunc main() { println("gen") }\n',
        },
    )
    here = root / "examples" / "helloworld"
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(here)
    reactor = {"GOFLAGS": "-buildmode=c-shared"}
    assert config["target"] == [
        {
            "name": name,
            "package": f"./plugin-{name}",
            "goos": "wasip1",
            "folder": f"plugin-{name}",
            "hash": False,
            "env": reactor,
        }
        for name in ("evening", "morning")
    ], text
    assert "main.go:12 reads it there" in text
    built = wasmship("build", "-q", "--profile", "fast", cwd=here)
    assert built.returncode == 0, built.stderr
    for name in ("morning", "evening"):
        assert (here / "dist" / f"plugin-{name}" / f"{name}.wasm").is_file()
    manifest = json.loads((here / "dist" / "manifest.json").read_text())
    [morning] = [t for t in manifest["targets"] if t["name"] == "morning"]
    exports = {e["name"] for e in morning["interface"]["exports"]}
    assert {"_initialize", "greet"} <= exports
