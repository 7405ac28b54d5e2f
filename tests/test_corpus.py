"""Real public Go WebAssembly projects, adopted as their maintainers would (issue 23, section 6).

Each project of tests/corpus/projects.toml is fetched through the Go module proxy at its pinned
version, copied to a temporary folder, then `wasmship init` (only when the project ships no
wasmship.toml) and `wasmship build` run with no edit, and what was built is run: in Chromium
with an assertion particular to the app, or under the project's own wazero host. The goal is 0
hand edits for every row; the tests assert that goal, so a project that needs an edit today
fails here with the message a maintainer would see (docs/adopting.md keeps the table).

Marked `corpus`: `pytest -m corpus` runs them alone, `nox -s corpus` in CI; the default session
leaves them out (cold builds of real projects take minutes). Go's build and module caches are the
user's own (Go shares them safely), so a project's dependencies download and compile once.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import Knobs, Serve
from tests.conftest import Go, base_env, missing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

PROJECTS_FILE = Path(__file__).parent / "corpus" / "projects.toml"
PROJECTS: list[dict[str, Any]] = tomllib.loads(PROJECTS_FILE.read_text())["project"]
BROWSER_CHECKS = {"go-app", "canvas", "every-module-has-a-page", "service-worker-api", "js-call"}
BUILD_TIMEOUT = 1800  # a cold build of 85 ebiten examples on 2 cores
# Go's module cache files are read-only, and a project's go.sum may lack lines its build needs
# when it is the main module: -mod=mod lets go fill them in from the proxy, as `go mod tidy` would.
GOFLAGS = "-mod=mod -buildvcs=false"

pytestmark = pytest.mark.corpus


def _param(project: dict[str, Any]) -> Any:
    marks = [pytest.mark.browser] if project["check"] in BROWSER_CHECKS else []
    return pytest.param(project, id=project["id"], marks=marks)


@dataclass(frozen=True)
class Adopted:
    """One project after init and build: where it lies and what the commands said."""

    root: Path  # the module's copy
    workdir: Path  # where init and build ran
    init: subprocess.CompletedProcess[str] | None  # None: the project ships its wasmship.toml
    build: subprocess.CompletedProcess[str]
    dist: Path

    def report(self) -> str:
        init = self.init.stdout + self.init.stderr if self.init else "(own wasmship.toml)"
        config = _config_of(self.workdir)
        text = config.read_text() if config else "(no wasmship.toml)"
        return f"--- init\n{init}\n--- wasmship.toml\n{text}\n--- build\n{self.build.stderr}"


def _go_env(go: Go) -> dict[str, str]:
    return base_env(WASMSHIP_GO=go.binary, GOFLAGS=GOFLAGS)


@pytest.fixture(scope="session")
def module_source(go: Go) -> Callable[[str, str], Path]:
    """`go mod download -json module@version`, once per module in the session: its Dir."""
    dirs: dict[str, Path] = {}

    def download(module: str, version: str) -> Path:
        key = f"{module}@{version}"
        if key not in dirs:
            proc = subprocess.run(
                [go.binary, "mod", "download", "-json", key],
                capture_output=True,
                text=True,
                env=_go_env(go),
                timeout=600,
            )
            info = json.loads(proc.stdout) if proc.stdout.strip() else {}
            if proc.returncode != 0 or "Dir" not in info:
                missing(
                    f"the Go module proxy did not serve {key}: {info.get('Error', proc.stderr)}"
                )
            dirs[key] = Path(info["Dir"])
        return dirs[key]

    return download


def _copy_writable(source: Path, dest: Path) -> None:
    """The module cache's tree, copied with the modes a checkout has (it is read-only)."""
    shutil.copytree(source, dest, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(dest):
        os.chmod(folder, 0o755)


def _config_of(workdir: Path) -> Path | None:
    for folder in (workdir, *workdir.parents):
        if (folder / "wasmship.toml").is_file():
            return folder / "wasmship.toml"
    return None


def _wasmship(
    go: Go, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", *args],
        cwd=cwd,
        env={**_go_env(go), **(env or {})},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )


@pytest.fixture
def adopted(
    request: pytest.FixtureRequest,
    go: Go,
    module_source: Callable[[str, str], Path],
    tmp_path: Path,
) -> Adopted:
    """The project of the test's parameter, fetched, copied, `init` and `build` with no edit."""
    project: dict[str, Any] = request.param
    root = tmp_path / project["id"]
    _copy_writable(module_source(project["module"], project["version"]), root)
    workdir = root / project["subdir"]
    env = dict(project.get("env", {}))
    init = None
    if _config_of(workdir) is None:
        init = _wasmship(go, workdir, "init", env=env)
    build = _wasmship(go, workdir, "build", env=env)
    config = _config_of(workdir)
    dist = (config.parent if config else workdir) / "dist"
    return Adopted(root, workdir, init, build, dist)


@pytest.mark.parametrize("adopted", [_param(p) for p in PROJECTS], indirect=True)
def test_the_project_adopts_with_no_edit_and_runs(
    adopted: Adopted, request: pytest.FixtureRequest, go: Go
) -> None:
    project: dict[str, Any] = request.node.callspec.params["adopted"]
    if adopted.init is not None:
        assert adopted.init.returncode == 0, adopted.report()
        assert "no browser target found" not in adopted.init.stderr, adopted.report()
    assert adopted.build.returncode == 0, adopted.report()
    verify = _wasmship(go, adopted.dist.parent, "verify", "--strict", str(adopted.dist))
    said = verify.stdout + verify.stderr
    dead = set(project.get("dead", ()))
    if not dead:
        assert verify.returncode == 0, said
    else:
        # The project's own pages name files it does not have: verify reports those, only those.
        errors = [line for line in said.splitlines() if line.startswith("error: ")]
        missing = {re.sub(r"^.*: (\S+) does not exist.*$", r"\1", e) for e in errors}
        assert verify.returncode != 0 and missing == dead, said
    CHECKS[project["check"]](request, adopted, project)


# ---- what each kind of project must do once built --------------------------------------------


def _open(
    request: pytest.FixtureRequest,
    adopted: Adopted,
    path: str,
    answers: dict[str, bytes] | None = None,
) -> tuple[Page, list[str]]:
    """Serve the dist, open PATH in Chromium with no network beyond the server (and ANSWERS:
    URL glob -> script, for a CDN the project loads); the console's errors are collected in
    the returned list."""
    serve: Serve = request.getfixturevalue("serve")
    page: Page = request.getfixturevalue("page")
    server = serve(adopted.dist, Knobs())
    origin = server.url.rstrip("/")

    def only_local(route: Route) -> None:
        url = route.request.url
        answer = next((a for g, a in (answers or {}).items() if fnmatch.fnmatch(url, g)), None)
        if url.startswith(origin):
            route.continue_()
        elif answer is not None:
            route.fulfill(body=answer, content_type="text/javascript")
        else:
            route.abort()

    page.context.route("**/*", only_local)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(origin + path)
    return page, errors


def check_go_app(request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]) -> None:
    """The page is go-app's own (its #app-wasm-loader, its app.js), and the Go program it
    loaded started: it replaced app.js's goappNav with a Go function, and app.js removed the
    loader after go.run()."""
    page, errors = _open(request, adopted, project["page"])
    html = page.evaluate("fetch(location.href).then(r => r.text())")
    assert 'id="app-wasm-loader"' in html, f"{project['page']} is not go-app's page"
    try:
        page.wait_for_function(
            "() => typeof goappNav === 'function' && goappNav.toString().includes('_pendingEvent')",
            timeout=90_000,
        )
        page.locator("#app-wasm-loader").wait_for(state="detached", timeout=30_000)
    except Exception as exc:
        label = page.locator("#app-wasm-loader-label").all_inner_texts()
        raise AssertionError(f"the module did not start: {label} {errors}") from exc
    assert not [e for e in errors if "loading wasm failed" in e], errors


def _distinct_colours(browser: Browser, png: bytes) -> int:
    """How many colours a screenshot holds (counted in a blank page: no image library here)."""
    import base64

    scratch = browser.new_page()
    try:
        count: int = scratch.evaluate(
            """async (src) => {
                const img = new Image(); img.src = src; await img.decode();
                const c = new OffscreenCanvas(img.width, img.height);
                const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
                const d = ctx.getImageData(0, 0, img.width, img.height).data;
                const seen = new Set();
                for (let i = 0; i < d.length; i += 4)
                    seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
                return seen.size;
            }""",
            "data:image/png;base64," + base64.b64encode(png).decode(),
        )
    finally:
        scratch.close()
    return count


def _module_of(target: dict[str, Any]) -> str:
    """Where a manifest target's module is in the dist (its file is named after the target)."""
    path: str = target["files"][f"{target['name']}.wasm"]["path"]
    return path


def check_canvas(request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]) -> None:
    """The program drew on its canvas: a screenshot of it holds many colours, not one; when
    the project names its `program`, the page loaded that program's module."""
    loaded: list[str] = []
    page: Page = request.getfixturevalue("page")
    page.on("response", lambda r: loaded.append(r.url) if r.url.endswith(".wasm") else None)
    page, errors = _open(request, adopted, project["page"])
    canvas = page.locator("canvas").first
    try:
        canvas.wait_for(state="visible", timeout=90_000)
    except Exception as exc:
        raise AssertionError(f"no canvas appeared: {errors}") from exc
    browser: Browser = request.getfixturevalue("browser")
    deadline, colours = time.monotonic() + 60, 0
    while time.monotonic() < deadline:
        colours = _distinct_colours(browser, canvas.screenshot())
        if colours >= 16:
            break
        page.wait_for_timeout(1000)
    assert colours >= 16, f"the canvas holds {colours} colour(s): nothing drawn; {errors}"
    if "program" in project:
        manifest = json.loads((adopted.dist / "manifest.json").read_text())
        modules = {t["package"]: _module_of(t) for t in manifest["targets"]}
        wanted = modules.get(project["program"])
        assert wanted is not None, f"no target builds {project['program']}: {sorted(modules)}"
        assert any(url.endswith("/" + wanted) for url in loaded), (wanted, loaded)


def check_every_module_has_a_page(
    request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]
) -> None:
    """Each browser module of the dist is loaded by a page of its own, and the first one runs."""
    manifest = json.loads((adopted.dist / "manifest.json").read_text())
    pages = [p.read_text(errors="replace") for p in adopted.dist.rglob("*.html")]
    orphans = []
    for target in manifest["targets"]:
        if target["goos"] != "js":
            continue
        module = Path(_module_of(target)).name
        if not any(module in text for text in pages):
            orphans.append(target["name"])
    assert not orphans, f"{len(orphans)} module(s) that no page loads: {orphans[:10]}"
    check_canvas(request, adopted, project)


_FAIL_AFTER_60S = "new Promise((_, no) => setTimeout(() => no(new Error('60 s passed')), 60000))"


def check_service_worker_api(
    request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]
) -> None:
    """The page's service worker runs the Go HTTP server: POST api/hello answers in Go."""
    # The service worker imports go-wasm-http-server's sw.js from a CDN at the pinned tag: the
    # test answers that URL with the same file from the module (no network here). Go's own shim
    # gets no such help: it must come from the dist.
    library = (adopted.root / "sw.js").read_bytes()
    cdn = "https://cdn.jsdelivr.net/gh/nlepage/go-wasm-http-server@*/sw.js"
    page, errors = _open(request, adopted, project["page"], {cdn: library})
    try:
        # page.evaluate has no timeout of its own: every promise awaited here is raced
        page.evaluate(f"Promise.race([navigator.serviceWorker.ready, {_FAIL_AFTER_60S}])")
        page.reload()  # now under the service worker's control
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
        message = page.evaluate(
            f"""() => Promise.race([{_FAIL_AFTER_60S}, (async () => {{
                const res = await fetch('api/hello', {{method: 'POST',
                    headers: {{'Content-Type': 'application/json'}},
                    body: JSON.stringify({{name: 'corpus'}})}});
                return (await res.json()).message;
            }})()])"""
        )
    except Exception as exc:
        raise AssertionError(f"the service worker did not answer: {exc}; {errors}") from exc
    assert message == "Hello corpus!", errors


def check_own_host(
    request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]
) -> None:
    """The project's own wazero host, built from its sources, loads the plugins from the dist
    by the paths it reads them from, and prints what they answer."""
    go: Go = request.getfixturevalue("go")
    host = adopted.workdir / "corpus-host"
    env = {k: v for k, v in _go_env(go).items() if k not in ("GOOS", "GOARCH")}
    built = subprocess.run(
        [go.binary, "build", "-o", str(host), "."],
        cwd=adopted.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert built.returncode == 0, built.stderr
    ran = subprocess.run([str(host)], cwd=adopted.dist, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == project["expect"], ran.stdout + ran.stderr


def check_js_call(
    request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]
) -> None:
    """A module that exposes Go functions to JavaScript (no page of its own: the built-in page
    loads it): once `ready` holds, calling `call` answers in Go with text holding `answer`."""
    page, errors = _open(request, adopted, project["page"])
    try:
        # As a function: a string predicate is eval, which the dist's policy blocks.
        page.wait_for_function(f"() => ({project['ready']})", timeout=90_000)
        said = page.evaluate(f"Promise.race([{project['call']}, {_FAIL_AFTER_60S}])")
    except Exception as exc:
        raise AssertionError(f"the module's functions did not answer: {exc}; {errors}") from exc
    assert project["answer"] in str(said), (said, errors)


EXTISM_HOST = """\
package main

import (
	"context"
	"fmt"
	"os"

	extism "github.com/extism/go-sdk"
)

func main() {
	wasm := extism.WasmFile{Path: os.Args[1]}
	manifest := extism.Manifest{Wasm: []extism.Wasm{wasm}}
	config := extism.PluginConfig{EnableWasi: true}
	plugin, err := extism.NewPlugin(context.Background(), manifest, config, nil)
	if err != nil {
		panic(err)
	}
	_, out, err := plugin.Call("_start", []byte(os.Args[2]))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
}
"""


def check_extism_host(
    request: pytest.FixtureRequest, adopted: Adopted, project: dict[str, Any]
) -> None:
    """An Extism plugin runs under Extism's own Go host (github.com/extism/go-sdk at a pinned
    version, the library the project's `extism call` wraps): `_start` with `input` answers
    `output`. The plugin is found by the manifest, as a host of a hashed dist would."""
    go: Go = request.getfixturevalue("go")
    host = adopted.root.parent / "extism-host"
    host.mkdir()
    (host / "main.go").write_text(EXTISM_HOST)
    sdk, version = project["host"].split("@")
    (host / "go.mod").write_text(f"module corpushost\n\ngo 1.24\n\nrequire {sdk} {version}\n")
    env = {k: v for k, v in _go_env(go).items() if k not in ("GOOS", "GOARCH")}
    built = subprocess.run(
        [go.binary, "build", "-o", "host", "."],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert built.returncode == 0, built.stderr
    manifest = json.loads((adopted.dist / "manifest.json").read_text())
    target = next(t for t in manifest["targets"] if t["name"] == project["plugin"])
    module = adopted.dist / _module_of(target)
    ran = subprocess.run(
        [str(host / "host"), str(module), project["input"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == project["output"], ran.stdout + ran.stderr


CHECKS: dict[str, Callable[[pytest.FixtureRequest, Adopted, dict[str, Any]], None]] = {
    "go-app": check_go_app,
    "canvas": check_canvas,
    "every-module-has-a-page": check_every_module_has_a_page,
    "service-worker-api": check_service_worker_api,
    "own-host": check_own_host,
    "js-call": check_js_call,
    "extism-host": check_extism_host,
}


def test_the_corpus_covers_every_shape_the_issue_names() -> None:
    """At least 8 projects, each check known, each pinned to an exact version."""
    assert len(PROJECTS) >= 8
    for project in PROJECTS:
        assert project["check"] in CHECKS, project["id"]
        assert project["version"].startswith("v") and "latest" not in project["version"]
        assert (project["check"] == "own-host") == ("expect" in project), project["id"]
        wants_call = {"ready", "call", "answer"} <= project.keys()
        assert (project["check"] == "js-call") == wants_call, project["id"]
        assert all(isinstance(d, str) and not d.startswith("/") for d in project.get("dead", []))
