"""Never a silent broken deploy: every `.wasm` and `wasm_exec.js` reference of a project's web
folder names a built module, the shim or a file of the dist, or the build stops before writing
anything; only the places a browser reads URLs from are read (never a title, alt or text); and
`verify` says the same of a dist, in its last line too (issue 23, section 1)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import Knobs, Serve
from tests.conftest import Run, snapshot
from tests.test_errors import assert_clean_failure
from wasmship.distformat.digests import integrity

if TYPE_CHECKING:
    from playwright.sync_api import Page

APP_FOLDER = """static = "public"

[[target]]
name = "app"
package = "."
folder = "web"
"""

PAGE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="description" content="Loads web/app.wasm and other.wasm">
<title>app.wasm docs</title>
<script src="/web/wasm_exec.js"></script>
<script type="module" src="/web/app.js"></script>
</head>
<body>
<h1 id="app.wasm" class="main.wasm">What app.wasm does</h1>
<p><a href="#app-wasm" title="app.wasm">about app.wasm</a>
<img src="icon.svg" alt="diagram of app.wasm and wasm_exec.js"></p>
</body>
</html>
"""

APP_JS = """const go = new Go();
const source = await WebAssembly.instantiateStreaming(fetch("/web/app.wasm"), go.importObject);
go.run(source.instance);
"""


def site(
    hello: Path, app_js: str = APP_JS, config: str | None = APP_FOLDER, shim: str = "/web/"
) -> Path:
    """The hello module with a framework's web folder: public/index.html, public/web/app.js
    (the page loads the shim from SHIM)."""
    web = hello / "public" / "web"
    web.mkdir(parents=True)
    (hello / "public" / "index.html").write_text(
        PAGE.replace("/web/wasm_exec.js", shim + "wasm_exec.js")
    )
    (hello / "public" / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (web / "app.js").write_text(app_js)
    if config is not None:
        (hello / "wasmship.toml").write_text(config)
    return hello


def test_title_alt_text_id_and_meta_content_are_not_urls(hello: Path, wasmship: Run) -> None:
    # A docs page names the module in a title, an alt, an id, a class and a meta description:
    # none of them is a URL, so none may stop the build (it did: "'app.wasm' names app.wasm").
    project = site(hello)
    proc = wasmship("build", "-q", cwd=project)
    assert proc.returncode == 0, proc.stderr
    page = (project / "dist" / "index.html").read_text()
    assert 'title="app.wasm"' in page and 'alt="diagram of app.wasm and wasm_exec.js"' in page
    assert 'id="app.wasm" class="main.wasm"' in page
    assert "/web/wasm_exec." in page and 'src="/web/wasm_exec.js"' not in page


def test_a_module_no_target_builds_stops_the_build_before_anything_is_written(
    hello: Path, wasmship_inproc: Run
) -> None:
    # The go-app case: app.js fetches /web/app.wasm, the only target is main at the root. The
    # build used to exit 0 with the reference left as it was: a 404 in the browser.
    project = site(hello, config='static = "public"\n', shim="/")
    proc = wasmship_inproc("build", "-q", cwd=project)
    assert_clean_failure(
        proc,
        2,
        "public/web/app.js:2:",
        "'/web/app.wasm'",
        'the target is "main" (main.wasm at the root)',
        'name the target "app" and set folder = "web"',
    )
    assert not (project / "dist").exists()


def test_a_module_named_by_a_string_constant_or_in_pieces_must_exist(
    hello: Path, wasmship_inproc: Run, wasmship: Run
) -> None:
    # A constant (not a call wasmship knows) and a URL built from pieces: both are read.
    constant = 'const WASM = "./engine.wasm";\nfetch(WASM);\n'
    project = site(hello, app_js=constant)
    proc = wasmship_inproc("build", "-q", cwd=project)
    # Resolved as a browser does: against index.html, the page that loads app.js.
    needles = ("public/web/app.js:1:", "'./engine.wasm' names engine.wasm,", 'target "engine"')
    assert_clean_failure(proc, 2, *needles)
    pieces = 'const base = location.pathname;\nfetch(base + "engine.wasm");\n'
    (project / "public" / "web" / "app.js").write_text(pieces)
    proc = wasmship_inproc("build", "-q", cwd=project)
    assert_clean_failure(proc, 2, "public/web/app.js:2:", "engine.wasm")
    # A module of the web folder itself is a file of the dist: that resolves.
    (project / "public" / "web" / "engine.wasm").write_bytes(b"\0asm\1\0\0\0")
    proc = wasmship("build", "-q", cwd=project)
    assert proc.returncode == 0, proc.stderr


def test_a_worker_importing_a_shim_from_another_folder_is_refused(
    hello: Path, wasmship_inproc: Run
) -> None:
    worker = 'importScripts("/lib/wasm_exec.js");\nconst m = "/web/app.wasm";\n'
    project = site(hello)
    (project / "public" / "worker.js").write_text(worker)
    proc = wasmship_inproc("build", "-q", cwd=project)
    assert_clean_failure(proc, 2, "public/worker.js:1:", "'/lib/wasm_exec.js'")


# The scripts these tests edit in the dist keep their names (a hashed name would not match).
KEEP_SCRIPTS = 'keep-names = ["*.js"]\n'


def _edit_in_dist(dist: Path, rel: str, text: str) -> None:
    """Change a file of DIST and its manifest entry with it (no variants): a dist whose bytes
    all match its manifest, whose reference is what is wrong."""
    data = text.encode()
    (dist / rel).write_bytes(data)
    for variant in dist.glob(f"{rel}.*"):
        variant.unlink()
    manifest: Any = json.loads((dist / "manifest.json").read_text())
    for target in manifest["targets"]:
        for entry in target["files"].values():
            if entry["path"] == rel:
                entry.update(
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    integrity=integrity(data),
                    encodings={},
                )
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def test_verify_names_a_module_reference_no_file_of_the_dist_serves(
    hello: Path, wasmship_inproc: Run, wasmship: Run
) -> None:
    project = site(hello)
    config = project / "wasmship.toml"
    config.write_text(KEEP_SCRIPTS + config.read_text())  # top level, before [[target]]
    proc = wasmship("build", "-q", cwd=project)
    assert proc.returncode == 0, proc.stderr
    dist = project / "dist"
    before = snapshot(dist)
    assert wasmship_inproc("verify", "--strict", "dist", cwd=project).returncode == 0
    _edit_in_dist(dist, "web/app.js", 'const url = "/web/app.wasm";\nfetch(url);\n')
    proc = wasmship_inproc("verify", "--strict", "dist", cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "web/app.js:1:" in proc.stdout and "web/app.wasm" in proc.stdout, proc.stdout
    # The last line says what failed: a reference, not the manifest.
    last = proc.stderr.strip().splitlines()[-1]
    assert "1 reference names no file of the dist" in last, last
    assert "does not match its manifest" not in last, last
    assert before  # the dist was whole before the edit


# --- section 4: routes a service worker answers ------------------------------------------------

SW_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>sw app</title>
<script src="main.js"></script></head><body></body></html>
"""
SW_MAIN = """navigator.serviceWorker.register("sw.js");
fetch("api/hello").then((r) => r.text()).then((t) => { document.body.dataset.hello = t; });
fetch("data/missing.json");
"""
SW = """importScripts("wasm_exec.js");
self.addEventListener("fetch", (event) => {
  if (new URL(event.request.url).pathname.endsWith("/api/hello")) {
    event.respondWith(new Response("hello from the worker"));
  }
});
"""


def sw_site(hello: Path, routes: str) -> Path:
    web = hello / "web"
    web.mkdir()
    (web / "index.html").write_text(SW_PAGE)
    (web / "main.js").write_text(SW_MAIN)
    (web / "sw.js").write_text(SW)
    (web / "data").mkdir()
    (hello / "wasmship.toml").write_text(f'static = "web"\n{KEEP_SCRIPTS}{routes}')
    return hello


def test_routes_a_service_worker_answers_are_declared_and_recorded(
    hello: Path, wasmship: Run, wasmship_inproc: Run
) -> None:
    project = sw_site(hello, "")
    assert wasmship("build", "-q", cwd=project).returncode == 0
    proc = wasmship_inproc("verify", "dist", cwd=project)
    assert proc.returncode == 1
    assert (
        'main.js:2: fetch("api/hello"): api/hello does not exist (if a service worker answers '
        'it, declare it: routes = ["api/hello"] in wasmship.toml)'
    ) in proc.stdout, proc.stdout
    (project / "wasmship.toml").write_text(f'static = "web"\n{KEEP_SCRIPTS}routes = ["/api/*"]\n')
    assert wasmship("build", "-q", cwd=project).returncode == 0
    manifest = json.loads((project / "dist" / "manifest.json").read_text())
    assert manifest["routes"] == ["api/*"]
    proc = wasmship_inproc("verify", "--json", "dist", cwd=project)
    found = json.loads(proc.stdout)
    # The declared route resolves; every other unresolved reference stays an error.
    assert [(p["path"], p["line"]) for p in found["problems"]] == [("main.js", 3)], found
    assert proc.returncode == 1


def test_routes_are_bounded(hello: Path, wasmship_inproc: Run) -> None:
    many = "[" + ", ".join(['"x"'] * 65) + "]"
    for bad in ('["../etc/passwd"]', '["a b"]', '["api/\\u0000"]', many):
        (hello / "wasmship.toml").write_text(f"routes = {bad}\n")
        proc = wasmship_inproc("build", "-q", cwd=hello)
        assert_clean_failure(proc, 2, "wasmship.toml", "routes")
    assert not (hello / "dist").exists()


def test_a_manifest_without_routes_reads_as_before_and_bad_routes_are_refused() -> None:
    from wasmship.distformat.reader import parse_manifest
    from wasmship.errors import ManifestError

    document: dict[str, Any] = {
        "schema": 1,
        "tool": {"name": "wasmship", "version": "1"},
        "go": {"version": "go1.26"},
        "targets": [],
    }
    assert parse_manifest(document).routes == ()
    assert parse_manifest({**document, "routes": ["api/*"]}).routes == ("api/*",)
    for bad in (["../x"], "api/*", [1], ["a\nb"]):
        with pytest.raises(ManifestError, match="routes"):
            parse_manifest({**document, "routes": bad})


# --- section 3: a shim loaded from another origin ---------------------------------------------

CDN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cdn shim</title>
<script src="https://cdn.jsdelivr.net/gh/golang/go@go1.25.1/lib/wasm/wasm_exec.js"
        integrity="sha384-notthisone" crossorigin="anonymous"></script>
<script src="main.js"></script></head><body></body></html>
"""
CDN_MAIN = """const go = new Go();
WebAssembly.instantiateStreaming(fetch("main.wasm"), go.importObject)
  .then((r) => go.run(r.instance));
"""
CDN_WORKER = """importScripts(
  "https://raw.githubusercontent.com/golang/go/go1.21.0/misc/wasm/wasm_exec.js");
"""


def test_a_shim_from_a_cdn_is_named_with_both_versions_and_replaced_by_the_dists_own(
    hello: Path, wasmship: Run, go: Any
) -> None:
    web = hello / "web"
    web.mkdir()
    (web / "index.html").write_text(CDN_PAGE)
    (web / "main.js").write_text(CDN_MAIN)
    (web / "worker.js").write_text(CDN_WORKER)
    (hello / "wasmship.toml").write_text('static = "web"\n')
    proc = wasmship("build", cwd=hello)
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout + proc.stderr
    assert "web/index.html:3:" in said and "go1.25.1" in said, said
    assert "web/worker.js:2:" in said and "go1.21.0" in said, said
    dist = hello / "dist"
    files = json.loads((dist / "manifest.json").read_text())["targets"][0]["files"]
    shim = files["wasm_exec.js"]
    page = (dist / "index.html").read_text()
    assert f'src="{shim["path"]}"' in page and "cdn.jsdelivr" not in page, page
    assert f'integrity="{shim["integrity"]}"' in page, page  # the CDN's SRI would refuse ours
    assert f'"{shim["path"]}"' in (dist / "worker.js").read_text()
    go_version = json.loads((dist / "manifest.json").read_text())["go"]["version"]
    assert f"but {go_version} builds the module" in said, said


def test_verify_flags_a_cdn_shim_of_another_go(hello: Path, wasmship: Run) -> None:
    web = hello / "web"
    web.mkdir()
    (web / "index.html").write_text(SW_PAGE)
    (web / "main.js").write_text("")
    (hello / "wasmship.toml").write_text('static = "web"\n' + KEEP_SCRIPTS)
    assert wasmship("build", "-q", cwd=hello).returncode == 0
    dist = hello / "dist"
    old = "https://cdn.jsdelivr.net/gh/golang/go@go1.20.1/misc/wasm/wasm_exec.js"
    _edit_in_dist(dist, "main.js", f'importScripts("{old}");\n')
    proc = wasmship("verify", "dist", cwd=hello)
    assert proc.returncode == 1
    assert "main.js:1:" in proc.stdout and "go1.20.1" in proc.stdout, proc.stdout


def test_the_go_version_of_a_shim_url_is_read_from_every_usual_form() -> None:
    from wasmship.builder.goshim import url_go_version

    assert (
        url_go_version("https://cdn.jsdelivr.net/gh/golang/go@go1.25.1/lib/wasm/wasm_exec.js")
        == "go1.25.1"
    )
    assert (
        url_go_version(
            "https://raw.githubusercontent.com/golang/go/go1.21.0/misc/wasm/wasm_exec.js"
        )
        == "go1.21.0"
    )
    assert url_go_version("https://github.com/golang/go/raw/go1.22rc1/misc/wasm/wasm_exec.js") == (
        "go1.22rc1"
    )
    assert url_go_version("https://unpkg.com/golang-wasm-exec@1.15.6/wasm_exec.js") == "go1.15.6"
    assert url_go_version("https://cdn.jsdelivr.net/npm/golang-wasm-exec@1.15.6") == "go1.15.6"
    assert url_go_version("https://example.org/js/wasm_exec.js") is None


def test_urls_are_read_where_a_browser_reads_them_and_nowhere_else() -> None:
    from wasmship.builder.wasmrefs import unresolved, wasm_references

    page = """<!doctype html>
<img srcset="a.png 1x, img/b.wasm 2x" alt="c.wasm" title="d.wasm">
<button onclick="fetch('e.wasm')" data-note="f.wasm">go</button>
<div style="background: url(g.wasm)">h.wasm</div>
<!-- i.wasm -->
<meta name="description" content="j.wasm">
<object data="k.wasm"></object>
"""
    script = """// l.wasm in a comment
const m = "m.wasm";
console.log("could not load n.wasm");
fetch(prefix + "o.wasm");
const p = `${prefix}/p.wasm`;
"""
    manifest = '{"name": "q.wasm", "description": "x.wasm", "start_url": "/r.wasm"}'
    texts = {"index.html": page, "app.js": script, "app.webmanifest": manifest}
    found = {(r.file, r.line, r.url, r.resolved, r.piece) for r in wasm_references(texts)}
    assert found == {
        ("index.html", 2, "img/b.wasm", "img/b.wasm", False),
        ("index.html", 3, "e.wasm", "e.wasm", False),
        ("index.html", 4, "g.wasm", "g.wasm", False),
        ("index.html", 7, "k.wasm", "k.wasm", False),
        ("app.js", 2, "m.wasm", "m.wasm", False),
        ("app.js", 4, "o.wasm", None, True),
        ("app.js", 5, "/p.wasm", None, True),
        ("app.webmanifest", 1, "/r.wasm", "r.wasm", False),
    }
    refs = wasm_references(texts)
    left = unresolved(refs, {"index.html", "lib/o.wasm", "img/b.wasm"}, routes=("p.wasm", "*.wasm"))
    assert left == []
    left = unresolved(refs, {"lib/o.wasm", "img/b.wasm"}, routes=("m.wasm", "p.wasm"))
    assert {r.url for r in left} == {"e.wasm", "g.wasm", "k.wasm", "/r.wasm"}


@pytest.mark.browser
def test_a_page_that_loaded_its_shim_from_a_cdn_runs_offline_from_the_dist(
    hello: Path, wasmship: Run, serve: Serve, page: Page
) -> None:
    # No network here: the page starts only if its shim now comes from the dist.
    web = hello / "web"
    web.mkdir()
    (web / "index.html").write_text(CDN_PAGE)
    (web / "main.js").write_text(CDN_MAIN)
    (hello / "wasmship.toml").write_text('static = "web"\n')
    assert wasmship("build", "-q", cwd=hello).returncode == 0
    assert wasmship("verify", "--strict", "dist", cwd=hello).returncode == 0
    server = serve(hello / "dist", Knobs(brotli=True))
    page.goto(server.url)
    greeting = page.locator("#greeting")
    greeting.wait_for(state="attached")
    assert greeting.inner_text() == "hello from Go WebAssembly"
    assert all(s.status == 200 for s in server.log if s.path != "/favicon.ico"), server.log
