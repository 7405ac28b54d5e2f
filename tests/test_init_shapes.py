"""`wasmship init` on projects shaped as real ones ship, then `wasmship build` of what it wrote
with no edit (issue 23 #2): what init proposes is what the build accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Run
from tests.test_init import APP, SERVER, config_of, go_module


# A page that starts the module itself, as Go's own example page does.
def start_page(module: str, shim: str = "wasm_exec.js", title: str = "app") -> str:
    """An index.html that loads SHIM and instantiates MODULE, as Go's wasm_exec.html does."""
    return f"""\
<!doctype html>
<html>
<head><meta charset="utf-8"><title>{title}</title>
<script src="{shim}"></script>
<script>
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch("{module}"), go.importObject)
    .then((result) => go.run(result.instance));
</script>
</head>
<body><a href="#app-wasm" title="{module}">about</a></body>
</html>
"""


def init_and_build(wasmship: Run, root: Path, tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    """Init in ROOT, then build what it wrote: (the file, its TOML, the manifest)."""
    import json

    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    out = tmp_path / "out"
    built = wasmship("build", "-q", "--profile", "fast", "--out", str(out), cwd=root)
    assert built.returncode == 0, f"{text}\n{built.stderr}"
    return text, config, json.loads((out / "manifest.json").read_text())


def module_path(manifest: Any, target: str) -> str:
    """Where TARGET's module is in the dist."""
    [entry] = [t for t in manifest["targets"] if t["name"] == target]
    path: str = entry["files"][f"{target}.wasm"]["path"]
    return path


def test_a_docs_site_that_fetches_web_app_wasm(wasmship: Run, tmp_path: Path) -> None:
    # GitHub Pages from docs/, a framework's layout: the module and the shim under /web/.
    root = go_module(
        tmp_path / "hello",
        {
            "main.go": APP,
            "cmd/server/main.go": SERVER,
            "docs/index.html": (
                '<!doctype html><html><head><link rel="manifest" href="/app.webmanifest">\n'
                '<script src="/web/wasm_exec.js"></script>\n'
                '<script defer src="/web/app.js"></script></head><body></body></html>\n'
            ),
            "docs/web/app.js": (
                "const go = new Go();\n"
                'if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");\n'
                'WebAssembly.instantiateStreaming(fetch("/web/app.wasm"), go.importObject)\n'
                "  .then((r) => go.run(r.instance));\n"
            ),
            "docs/sw.js": (
                'const FILES = ["/", "/web/app.js", "/web/app.wasm", "/web/wasm_exec.js"];\n'
                'self.addEventListener("install", (e) => e.waitUntil('
                'caches.open("v1").then((c) => c.addAll(FILES))));\n'
            ),
            "docs/app.webmanifest": '{"name": "hello", "start_url": "/"}\n',
        },
    )
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config == {
        "static": "docs",
        "target": [{"name": "app", "package": ".", "goos": "js", "folder": "web"}],
    }
    assert "# docs/web/app.js:3 loads web/app.wasm (the syscall/js main nearest to" in text
    assert "# ./cmd/server: does not use syscall/js" in text
    assert module_path(manifest, "app").startswith("web/app.")
    sw = (tmp_path / "out" / "sw.js").read_text()
    assert f'"/{module_path(manifest, "app")}"' in sw


def test_a_makefile_names_the_package_that_writes_the_module(wasmship: Run, tmp_path: Path) -> None:
    # The page is not beside its package: only the Makefile says which main writes app.wasm
    # (the nearest one to the page, cmd/admin, would be the wrong guess).
    makefile = (
        "GO ?= go\n\n.PHONY: wasm\nwasm:\n"
        "\tGOOS=js GOARCH=wasm $(GO) build -trimpath \\\n"
        '\t\t-ldflags="-s -w" -o web/app.wasm ./cmd/app\n'
        "\tcp $$(go env GOROOT)/lib/wasm/wasm_exec.js web/\n"
    )
    root = go_module(
        tmp_path / "site",
        {
            "cmd/admin/main.go": APP,
            "cmd/app/main.go": APP,
            "Makefile": makefile,
            "web/index.html": start_page("app.wasm"),
        },
    )
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config["static"] == "web"
    assert config["target"] == [{"name": "app", "package": "./cmd/app", "goos": "js"}]
    assert "# web/index.html:7 loads app.wasm (Makefile:5 builds web/app.wasm)\n" in text
    assert "# ./cmd/admin: uses syscall/js, but no page in web/ loads it" in text
    assert [t["name"] for t in manifest["targets"]] == ["app"]


def test_go_generate_names_the_package(wasmship: Run, tmp_path: Path) -> None:
    generate = (
        "package main\n\n"
        "//go:generate env GOOS=js GOARCH=wasm go build -o ../../public/lib/game.wasm .\n"
    )
    root = go_module(
        tmp_path / "game",
        {
            "cmd/editor/main.go": APP,
            "cmd/game/main.go": APP,
            "cmd/game/gen.go": generate,
            "public/index.html": start_page("lib/game.wasm", shim="lib/wasm_exec.js"),
        },
    )
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert "(cmd/game/gen.go:3 builds public/lib/game.wasm)" in text
    assert config["static"] == "public"
    assert config["target"] == [
        {"name": "game", "package": "./cmd/game", "goos": "js", "folder": "lib"}
    ]
    assert module_path(manifest, "game").startswith("lib/game.")


def test_many_examples_propose_one_page_and_list_the_others(wasmship: Run, tmp_path: Path) -> None:
    # One real repository had 25 syscall/js mains and no page: 25 targets under one page
    # would build 24 modules nothing loads.
    names = [f"{n:02d}-demo" for n in range(25)]
    root = go_module(tmp_path / "examples", {f"examples/{n}/main.go": APP for n in names})
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config["target"] == [{"name": "00-demo", "package": "./examples/00-demo", "goos": "js"}]
    flat = text.replace("\n# ", " ")
    assert flat.count("uses syscall/js too, but a dist has one page") == 24
    assert "to build this one instead, comment out that [[target]] and uncomment this one" in flat
    assert [t["name"] for t in manifest["targets"]] == ["00-demo"]
    assert (tmp_path / "out" / "index.html").is_file()


def test_a_folder_of_example_sites_proposes_one_site(wasmship: Run, tmp_path: Path) -> None:
    sw = 'self.addEventListener("fetch", (e) => e.respondWith(fetch(e.request)));\n'
    files = {}
    for site in ("clock", "hello"):
        files[f"examples/{site}/main.go"] = APP
        files[f"examples/{site}/index.html"] = start_page("main.wasm", title=site).replace(
            "</head>", '<script>navigator.serviceWorker.register("sw.js")</script></head>'
        )
        files[f"examples/{site}/sw.js"] = sw
    root = go_module(tmp_path / "demos", files)
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config == {
        "static": "examples/clock",
        "target": [{"name": "main", "package": "./examples/clock", "goos": "js"}],
    }
    assert "# examples/hello/ is another site (its pages load main.wasm)" in text
    assert '# static = "examples/hello"' in text
    assert module_path(manifest, "main").startswith("main.")
    assert (tmp_path / "out" / "sw.js").is_file() and not (tmp_path / "out" / "main.go").exists()


EXPORTER = """\
package main

//go:wasmexport add
func add(a, b int32) int32 { return a + b }

func main() {}
"""

IMPORTER = """\
//go:build wasip1

package main

//go:wasmimport host log
func hostLog(n int32)

func main() { hostLog(1) }
"""

TOOL = """\
package main

import "fmt"

func main() { fmt.Println("filter") }
"""


def test_wasip1_guests_are_proposed_as_wasip1_targets(wasmship: Run, tmp_path: Path) -> None:
    root = go_module(
        tmp_path / "plugins",
        {
            "cmd/app/main.go": APP,
            "plugins/add/main.go": EXPORTER,
            "plugins/logger/main.go": IMPORTER,
            "plugins/filter/main.go": TOOL,
            "scripts/build.sh": (
                '#!/bin/sh\ncd "$(dirname "$0")/.."\n'
                "GOOS=wasip1 GOARCH=wasm go build -o out/filter.wasm ./plugins/filter\n"
            ),
            "cmd/devserver/main.go": SERVER,
        },
    )
    text, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config["target"] == [
        {"name": "app", "package": "./cmd/app", "goos": "js"},
        {
            "name": "add",
            "package": "./plugins/add",
            "goos": "wasip1",
            "env": {"GOFLAGS": "-buildmode=c-shared"},
        },
        {"name": "filter", "package": "./plugins/filter", "goos": "wasip1"},
        {"name": "logger", "package": "./plugins/logger", "goos": "wasip1"},
    ]
    assert "a server or a tool?" in text and "# ./cmd/devserver:" in text
    goos = {t["name"]: t["goos"] for t in manifest["targets"]}
    assert goos == {"app": "js", "add": "wasip1", "filter": "wasip1", "logger": "wasip1"}
    [add] = [t for t in manifest["targets"] if t["name"] == "add"]
    # A reactor: the host runs _initialize, then calls add.
    exports = {e["name"] for e in add["interface"]["exports"]}
    assert {"_initialize", "add"} <= exports and "_start" not in exports


def test_a_root_page_that_fetches_its_module_by_name(wasmship: Run, tmp_path: Path) -> None:
    # docs/adopting.md's image editor: the page names shimmer.wasm, so the one target must be
    # named shimmer (a bare `package` would build main.wasm, and the page would 404).
    root = go_module(
        tmp_path / "shimmer",
        {"cmd/shimmer/main.go": APP, "index.html": start_page("shimmer.wasm")},
    )
    _, config, manifest = init_and_build(wasmship, root, tmp_path)
    assert config == {
        "static": ".",
        "target": [{"name": "shimmer", "package": "./cmd/shimmer", "goos": "js"}],
    }
    page = (tmp_path / "out" / "index.html").read_text()
    assert f'fetch("{module_path(manifest, "shimmer")}")' in page
