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
    assert '# evening.raw = "2 MiB"' in text  # a guest is not compressed: its own size
    built = wasmship("build", "-q", "--profile", "fast", cwd=here)
    assert built.returncode == 0, built.stderr
    for name in ("morning", "evening"):
        assert (here / "dist" / f"plugin-{name}" / f"{name}.wasm").is_file()
    manifest = json.loads((here / "dist" / "manifest.json").read_text())
    [morning] = [t for t in manifest["targets"] if t["name"] == "morning"]
    exports = {e["name"] for e in morning["interface"]["exports"]}
    assert {"_initialize", "greet"} <= exports


# go-wasm-http-server's docs/: an index page linking example sites, each a page, a service
# worker that imports Go's shim from a CDN and serves api.wasm (committed, built from the
# api.go beside it); one example is a TinyGo program, one reuses another's module.
API = """\
package main

import "syscall/js"

func main() { js.Global().Set("api", "%s"); select {} }
"""


def sw(shim: str, module: str = "api.wasm") -> str:
    return (
        f"importScripts('{shim}')\n"
        "importScripts('https://cdn.jsdelivr.net/gh/nlepage/go-wasm-http-server@v2.2.1/sw.js')\n"
        "\n"
        f"const wasm = '{module}'\n"
        "addEventListener('install', (e) => e.waitUntil(caches.open('x').then((c) =>"
        " c.add(wasm))))\n"
        "registerWasmHTTPListener(wasm, { base: 'api' })\n"
    )


GO_SHIM = "https://cdn.jsdelivr.net/gh/golang/go@go1.23.1/misc/wasm/wasm_exec.js"
TINYGO_SHIM = "https://cdn.jsdelivr.net/gh/tinygo-org/tinygo@0.35.0/targets/wasm_exec.js"
SITE_PAGE = (
    "<!doctype html><script>navigator.serviceWorker.register('sw.js')\n"
    "async function hello() { return (await fetch('api/hello', {method: 'POST'})).json() }\n"
    "</script>\n"
)


def example_sites(root: Path) -> Path:
    files = {
        "package.go": "package wasmhttp\n",
        "docs/index.html": "".join(
            f'<li><a href="{n}/">{n}</a></li>\n'
            for n in ("hello", "hello-state", "hello-state-keepalive", "hello-sse")
        ),
        "docs/hello-state-keepalive/sw.js": sw(GO_SHIM, "../hello-state/api.wasm"),
        "docs/hello-state-keepalive/index.html": SITE_PAGE,
        "docs/tinygo/wasm.go": "//go:build wasm\n\n" + API % "tinygo",
        "docs/tinygo/sw.js": sw(TINYGO_SHIM),
        "docs/tinygo/index.html": SITE_PAGE,
        "docs/tinygo/api.wasm": "\0asm",
    }
    for name in ("hello", "hello-sse", "hello-state"):
        files[f"docs/{name}/api.go"] = API % name
        files[f"docs/{name}/sw.js"] = sw(GO_SHIM)
        files[f"docs/{name}/index.html"] = SITE_PAGE
        files[f"docs/{name}/api.wasm"] = "\0asm"
    return go_module(root, files)


def test_a_folder_of_example_sites_with_an_index_proposes_its_first_site(
    wasmship: Run, tmp_path: Path
) -> None:
    root = example_sites(tmp_path / "wasmhttp")
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    # docs/index.html only links the sites: each sub-site is a site of its own (hello/ first,
    # in tree order), and each module is built from the main beside it.
    assert config == {
        "static": "docs/hello",
        "routes": ["api/*"],
        "target": [{"name": "api", "package": "./docs/hello", "goos": "js"}],
    }, text
    assert '# static = "docs/hello-sse"' in text
    built = wasmship("build", "-q", "--profile", "fast", cwd=root)
    assert built.returncode == 0, built.stderr
    manifest = json.loads((root / "dist" / "manifest.json").read_text())
    [module] = [t["files"]["api.wasm"]["path"] for t in manifest["targets"]]
    assert f"const wasm = '{module}'" in (root / "dist" / "sw.js").read_text()


def test_an_example_site_adopted_from_its_own_folder(wasmship: Run, tmp_path: Path) -> None:
    root = example_sites(tmp_path / "wasmhttp")
    here = root / "docs" / "hello"
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(here)
    # The page fetches api/hello, which its service worker answers: a declared route, so the
    # CI step init prints (verify) passes on the working site.
    assert config == {
        "static": ".",
        "routes": ["api/*"],
        "target": [{"name": "api", "package": ".", "goos": "js"}],
    }, text
    built = wasmship("build", "-q", "--profile", "fast", cwd=here)
    assert built.returncode == 0, built.stderr
    assert not (here / "dist" / "api.go").exists()
    sw_text = (here / "dist" / "sw.js").read_text()
    assert "cdn.jsdelivr.net/gh/golang" not in sw_text  # the dist's own shim
    verified = wasmship("verify", "--strict", "dist", cwd=here)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_fetch_no_file_answers_without_a_service_worker_is_no_route(
    wasmship: Run, tmp_path: Path
) -> None:
    root = example_sites(tmp_path / "wasmhttp")
    here = root / "docs" / "hello"
    page = (here / "index.html").read_text()
    (here / "index.html").write_text(page.replace("navigator.serviceWorker.register('sw.js')", ""))
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(here)
    assert "routes" not in config, text


def test_a_site_that_loads_tinygos_shim_is_not_a_go_target(wasmship: Run, tmp_path: Path) -> None:
    here = example_sites(tmp_path / "wasmhttp") / "docs" / "tinygo"
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(here)
    assert "target" not in config and "package" not in config, text
    assert "TinyGo's wasm_exec.js" in text.replace("\n# ", " ")


def test_guests_that_export_through_a_library_are_reactors(wasmship: Run, tmp_path: Path) -> None:
    # go-plugin's root: the Makefile builds every guest with a pattern rule (`-o $@ ... $<`,
    # nothing literal), and each guest's //go:wasmexport lives in the library it imports; its
    # `func main() {}` is empty (a reactor's), the host's is not.
    root = go_module(
        tmp_path / "goplugin",
        {
            "plugin/plugin.go": LIBRARY,
            "Makefile": (
                "%.wasm: %.go\n\tGOOS=wasip1 GOARCH=wasm go build -o $@ -buildmode=c-shared $<\n"
            ),
            # The host imports the same package (go-plugin's generated one has both sides).
            "plugin/host.go": "//go:build !wasip1\n\npackage plugin\n\nfunc Register(string) {}\n",
            "examples/hello/main.go": (
                'package main\n\nimport "example.com/site/plugin"\n\n'
                'func main() { plugin.Register("host") }\n'
            ),
            "examples/hello/plugin-morning/morning.go": GUEST % "morning",
        },
    )
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    assert config["target"] == [
        {
            "name": "plugin-morning",
            "package": "./examples/hello/plugin-morning",
            "goos": "wasip1",
            "env": {"GOFLAGS": "-buildmode=c-shared"},
        }
    ], text
    flat = text.replace("\n# ", " ")
    assert "it imports example.com/site/plugin, which exports functions" in flat
    assert "./examples/hello: does not use syscall/js" in flat
    built = wasmship("build", "-q", "--profile", "fast", cwd=root)
    assert built.returncode == 0, built.stderr
