"""--static: adopting a project's own web folder, down to a module loaded in a web worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, build_fixture, files_of, without_policy
from tests.serving import request, wasmship_serve
from tests.test_errors import assert_clean_failure
from wasmship.builder.steps.static import rewrite

RENAMES = {"main.wasm": "main.1234abcd.wasm", "wasm_exec.js": "wasm_exec.5678ef90.js"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('importScripts("wasm_exec.js");', 'importScripts("wasm_exec.5678ef90.js");'),
        ("fetch('./main.wasm')", "fetch('./main.1234abcd.wasm')"),
        (
            '<script src="/static/wasm_exec.js?v=2">',
            '<script src="/static/wasm_exec.5678ef90.js?v=2">',
        ),
        ("url(main.wasm#x)", "url(main.1234abcd.wasm#x)"),
        (
            "my_main.wasm and main.wasm.bak and xmain.wasm",
            "my_main.wasm and main.wasm.bak and xmain.wasm",
        ),
        ("see main.wasm.", "see main.1234abcd.wasm."),
    ],
)
def test_rewrite_replaces_whole_names_only(text: str, expected: str) -> None:
    assert rewrite(text, RENAMES) == expected


@pytest.fixture(scope="module")
def workerapp(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    return build_fixture(tmp_path_factory.mktemp("static"), go, "workerapp", "--static", "web")


def test_static_files_are_copied_with_hashed_references(workerapp: Path) -> None:
    dist = workerapp / "dist"
    files = files_of(dist)
    module, shim = files["main.wasm"]["path"], files["wasm_exec.js"]["path"]
    assert set(files) == {
        "main.wasm",
        "wasm_exec.js",
        "index.html",
        "app.js",
        "worker.js",
        "css/style.css",
    }
    # The files the page and its script name get hashed names too (issue 27): the page keeps
    # its own, and names them, with SRI on its tags.
    worker = (dist / files["worker.js"]["path"]).read_text()
    assert f'importScripts("{shim}");' in worker and f'fetch("./{module}")' in worker
    assert "my_main.wasm.bak" in worker
    app = (workerapp / "web" / "app.js").read_text()
    app = app.replace('"worker.js"', f'"{files["worker.js"]["path"]}"')
    assert (dist / files["app.js"]["path"]).read_text() == app
    page = (workerapp / "web" / "index.html").read_text()
    for name, written in (("css/style.css", "css/style.css"), ("app.js", "./app.js")):
        entry = files[name]
        url = written.replace(name, entry["path"])
        page = page.replace(f'"{written}"', f'"{url}" integrity="{entry["integrity"]}"')
    assert without_policy((dist / "index.html").read_text()) == page
    assert not any(p.name.startswith("loader.") for p in dist.iterdir())
    assert files["index.html"]["immutable"] is False and files["index.html"]["path"] == "index.html"
    for name in ("app.js", "worker.js", "css/style.css"):
        assert files[name]["immutable"] is True and files[name]["path"] != name
    assert files["main.wasm"]["immutable"] is True
    assert files["css/style.css"]["content_type"].startswith("text/css")


def test_static_dist_verifies(workerapp: Path, wasmship: Run) -> None:
    proc = wasmship("verify", "--strict", "dist", cwd=workerapp)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_static_files_revalidate_and_hashed_files_are_immutable(
    workerapp: Path, tmp_path: Path
) -> None:
    files = files_of(workerapp / "dist")
    with wasmship_serve(workerapp / "dist", stderr=tmp_path / "serve.log") as served:
        page = request(served.port, "/index.html")  # the page keeps its name: revalidated
        assert page.status == 200
        assert page.header("Cache-Control") == "no-cache"
        assert page.header("ETag")
        again = request(served.port, "/index.html", {"If-None-Match": page.header("ETag") or ""})
        assert again.status == 304
        worker = request(served.port, "/" + files["worker.js"]["path"])  # named by content
        assert worker.header("Cache-Control") == "public, max-age=31536000, immutable"
        module = request(served.port, "/" + files["main.wasm"]["path"])
        assert module.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert request(served.port, "/main.wasm").status == 404


@pytest.mark.browser
def test_worker_app_runs_in_chromium(workerapp: Path, page: Any, tmp_path: Path) -> None:
    files = files_of(workerapp / "dist")
    requested: list[str] = []
    page.context.on("request", lambda r: requested.append(r.url))
    with wasmship_serve(workerapp / "dist", stderr=tmp_path / "serve.log") as served:
        page.goto(served.url + "/")
        page.wait_for_function(
            "() => document.getElementById('out').textContent === 'hello from a Go worker'",
            timeout=30_000,
        )
    assert any(url.endswith("/" + files["main.wasm"]["path"]) for url in requested)
    assert any(url.endswith("/" + files["wasm_exec.js"]["path"]) for url in requested)
    assert not any(url.endswith("/main.wasm") for url in requested)


def test_static_conflicts_are_refused(project: Any, wasmship: Run) -> None:
    app = project("workerapp")
    (app / "web" / "manifest.json").write_text("{}")
    proc = wasmship("build", "--static", "web", cwd=app)
    assert_clean_failure(proc, 2, "manifest.json has the name of a file wasmship writes")
    assert not (app / "dist").exists()
    (app / "web" / "manifest.json").unlink()
    # A dist inside the web folder is left out of what is copied, not refused (issue 12).
    inside = wasmship("build", "--static", "web", "--out", "web/dist", cwd=app)
    assert inside.returncode == 0, inside.stderr
    # --no-cache: every step runs (with the cache, the unchanged dist is simply up to date).
    again = wasmship("build", "--static", "web", "--out", "web/dist", "--no-cache", cwd=app)
    assert again.returncode == 0, again.stderr
    assert "(left out: dist/)" in again.stdout
