"""`wasmship init` on real Go modules: which main packages become targets, which web folder."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.test_errors import assert_clean_failure

APP = """\
package main

import "syscall/js"

func main() { js.Global().Get("document").Set("title", "app") }
"""

# Uses syscall/js only through a package of its module.
INDIRECT = """\
package main

import "example.com/site/internal/dom"

func main() { dom.SetTitle("indirect") }
"""

DOM = """\
package dom

import "syscall/js"

// SetTitle sets the page's title.
func SetTitle(title string) { js.Global().Get("document").Set("title", title) }
"""

# net/http imports syscall/js itself on js/wasm: a dependency list alone would count it.
SERVER = """\
package main

import "net/http"

func main() { _ = http.ListenAndServe(":8080", http.FileServer(http.Dir("web"))) }
"""

PAGE = "<!doctype html><title>site</title><script src=wasm_exec.js></script>\n"


def go_module(root: Path, files: dict[str, str]) -> Path:
    """A Go module example.com/site at ROOT holding FILES (relative path -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/site\n\ngo 1.21\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def config_of(root: Path) -> tuple[str, dict[str, object]]:
    """The wasmship.toml init wrote under ROOT: its text and what TOML makes of it."""
    text = (root / "wasmship.toml").read_text()
    return text, tomllib.loads(text)


def test_init_targets_only_packages_that_use_syscall_js(wasmship: Run, tmp_path: Path) -> None:
    root = go_module(
        tmp_path / "site",
        {
            "cmd/app/main.go": APP,
            "cmd/indirect/main.go": INDIRECT,
            "internal/dom/dom.go": DOM,
            "cmd/devserver/main.go": SERVER,
        },
    )
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    # A dist has one page: one browser main gets it, the other (found through its package's
    # use of syscall/js) is listed with how to switch (issue 23 #2: was a second target no page
    # loaded).
    assert config["target"] == [{"name": "app", "package": "./cmd/app", "goos": "js"}]
    assert "package" not in config and "static" not in config
    assert "# ./cmd/indirect: uses syscall/js too, but a dist has one page, which starts" in text
    assert '# package = "./cmd/indirect"' in text
    candidate = "# ./cmd/devserver: does not use syscall/js (a server or a tool?)\n# [[target]]\n"
    assert candidate in text and '# package = "./cmd/devserver"' in text
    assert "target app (./cmd/app): uses syscall/js" in proc.stdout
    assert "commented out ./cmd/devserver: does not use syscall/js" in proc.stdout
    assert "warning" not in proc.stderr
    assert "wasmship build --quiet" in proc.stdout and "wasmship verify dist" in proc.stdout

    # The file as written builds: the page's target, and not the server.
    out = tmp_path / "out"
    built = wasmship("build", "-q", "--profile", "fast", "--out", str(out), cwd=root)
    assert built.returncode == 0, built.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["targets"]] == ["app"]
    assert not (root / "dist").exists()


def test_init_adopts_a_web_folder_with_a_page(wasmship: Run, tmp_path: Path) -> None:
    root = go_module(
        tmp_path / "site",
        {"main.go": APP, "web/index.html": PAGE, "web/app.css": "body{}\n"},
    )
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    assert config == {"static": "web", "package": "."}
    assert '\nstatic = "web" ' in text and "public" not in text
    assert 'static = "web"' in proc.stdout


@pytest.mark.parametrize(
    ("files", "commented"),
    [
        pytest.param(
            {"web/index.html": PAGE, "public/index.html": PAGE},
            [
                "# web/ and public/ each have an index.html: keep the one that is your page",
                '# static = "web"',
                '# static = "public"',
            ],
            id="two-pages",
        ),
        pytest.param(
            {"public/robots.txt": "User-agent: *\n"},
            ["# public/ has no index.html", '# static = "public"'],
            id="no-page",
        ),
    ],
)
def test_init_comments_out_a_web_folder_that_is_not_obvious(
    wasmship: Run, tmp_path: Path, files: dict[str, str], commented: list[str]
) -> None:
    root = go_module(tmp_path / "site", {"main.go": APP, **files})
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    assert config == {"package": "."}
    for line in commented:
        assert line in text
    assert "commented out static" in proc.stdout


def test_init_without_a_browser_package_writes_only_candidates(
    wasmship: Run, tmp_path: Path
) -> None:
    root = go_module(tmp_path / "site", {"cmd/devserver/main.go": SERVER})
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "warning: no browser target found: no main package" in proc.stderr
    assert "uses syscall/js" in proc.stderr
    text, config = config_of(root)
    assert config == {}
    assert "# No main package here uses syscall/js" in text
    assert "# ./cmd/devserver: does not use syscall/js (a server or a tool?)" in text
    assert "commented out ./cmd/devserver" in proc.stdout

    again = wasmship("init", cwd=root)
    assert_clean_failure(again, 1, "already exists", "never overwrites")
    assert (root / "wasmship.toml").read_text() == text


def test_init_json_is_one_document_and_quiet_prints_nothing(wasmship: Run, tmp_path: Path) -> None:
    root = go_module(
        tmp_path / "site",
        {"cmd/app/main.go": APP, "cmd/devserver/main.go": SERVER, "web/index.html": PAGE},
    )
    proc = wasmship("init", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document == {
        "ok": True,
        "path": str(root / "wasmship.toml"),
        "targets": [
            {
                "name": "app",
                "package": "./cmd/app",
                "goos": "js",
                "folder": "",
                "why": "uses syscall/js",
            }
        ],
        "candidates": [
            {
                "name": "devserver",
                "package": "./cmd/devserver",
                "reason": "does not use syscall/js (a server or a tool?)",
            }
        ],
        "static": [{"path": "web", "reason": None}],
        "routes": [],
        "warnings": [],
    }
    (root / "wasmship.toml").unlink()
    quiet = wasmship("init", "-q", cwd=root)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert (root / "wasmship.toml").is_file()


def test_init_json_carries_the_warning_and_quiet_still_shows_it(
    wasmship: Run, tmp_path: Path
) -> None:
    root = go_module(tmp_path / "site", {"cmd/devserver/main.go": SERVER})
    proc = wasmship("init", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    [warning] = json.loads(proc.stdout)["warnings"]
    assert warning.startswith("no browser target found: no main package")
    (root / "wasmship.toml").unlink()
    quiet = wasmship("init", "--quiet", cwd=root)
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert quiet.stderr.startswith("wasmship: warning: no browser target found")
    again = wasmship("init", "--json", cwd=root)
    assert again.returncode == 1
    assert json.loads(again.stdout)["exit_code"] == 1


def build_as_proposed(wasmship: Run, root: Path, tmp_path: Path) -> dict[str, object]:
    """`wasmship build` of what init wrote under ROOT, with no edit: the manifest."""
    out = tmp_path / "out"
    built = wasmship("build", "-q", "--profile", "fast", "--out", str(out), cwd=root)
    assert built.returncode == 0, built.stderr
    manifest: dict[str, object] = json.loads((out / "manifest.json").read_text())
    return manifest


ROOT_PAGE = """\
<!doctype html>
<title>shimmer</title>
<script src="wasm_exec.js"></script>
<script>
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject)
    .then((r) => go.run(r.instance));
</script>
"""


def test_init_proposes_the_root_page_as_static_dot(wasmship: Run, tmp_path: Path) -> None:
    # A page at the repository's root (issue 23: init said static = "." was refused).
    root = go_module(
        tmp_path / "site",
        {"main.go": APP, "index.html": ROOT_PAGE, "style.css": "body{}\n", "Makefile": "x:\n"},
    )
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    assert config == {"static": ".", "package": "."}
    assert "refuse" not in text and "WARNING" not in text
    manifest = build_as_proposed(wasmship, root, tmp_path)
    out = tmp_path / "out"
    page = (out / "index.html").read_text()
    [module] = [p.name for p in out.glob("main.*.wasm")]
    assert f'fetch("{module}")' in page
    assert not (out / "main.go").exists() and (out / "style.css").is_file()
    assert [t["name"] for t in manifest["targets"]] == ["main"]  # type: ignore[index]


def test_names_from_the_project_never_break_out_of_their_toml_string() -> None:
    # A folder comes from a page's URL, unquoted: %0A is a newline, %22 a quote.
    from wasmship.scaffold import MainPackage, StaticFolder
    from wasmship.scaffold.render import render_config

    hostile = 'web"\nout = "/etc'
    package = MainPackage("app", './cmd/a"b', folder=hostile, why="x.html:1 loads\nout=1")
    text = render_config([package], [StaticFolder('s"\nhash = false')])
    config = tomllib.loads(text)
    assert config["static"] == 's"\nhash = false' and "out" not in config and "hash" not in config
    assert config["target"] == [
        {"name": "app", "package": './cmd/a"b', "goos": "js", "folder": hostile}
    ]
