"""Adopting a real site's own web folder: modules in a folder of the dist, references of every
form, stale shims caught by content, what a repository root must not publish, and every refusal
made before go build starts."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import Knobs, Serve, assert_app_ran, open_app
from tests.conftest import FIXTURES, Go, Run, base_env, build_fixture, files_of, without_policy
from tests.servers import real_server
from tests.serving import request, wasmship_serve
from tests.test_errors import assert_clean_failure
from wasmship.builder.goshim import read_shim
from wasmship.builder.rewrite import Built, kind_of, rewrite_texts, url_of
from wasmship.builder.webfolder import Pattern
from wasmship.distformat.digests import integrity
from wasmship.errors import UsageError

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

FRAMEWORK = """static = "public"
server-config = ["nginx"]

[[target]]
name = "app"
package = "."
folder = "web"
"""
OLD_SHIM = FIXTURES / "site-oldshim" / "web" / "wasm_loader.js"  # Go 1.21.13's wasm_exec.js


def go_keyed(shim: str) -> str:
    """A shim as Go 1.20 and older wrote it: the runtime's imports under module `go`."""
    assert shim.count("gojs: {") == 1
    return shim.replace("gojs: {", "go: {")


def run_build(project: Path, *args: str, go: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", "build", *args],
        cwd=project,
        env=base_env(WASMSHIP_GO=go),
        capture_output=True,
        text=True,
        timeout=300,
    )


def dist_paths(dist: Path) -> set[str]:
    return {str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file()}


# --- a framework's site: the module and the shim in web/, asked for in every form -------------


@pytest.fixture(scope="module")
def framework(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    return build_fixture(
        tmp_path_factory.mktemp("framework"), go, "site-framework", config=FRAMEWORK
    )


def test_the_module_and_shim_live_in_the_target_folder(framework: Path) -> None:
    dist = framework / "dist"
    files = files_of(dist)
    module, shim = files["app.wasm"]["path"], files["wasm_exec.js"]["path"]
    assert module.startswith("web/app.") and module.endswith(".wasm")
    assert shim.startswith("web/wasm_exec.") and shim.endswith(".js")
    assert files["app.wasm"]["encodings"]["br"]["path"] == module + ".br"
    assert {"web/app.wasm", "web/wasm_exec.js", "app.wasm"}.isdisjoint(dist_paths(dist))
    assert (dist / module).read_bytes()[:4] == b"\0asm"


def test_every_form_of_reference_names_the_hashed_file(framework: Path) -> None:
    dist, public = framework / "dist", framework / "public"
    files = files_of(dist)
    module, shim = files["app.wasm"]["path"], files["wasm_exec.js"]["path"]
    mod, sh = module.removeprefix("web/"), shim.removeprefix("web/")
    expected = {
        # Absolute stays absolute, relative stays relative to the file that holds it.
        "sw.js": [("/web/app.wasm", f"/web/{mod}"), ("/web/wasm_exec.js", f"/web/{sh}")],
        "web/app.js": [
            ('fetch("/web/app.wasm")', f'fetch("/web/{mod}")'),
            ('new URL("app.wasm", import.meta.url)', f'new URL("{mod}", import.meta.url)'),
        ],
        "index.html": [("./web/app.wasm", f"./web/{mod}"), ("web/wasm_exec.js", f"web/{sh}")],
        "about/index.html": [("../web/app.wasm", f"../web/{mod}")],
    }
    # The site's own files the pages name are hashed too (issue 27): named back to their plain
    # names here, and the integrity the build adds to their tags left out, to compare.
    plain = {
        e["path"].rsplit("/", 1)[-1]: k.rsplit("/", 1)[-1]
        for k, e in files.items()
        if k not in ("app.wasm", "wasm_exec.js") and e["path"] != k
    }
    assert {"app.js", "icon.svg"} <= set(plain.values())
    for rel, edits in expected.items():
        text = (public / rel).read_text()
        for old, new in edits:
            assert old in text
            text = text.replace(old, new)
        built = re.sub(r' integrity="sha384-[^"]*"', "", (dist / files[rel]["path"]).read_text())
        built = without_policy(built)
        for hashed, name in plain.items():
            built = built.replace(hashed, name)
        assert built == text, rel
    web_manifest = (dist / "app.webmanifest").read_text()  # keeps its name; its icon is hashed
    assert (
        web_manifest.replace(files["icon.svg"]["path"], "icon.svg")
        == (public / "app.webmanifest").read_text()
    )
    icon = files["icon.svg"]["path"]
    assert (dist / icon).read_bytes() == (public / "icon.svg").read_bytes()


def test_the_framework_site_verifies_strictly(framework: Path, wasmship: Run) -> None:
    proc = wasmship("verify", "--strict", "dist", cwd=framework)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error:" not in proc.stdout


@pytest.mark.browser
def test_the_framework_site_runs_with_brotli_and_goes_offline(
    framework: Path, serve: Serve, page: Page
) -> None:
    dist = framework / "dist"
    files = files_of(dist)
    module = "/" + files["app.wasm"]["path"]
    server = serve(dist, Knobs(brotli=True))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    page.locator("#greeting").wait_for(state="attached")
    assert page.locator("#greeting").inner_text() == "hello from the framework's Go"
    body = page.locator("body")
    assert body.get_attribute("data-module") == module  # new URL(..., import.meta.url)
    # The service worker cached every URL it names: one missing file would fail its install.
    page.wait_for_function("() => document.body.dataset.offline !== undefined")
    assert body.get_attribute("data-offline") == "ready"
    assert errors == []
    assert [s.path for s in server.log if s.status != 200] == []
    fetched = [s for s in server.log if s.path == module]
    assert fetched and all(s.headers["Content-Type"] == "application/wasm" for s in fetched)
    assert all(s.headers.get("Content-Encoding") == "br" for s in fetched)
    asked = {s.path for s in server.log}
    app_js = "/" + files["web/app.js"]["path"]  # hashed: the page names it (issue 27)
    assert {"/sw.js", app_js, "/" + files["wasm_exec.js"]["path"]} <= asked


@pytest.mark.servers
def test_serve_nginx_and_check_deliver_the_folder(
    framework: Path, wasmship: Run, tmp_path: Path
) -> None:
    dist = framework / "dist"
    module = files_of(dist)["app.wasm"]
    br = module["encodings"]["br"]
    with wasmship_serve(dist, "--quiet", stderr=tmp_path / "serve.log") as served:
        reply = request(served.port, "/" + module["path"], {"Accept-Encoding": "br"})
        assert (reply.status, reply.header("Content-Type")) == (200, "application/wasm")
        assert reply.header("Content-Encoding") == "br"
        assert reply.header("Content-Length") == str(br["size"])
        assert reply.header("Cache-Control") == "public, max-age=31536000, immutable"
        check = wasmship("check", served.url + "/", cwd=tmp_path)
        assert check.returncode == 0, check.stdout + check.stderr
    with real_server("nginx", dist, tmp_path) as nginx:
        reply = request(nginx.port, "/" + module["path"], {"Accept-Encoding": "br"})
        assert (reply.status, reply.header("Content-Type")) == (200, "application/wasm")
        assert reply.header("Content-Encoding") == "br"
        assert reply.header("Cache-Control") == "public, max-age=31536000, immutable"


def test_a_reference_to_a_folder_the_module_is_not_in_stops_the_build(
    project: Any, wasmship: Run
) -> None:
    site = project("site-framework")
    (site / "wasmship.toml").write_text(FRAMEWORK.replace('folder = "web"\n', ""))
    proc = wasmship("build", cwd=site)
    assert_clean_failure(
        proc,
        2,
        "public/about/index.html:6: '../web/app.wasm' names web/app.wasm, but the module of "
        'target "app" goes at the dist\'s root: set folder = "web" in the [[target]] named '
        '"app" in wasmship.toml, or make the reference "/app.wasm" (6 more references like it)',
    )
    assert not (site / "dist").exists()


def test_a_project_without_targets_is_told_how_to_place_the_shim(
    project: Any, wasmship: Run
) -> None:
    site = project("site-framework")
    proc = wasmship("build", "--static", "public", cwd=site)
    assert_clean_failure(
        proc,
        2,
        "public/index.html:9: 'web/wasm_exec.js' names web/wasm_exec.js, but the shim "
        "(wasm_exec.js) goes at the dist's root: put the module and the shim there with a "
        '[[target]] in wasmship.toml (name = "main", package = ".", folder = "web"), or make '
        'the reference "/wasm_exec.js" (1 more reference like it)',
    )


@pytest.mark.browser
def test_the_built_in_page_loads_a_module_in_a_folder(
    tmp_path: Path, go: Go, wasmship: Run, serve: Serve, page: Page
) -> None:
    config = '[[target]]\nname = "main"\npackage = "."\nfolder = "static/wasm"\n'
    hello = build_fixture(tmp_path, go, "hello", config=config)
    dist = hello / "dist"
    files = files_of(dist)
    assert files["main.wasm"]["path"].startswith("static/wasm/main.")
    assert files["wasm_exec.js"]["path"].startswith("static/wasm/wasm_exec.")
    page_html = (dist / "index.html").read_text()
    assert f'data-wasm="{files["main.wasm"]["path"]}"' in page_html
    proc = wasmship("verify", "--strict", "dist", cwd=hello)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server = serve(dist, Knobs(brotli=True))
    assert_app_ran(page, open_app(page, server.url))
    assert all(s.status == 200 for s in server.log)


# --- stale shims, found by content whatever their name ----------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "module", "version"),
    [
        ("go1.21", OLD_SHIM.read_text(), "gojs", "Go 1.21 to 1.23"),
        ("go1.20-style", go_keyed(OLD_SHIM.read_text()), "go", "Go 1.20 or older"),
    ],
)
def test_go_shims_are_recognised_by_content(
    name: str, text: str, module: str, version: str
) -> None:
    found = read_shim(text)
    assert found is not None, name
    assert (found.module, found.alone, found.version) == (module, True, version)


def test_the_toolchains_shim_is_recognised(go: Go) -> None:
    found = read_shim((go.shim_dir() / "wasm_exec.js").read_text())
    assert found is not None and found.module == "gojs" and found.alone


def test_what_is_not_a_whole_go_shim() -> None:
    shim = OLD_SHIM.read_text()
    app = (
        "const go = new Go();\nWebAssembly.instantiateStreaming(fetch('a.wasm'), go.importObject);"
    )
    bundled = read_shim(f"{shim}\n{app}\n")
    assert bundled is not None and not bundled.alone
    assert read_shim((FIXTURES / "site-oldshim" / "web" / "helpers.js").read_text()) is None
    tinygo = shim.replace("// Copyright", "// Modified for use by the TinyGo compiler.\n// C")
    assert read_shim(tinygo) is None


def oldshim_build(project: Any, go: Go, shim: str | None = None) -> tuple[Path, Any]:
    site = project("site-oldshim")
    if shim is not None:
        (site / "web" / "wasm_loader.js").write_text(shim)
    return site, run_build(site, "--static", "web", go=go.binary)


def test_a_renamed_old_shim_is_replaced_with_a_warning(project: Any, go: Go, wasmship: Run) -> None:
    site, proc = oldshim_build(project, go)
    assert proc.returncode == 0, proc.stderr
    dist = site / "dist"
    shim = files_of(dist)["wasm_exec.js"]["path"]
    # Found by its content: its name is wasm_loader.js, and a file naming the same imports
    # (helpers.js) is copied as it is.
    assert (
        f"wasmship: web/wasm_loader.js is Go's wasm shim from Go 1.21 to 1.23, but {go.version} "
        f"builds the module, whose shim differs: replaced by {go.version}'s ({shim}), and the "
        "references to it rewritten"
    ) in proc.stderr
    assert "replaced by the built files: wasm_loader.js" in proc.stdout
    assert "wasm_loader.js" not in dist_paths(dist) and "wasm_loader.js" not in files_of(dist)
    # The page's SRI for its old shim now names the new one: a browser would refuse it else.
    index = (site / "web" / "index.html").read_text()
    old_sri = integrity(OLD_SHIM.read_bytes())
    assert old_sri in index
    new_sri = files_of(dist)["wasm_exec.js"]["integrity"]
    expected = index.replace("wasm_loader.js", shim).replace(old_sri, new_sri)
    start = files_of(dist)["start.js"]  # hashed, with SRI added (issue 27)
    expected = expected.replace(
        '"start.js">', f'"{start["path"]}" integrity="{start["integrity"]}">'
    )
    assert without_policy((dist / "index.html").read_text()) == expected
    assert (dist / "helpers.js").read_bytes() == (site / "web" / "helpers.js").read_bytes()
    assert (dist / shim).read_bytes() == (go.shim_dir() / "wasm_exec.js").read_bytes()
    verify = wasmship("verify", "--strict", "dist", cwd=site)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_copy_of_this_gos_shim_is_replaced_quietly(project: Any, go: Go) -> None:
    ours = (go.shim_dir() / "wasm_exec.js").read_text()
    site = project("site-oldshim")
    (site / "web" / "wasm_loader.js").write_text(ours)
    (site / "web" / "wasm_exec.js").write_text(ours)  # a framework's own generated copy
    proc = run_build(site, "--static", "web", go=go.binary)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "replaced by the built files: wasm_exec.js, wasm_loader.js" in proc.stdout
    shim = files_of(site / "dist")["wasm_exec.js"]
    tag = f'<script src="{shim["path"]}" integrity="{shim["integrity"]}">'
    assert tag in (site / "dist" / "index.html").read_text()


@pytest.mark.browser
def test_a_shim_that_breaks_the_module_is_replaced_and_the_page_runs(
    project: Any, go: Go, serve: Serve, page: Page, browser: Any
) -> None:
    old = go_keyed(OLD_SHIM.read_text())
    site, proc = oldshim_build(project, go, old)
    assert proc.returncode == 0, proc.stderr
    assert "web/wasm_loader.js is Go's wasm shim from Go 1.20 or older" in proc.stderr
    dist = site / "dist"
    shim = "/" + files_of(dist)["wasm_exec.js"]["path"]
    server = serve(dist, Knobs())
    page.goto(server.url)
    page.locator("#greeting").wait_for(state="attached")
    assert page.locator("#greeting").inner_text() == "hello from a site with an old shim"
    # The same dist with the old shim served in its place (and the page's SRI for it left
    # out, so that the browser runs it): the module cannot start.
    index = (dist / "index.html").read_text()
    sri = f' integrity="{files_of(dist)["wasm_exec.js"]["integrity"]}"'
    assert sri in index
    bodies = {shim: old.encode(), "/index.html": index.replace(sri, "").encode()}
    context = browser.new_context()
    try:
        other = context.new_page()
        broken = serve(dist, Knobs(bodies=bodies))
        other.goto(broken.url)
        other.wait_for_function("() => document.body.dataset.error !== undefined", timeout=30_000)
        assert "gojs" in (other.locator("body").get_attribute("data-error") or "")
        assert other.locator("#greeting").count() == 0
    finally:
        context.close()


def test_a_bundle_holding_an_old_shim_is_refused_before_go_build(project: Any, go: Go) -> None:
    site = project("site-oldshim")
    app = "const go = new Go();\ngo.run(null);\n"
    (site / "web" / "bundle.js").write_text(OLD_SHIM.read_text() + app)
    (site / "main.go").write_text("package main\n\nfunc main() { broken }\n")
    proc = run_build(site, "--static", "web", go=go.binary)
    assert_clean_failure(
        proc,
        2,
        "web/bundle.js: it bundles a Go wasm shim (Go 1.21 to 1.23's) with other code, and "
        f"{go.version} builds the module, whose shim differs",
    )
    assert "undefined: broken" not in proc.stderr


# --- a repository root as the web folder ----------------------------------------------------


def test_static_dot_leaves_out_what_no_site_needs(project: Any, go: Go) -> None:
    repo = project("site-repo")
    (repo / "wasmship.toml").write_text('static = "."\n')
    (repo / "style.css.gz").write_bytes(b"\x1f\x8b stale")  # a precompressed copy of style.css
    (repo / "node_modules" / "left-pad").mkdir(parents=True)
    (repo / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1;\n")
    first = run_build(repo, "-q", "--out", "old-dist", go=go.binary)
    assert first.returncode == 0, first.stderr
    (repo / "dist").mkdir()
    proc = run_build(repo, go=go.binary)
    assert proc.returncode == 0, proc.stderr
    assert (
        "4 files from ./ (left out: 3 Go sources, dist/, old-dist/, go.mod, go.sum, Makefile, "
        "wasmship.toml, node_modules/, 1 precompressed copy)"
    ) in proc.stdout
    files = files_of(repo / "dist")
    assert set(files) == {
        "main.wasm",
        "wasm_exec.js",
        "index.html",
        "app.js",
        "style.css",
        "README.md",
    }
    assert not any(p.startswith("old-dist") for p in dist_paths(repo / "dist"))


def test_static_exclude_and_include_from_the_file_and_the_command_line(
    project: Any, go: Go
) -> None:
    repo = project("site-repo")
    (repo / "wasmship.toml").write_text(
        'static = "."\nstatic-exclude = ["*.md"]\nstatic-include = ["cmd/**/*.go"]\n'
    )
    proc = run_build(repo, go=go.binary)
    assert proc.returncode == 0, proc.stderr
    assert (
        "4 files from ./ (left out: 2 Go sources, go.mod, go.sum, Makefile, wasmship.toml, "
        "1 by static-exclude)"
    ) in proc.stdout
    assert {"cmd/tool/main.go", "index.html"} <= set(files_of(repo / "dist"))
    assert "README.md" not in files_of(repo / "dist")
    # Flags win over the file; a comma-separated value is several patterns.
    again = run_build(repo, "--static-exclude", "*.css,*.md", "--static-include", "", go=go.binary)
    assert again.returncode == 0, again.stderr
    files = files_of(repo / "dist")
    assert "style.css" not in files and "README.md" not in files
    assert "cmd/tool/main.go" not in files


@pytest.mark.parametrize(
    ("pattern", "path", "folder", "matches"),
    [
        ("*.psd", "art/logo.psd", False, True),
        ("*.psd", "logo.psd.txt", False, False),
        ("drafts/", "docs/drafts", True, True),
        ("drafts/", "drafts", False, False),
        ("docs/*.md", "docs/a.md", False, True),
        ("docs/*.md", "x/docs/a.md", False, False),
        ("/notes.txt", "notes.txt", False, True),
        ("/notes.txt", "sub/notes.txt", False, False),
        ("assets/**", "assets/a/b.png", False, True),
        ("**/*.map", "js/app.js.map", False, True),
        ("*", ".env", False, False),
        (".well-known/", ".well-known", True, True),
    ],
)
def test_static_patterns(pattern: str, path: str, folder: bool, matches: bool) -> None:
    from pathlib import PurePosixPath

    assert Pattern.parse(pattern).matches(PurePosixPath(path), folder) is matches


# --- everything refusable is refused before go build -------------------------------------------


def recording_go(tmp_path: Path, go: Go) -> tuple[Path, Path]:
    """A `go` that logs each command line, then runs the real one."""
    log = tmp_path / "go.log"
    wrapper = tmp_path / "bin" / "go"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{go.binary}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper, log


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        (
            "a web manifest named manifest.json",
            ("--static", "public"),
            "--static public/: manifest.json has the name of a file wasmship writes "
            "(wasmship's manifest",
        ),
        (
            "a reference to the shim where it is not",
            ("--static", "public"),
            "names web/wasm_exec.js, but the shim (wasm_exec.js) goes at the dist's root",
        ),
        (
            "the static folder inside the dist",
            ("--static", "dist/web", "--force"),
            "it is inside the dist folder",
        ),
        (
            "a file where a server config goes",
            ("--static", "public", "--server-config", "netlify"),
            "_headers has the name of a file wasmship writes (the netlify config",
        ),
    ],
)
def test_static_refusals_come_before_go_build(
    case: str, args: tuple[str, ...], message: str, project: Any, go: Go, tmp_path: Path
) -> None:
    site = project("site-framework")
    (site / "main.go").write_text("package main\n\nfunc main() { broken }\n")  # cannot compile
    if case.startswith("a web manifest"):
        shutil.move(site / "public" / "app.webmanifest", site / "public" / "manifest.json")
    if case.startswith("a file where"):
        (site / "public" / "_headers").write_text("/*\n  X-Frame-Options: DENY\n")
    if case.startswith("the static folder inside"):
        (site / "dist" / "web").mkdir(parents=True)
    wrapper, log = recording_go(tmp_path, go)
    proc = run_build(site, "--go", str(wrapper), *args, go=go.binary)
    assert_clean_failure(proc, 2, message)
    assert "undefined: broken" not in proc.stderr
    called = log.read_text().splitlines() if log.exists() else []
    assert not [line for line in called if line.split()[:1] == ["build"]], called


# --- the rewrite, unit by unit ----------------------------------------------------------------

APP = Built("app.wasm", "web/app.wasm", "web/app.0123abcd.wasm", 'the module of target "app"')


def rewritten(
    texts: dict[str, str], built: tuple[Built, ...] = (APP,), more: dict[str, Built] | None = None
) -> dict[str, str]:
    targets = {b.plain: b for b in built} | (more or {})
    return rewrite_texts(texts, targets, built, lambda m: "fix it", str)


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        # A URL built from pieces: the hashed file is beside where its plain name would be.
        ("web/a.js", 'fetch(base + "app.wasm")', 'fetch(base + "app.0123abcd.wasm")'),
        ("web/a.js", "fetch(`${root}/web/app.wasm`)", "fetch(`${root}/web/app.0123abcd.wasm`)"),
        # Comments and other origins are left alone.
        ("web/a.js", '// fetch("/app.wasm") once\n', '// fetch("/app.wasm") once\n'),
        ("a.js", 'fetch("https://cdn.example/app.wasm")', 'fetch("https://cdn.example/app.wasm")'),
        # A worker no page loads resolves against itself.
        ("web/w.js", 'fetch("app.wasm?v=2")', 'fetch("app.0123abcd.wasm?v=2")'),
        ("s.css", "a { b: url(web/app.wasm#x) }", "a { b: url(web/app.0123abcd.wasm#x) }"),
        ("p.html", "<p>see web/app.wasm</p>", "<p>see web/app.wasm</p>"),
        ("p.html", "<a href=/web/app.wasm download>", "<a href=/web/app.0123abcd.wasm download>"),
    ],
)
def test_rewrite_forms(rel: str, text: str, expected: str) -> None:
    assert rewritten({rel: text}).get(rel, text) == expected


def test_a_tags_integrity_follows_the_file_it_now_names() -> None:
    shim = Built("wasm_exec.js", "wasm_exec.js", "wasm_exec.1.js", "the shim", "sha384-new")
    page = '<script integrity="sha384-old" src="js/old_shim.js"></script>'
    out = rewritten({"index.html": page}, (shim,), {"js/old_shim.js": shim})
    assert out["index.html"] == '<script integrity="sha384-new" src="wasm_exec.1.js"></script>'


def test_a_script_resolves_against_the_pages_that_load_it() -> None:
    page = '<script src="web/a.js"></script>'
    texts = {"index.html": page, "web/a.js": 'fetch("web/app.wasm")'}
    assert rewritten(texts)["web/a.js"] == 'fetch("web/app.0123abcd.wasm")'
    with pytest.raises(UsageError, match=r"web/a\.js:1: 'app\.wasm' names app\.wasm, but"):
        rewritten({"index.html": page, "web/a.js": 'fetch("app.wasm")'})


@pytest.mark.parametrize(
    ("url", "resolved", "path", "base", "expected"),
    [
        (
            "/old/wasm_loader.js",
            "old/wasm_loader.js",
            "wasm_exec.1.js",
            "i.html",
            "/wasm_exec.1.js",
        ),
        (
            "./wasm_loader.js",
            "wasm_loader.js",
            "web/wasm_exec.1.js",
            "i.html",
            "./web/wasm_exec.1.js",
        ),
        (
            "wasm_loader.js",
            "sub/wasm_loader.js",
            "wasm_exec.1.js",
            "sub/i.html",
            "../wasm_exec.1.js",
        ),
    ],
)
def test_url_of_a_replaced_file_keeps_the_form(
    url: str, resolved: str, path: str, base: str, expected: str
) -> None:
    assert url_of(url, resolved, path, base) == expected


def test_rewritten_kinds() -> None:
    assert [kind_of(n) for n in ("a.HTML", "b.mjs", "c.css", "d.json")] == [
        "html",
        "js",
        "css",
        None,
    ]


@dataclass(frozen=True)
class Shape:
    """A real project's shape: its fixture, its wasmship.toml, how to see that its program ran,
    and the one-line change (file, old text, new text) made before the second build."""

    fixture: str
    config: str
    module: str  # the target's logical module name
    ran: str  # the line the program shows (#greeting) or logs (console)
    change: tuple[str, str, str]


SHAPES = {
    "framework site, module in web/": Shape(
        "site-framework",
        FRAMEWORK,
        "app.wasm",
        "hello from the framework's Go",
        ("main.go", "framework's Go", "framework's Go, v2"),
    ),
    "root page with an old shim": Shape(
        "site-oldshim",
        'static = "web"\n',
        "main.wasm",
        "hello from a site with an old shim",
        ("main.go", "old shim", "old shim, v2"),
    ),
    "nested module": Shape(
        "nested",
        '[[target]]\nname = "demo"\nmodule = "examples/demo"\n',
        "demo.wasm",
        "hello from the demo module",
        ("examples/demo/greeting/greeting.go", "demo module", "demo module, v2"),
    ),
    "static files of every type": Shape(
        "site-assets",
        # Its program prints with fmt only (no syscall/js): a wasmship.toml must name it.
        'package = "."\nstatic = "web"\n',
        "main.wasm",
        "site assets",
        ("main.go", '"site assets"', '"site assets, v2"'),
    ),
}


@pytest.mark.browser
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_each_shape_runs_in_chromium_with_br_then_updates_by_dcz(
    shape: Shape, tmp_path: Path, go: Go, page: Page
) -> None:
    project = build_fixture(tmp_path, go, shape.fixture, config=shape.config)
    browser = page.context.browser
    assert browser is not None
    # A site's service worker would answer the reload from its cache: this is about the network.
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    # Only recorded here: reading headers asks Chromium (a round trip), which inside the event
    # handler lets the test run on before the handler has appended anything.
    seen: list[Response] = []
    page.on("response", lambda r: seen.append(r))

    def responses() -> list[tuple[str, dict[str, str]]]:
        return [(r.url, r.all_headers()) for r in seen]

    def module() -> Any:
        return files_of(project / "dist")[shape.module]

    def ran(text: str) -> None:
        """The program showed TEXT in #greeting, or logged it."""
        page.wait_for_function(
            "([text]) => document.getElementById('greeting')?.textContent === text"
            " || window.__logged?.includes(text)",
            arg=[text],
            timeout=60_000,
        )

    page.add_init_script(
        "window.__logged = [];"
        "const log = console.log;"
        "console.log = (...a) => { window.__logged.push(a.join(' ')); log(...a); };"
    )
    with wasmship_serve(project / "dist", stderr=tmp_path / "serve.log") as served:
        # localhost, not 127.0.0.1: Chromium keeps dictionaries only on secure contexts.
        page.goto(served.url.replace("127.0.0.1", "localhost"))
        ran(shape.ran)
        first = [h for u, h in responses() if u.endswith("/" + module()["path"])]
        assert first and first[0].get("content-type") == "application/wasm"
        assert first[0].get("content-encoding") == "br"
        page.wait_for_timeout(500)  # the dictionary is stored once the response has completed
        name, old, new = shape.change
        source = project / name
        assert old in source.read_text()
        source.write_text(source.read_text().replace(old, new))
        rebuilt = run_build(project, "-q", go=go.binary)
        assert rebuilt.returncode == 0, rebuilt.stderr
        seen.clear()
        page.reload()
        ran(shape.ran.replace(old.strip('"'), new.strip('"')))
    update = [h for u, h in responses() if u.endswith("/" + module()["path"])]
    context.close()
    assert update and update[0].get("content-encoding") == "dcz", [r.url for r in seen]
    delta = next(v for k, v in module()["encodings"].items() if k.startswith("dcz-"))
    assert int(update[0]["content-length"]) == delta["size"] < module()["encodings"]["br"]["size"]
