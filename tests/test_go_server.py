"""examples/go-server: a Go binary serving an embedded dist through go/wasmshiphttp beside a
JSON API route. Real builds: the front end with wasmship, the server with go; Chromium gets the
module br-encoded, then (after a one-line change and a new build into the folder the server
reads with -dist) as a dcz delta; `wasmship check` passes against it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REPO, Go, base_env, manifest_of, need
from tests.servers import free_port, stop, wait_until_listening
from tests.serving import request

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

# A real server process and Chromium: the live group.
pytestmark = pytest.mark.servers

EXAMPLE = REPO / "examples" / "go-server"
GREETING = "Hello from Go WebAssembly, served by Go!"


@dataclass(frozen=True)
class Checkout:
    """The example and the handler laid out as in the repository (go.mod's replace)."""

    root: Path

    @property
    def example(self) -> Path:
        return self.root / "examples" / "go-server"

    @property
    def dist(self) -> Path:
        return self.example / "dist"


def committed_copy(root: Path) -> Checkout:
    """The example and the handler as a fresh clone has them: the files git tracks (the
    example's dist folder holds the placeholder manifest only)."""
    tracked = subprocess.run(
        [need("git"), "ls-files", "-z", "--", "examples/go-server", "go/wasmshiphttp"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, root / name)
    checkout = Checkout(root)
    assert sorted(p.name for p in checkout.dist.iterdir()) == ["manifest.json"]
    return checkout


def go_build(go: Go, checkout: Checkout) -> Path:
    binary = checkout.root / "go-server"
    proc = subprocess.run(
        [go.binary, "build", "-o", str(binary), "."],
        cwd=checkout.example,
        env=base_env(GOFLAGS="", GOTOOLCHAIN="local"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return binary


def wasmship_build(go: Go, checkout: Checkout) -> None:
    """`wasmship build` in the example, as its README says: into dist/ through wasmship.toml."""
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "build", "--quiet"],
        cwd=checkout.example,
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


@contextmanager
def running(binary: Path, *args: str) -> Iterator[int]:
    port = free_port()
    log = binary.parent / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "-addr", f"127.0.0.1:{port}", *args], stdout=out, stderr=out
        )
    try:
        wait_until_listening(proc, port, log)
        yield port
    finally:
        stop(proc)


def module_path(dist: Path) -> str:
    manifest = json.loads((dist / "manifest.json").read_text())
    path: str = manifest["targets"][0]["files"]["main.wasm"]["path"]
    return path


def test_the_readme_shows_the_two_commands() -> None:
    readme = (EXAMPLE / "README.md").read_text()
    assert "$ wasmship build\n$ go build\n" in readme
    assert 'out = "dist"' in (EXAMPLE / "wasmship.toml").read_text()


def test_go_build_works_in_a_fresh_clone(go: Go, tmp_path: Path) -> None:
    checkout = committed_copy(tmp_path)
    binary = go_build(go, checkout)
    vet = subprocess.run(
        [go.binary, "vet", "./..."],
        cwd=checkout.example,
        env=base_env(GOFLAGS="", GOTOOLCHAIN="local"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert vet.returncode == 0, vet.stderr
    with running(binary) as port:
        page = request(port, "/")
        assert page.status == 503
        assert b"wasmship build" in page.body
        api = request(port, "/api/time")
        assert api.status == 200 and "time" in json.loads(api.body)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, go: Go) -> tuple[Checkout, Path]:
    """The README's two commands run in a fresh copy: the front end, then the server."""
    checkout = committed_copy(tmp_path_factory.mktemp("go-server"))
    wasmship_build(go, checkout)
    return checkout, go_build(go, checkout)


def test_the_embedded_dist_is_served_as_serve_does(built: tuple[Checkout, Path]) -> None:
    checkout, binary = built
    module = module_path(checkout.dist)
    with running(binary) as port:
        br = request(port, "/" + module, {"Accept-Encoding": "gzip, br"})
        assert br.status == 200
        assert br.header("Content-Encoding") == "br"
        assert br.header("Content-Type") == "application/wasm"
        assert br.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert br.body == (checkout.dist / (module + ".br")).read_bytes()
        page = request(port, "/", {"Accept-Encoding": "gzip"})
        assert page.header("Cache-Control") == "no-cache"
        # The dist's page policy, from the manifest's [headers] rule (issue 27).
        [rule] = [r for r in manifest_of(checkout.dist)["headers"] if r["pattern"] == "/*.html"]
        assert page.header("Content-Security-Policy") == rule["set"]["Content-Security-Policy"]
        assert page.header("Content-Encoding") == "gzip"
        etag = page.header("ETag") or ""
        again = request(port, "/", {"Accept-Encoding": "gzip", "If-None-Match": etag})
        assert again.status == 304
        assert request(port, "/main.go").status == 404
        assert request(port, "/", method="POST").status == 405


@pytest.mark.browser
def test_chromium_gets_br_then_dcz_and_check_passes(
    built: tuple[Checkout, Path], go: Go, page: Page
) -> None:
    checkout, binary = built
    first = module_path(checkout.dist)
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    with running(binary, "-dist", str(checkout.dist)) as port:
        # localhost, not 127.0.0.1: Chromium keeps dictionaries only on secure contexts.
        url = f"http://localhost:{port}/"
        page.goto(url)
        page.locator("#time").wait_for(state="attached")
        assert page.locator("#greeting").inner_text() == GREETING
        assert page.locator("#time").inner_text().startswith("The server says it is 20")
        loaded = [r for r in responses if r.url.endswith("/" + first)]
        assert len(loaded) == 1
        assert loaded[0].all_headers().get("content-encoding") == "br"
        assert any(r.url == url + "api/time" and r.status == 200 for r in responses)
        page.wait_for_timeout(500)  # the dictionary is stored once the response has completed

        # A one-line change and a new build into the folder the server reads.
        source = checkout.example / "web" / "main.go"
        source.write_text(source.read_text().replace(GREETING, "Hello again, served by Go!"))
        wasmship_build(go, checkout)
        second = module_path(checkout.dist)
        assert second != first
        responses.clear()
        page.reload()
        page.locator("#time").wait_for(state="attached")
        assert page.locator("#greeting").inner_text() == "Hello again, served by Go!"
        update = [r for r in responses if r.url.endswith("/" + second)]
        assert len(update) == 1, [r.url for r in responses]
        assert update[0].request.all_headers().get("available-dictionary")
        assert update[0].all_headers().get("content-encoding") == "dcz"

        check = subprocess.run(
            [sys.executable, "-m", "wasmship", "check", url],
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert " 0 failed" in check.stdout
