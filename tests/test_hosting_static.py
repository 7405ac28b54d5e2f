"""--hosting static: a host that never sends Content-Encoding still delivers compressed bytes.

The loader fetches the module's .gz by its own URL and decodes it in the browser
(DecompressionStream), streaming into instantiateStreaming. The hosts here are Python's
http.server (Python 3.11 sends `application/wasm` for .wasm, `application/gzip` for .gz and no
Content-Encoding, ever), the suite's knob server sending every .wasm as text/plain and the .gz
as application/octet-stream, and one that labels .gz files `Content-Encoding: gzip` the way
Apache's `AddEncoding gzip .gz` does (the browser then decodes them itself).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import Console, Knobs, Serve, assert_app_ran, open_app, recorded
from tests.conftest import Go, base_env, build_fixture, files_of, manifest_of
from tests.serving import wasmship_serve
from wasmship.check import check_site
from wasmship.distformat.reader import parse_manifest
from wasmship.distformat.schema import schema_problems
from wasmship.errors import ManifestError

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

PRELOAD_WARNING = re.compile(r"preload", re.IGNORECASE)


@pytest.fixture(scope="module")
def built_static(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """hello, built for a static host through wasmship.toml."""
    root = tmp_path_factory.mktemp("static")
    return build_fixture(root, go, "hello", config='hosting = "static"\n') / "dist"


def module_of(dist: Path) -> dict[str, Any]:
    return files_of(dist)["main.wasm"]


@contextmanager
def http_server(dist: Path, log: Path) -> Iterator[str]:
    """`python -m http.server` over DIST: its request log goes to LOG."""
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "-d",
                str(dist),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            env=base_env(),
        )
    try:
        assert proc.stdout is not None
        port = re.search(r"port (\d+)", proc.stdout.readline().decode())
        assert port, log.read_text()
        yield f"http://127.0.0.1:{port[1]}/"
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def gets(log: Path, path: str) -> int:
    """How many GETs of PATH a request log holds."""
    return len(re.findall(rf'"GET /{re.escape(path)} ', log.read_text()))


def wait_past_preload_window(page: Page) -> None:
    """Chromium warns of an unused preload a few seconds after the load event: wait them out."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(3500)


def assert_progress_counts(progress: list[dict[str, Any]], size: int) -> None:
    """From 0 to exactly 1, never back; every byte counted against SIZE (the event at 0 names
    what was asked for, before a byte says what came)."""
    fractions = [e["fraction"] for e in progress]
    assert fractions[0] == 0 and fractions[-1] == 1.0, fractions
    assert fractions == sorted(fractions)
    assert progress[-1]["loaded"] == size and {e["total"] for e in progress[1:]} == {size}


# -- the build -------------------------------------------------------------------------------


def test_the_page_names_the_variants_and_preloads_the_gz(built_static: Path) -> None:
    manifest = manifest_of(built_static)
    assert manifest["hosting"] == "static"
    assert list(schema_problems(manifest)) == []
    assert parse_manifest(manifest).hosting == "static"
    module = module_of(built_static)
    gz, br = module["encodings"]["gzip"], module["encodings"]["br"]
    page = (built_static / "index.html").read_text()
    assert (
        f'data-wasm="{module["path"]}" data-wasm-size="{module["size"]}" '
        f'data-wasm-br="{br["path"]}" data-wasm-br-size="{br["size"]}" '
        f'data-wasm-gzip="{gz["path"]}" data-wasm-gzip-size="{gz["size"]}"'
    ) in page
    # The one variant every browser with DecompressionStream decodes, preloaded without a type
    # (it is not application/wasm on the wire), first among the tags wasmship adds.
    preload = f'<link rel="preload" href="{gz["path"]}" as="fetch" crossorigin="anonymous">'
    assert preload in page
    assert page.index(preload) < page.index('<link rel="stylesheet"')
    assert page.count('rel="preload"') == 1


def test_verify_checks_the_variants_the_page_names(
    built_static: Path, tmp_path: Path, wasmship: Any
) -> None:
    assert wasmship("verify", str(built_static), cwd=tmp_path).returncode == 0
    broken = tmp_path / "dist"
    subprocess.run(["cp", "-r", str(built_static), str(broken)], check=True)
    gz = module_of(built_static)["encodings"]["gzip"]
    page = broken / "index.html"
    page.write_text(page.read_text().replace(f'-gzip-size="{gz["size"]}"', '-gzip-size="7"'))
    proc = wasmship("verify", str(broken), cwd=tmp_path)
    assert proc.returncode == 1
    assert f'data-wasm-gzip-size="7" but {gz["path"]} has {gz["size"]} bytes' in proc.stdout


def test_a_bad_hosting_value_is_refused(hello: Path, wasmship: Any) -> None:
    proc = wasmship("build", "--hosting", "s3", cwd=hello)
    assert proc.returncode == 2
    assert "'s3' is not one of 'negotiate', 'static'" in proc.stderr
    assert not (hello / "dist").exists()


def test_the_reader_refuses_an_unknown_hosting(built_static: Path) -> None:
    document = {**manifest_of(built_static), "hosting": "cdn"}
    with pytest.raises(ManifestError, match="hosting: expected one of 'negotiate', 'static'"):
        parse_manifest(document)


# -- Chromium on hosts that cannot negotiate -------------------------------------------------


@pytest.mark.browser
def test_chromium_decodes_the_gz_from_python_http_server(
    built_static: Path, page: Page, tmp_path: Path
) -> None:
    module = module_of(built_static)
    gz = module["encodings"]["gzip"]
    seen: list[Response] = []
    # Read after: a round trip inside the handler lets the test run on before it appended.
    page.on("response", lambda r: seen.append(r))
    log = tmp_path / "http.log"
    with http_server(built_static, log) as url:
        console = open_app(page, url)
        assert_app_ran(page, console)
        wait_past_preload_window(page)
        response = next(r for r in seen if r.url.endswith("/" + gz["path"]))
        headers, size = response.all_headers(), len(response.body())
    # The module came once, as the gz variant's bytes exactly: no Content-Encoding, no raw module.
    assert gets(log, gz["path"]) == 1
    assert gets(log, module["path"]) == 0
    assert "content-encoding" not in headers
    assert headers["content-type"] == "application/gzip"
    assert int(headers["content-length"]) == size == gz["size"]
    # Progress counts the compressed bytes against the variant's size and reaches exactly 1.
    assert_progress_counts(recorded(page, "progress"), gz["size"])
    assert page.locator("#wasmship-status").get_attribute("data-progress") == "1.0000"
    assert recorded(page, "ready") == [{"module": module["path"]}]
    assert_quiet(console)


def assert_quiet(console: Console) -> None:
    """No error, no MIME warning, and no word of an unused or mismatched preload."""
    assert console.of("error") == []
    assert [w for w in console.of("warning") if PRELOAD_WARNING.search(w)] == []
    assert not [w for w in console.of("warning") if "application/wasm" in w]


@pytest.mark.browser
def test_no_application_wasm_anywhere_is_no_problem(
    built_static: Path, serve: Serve, page: Page
) -> None:
    """Every .wasm sent as text/plain and the .gz as application/octet-stream: still streamed."""
    gz = module_of(built_static)["encodings"]["gzip"]
    server = serve(built_static, Knobs(wasm_content_type="text/plain"))
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    wait_past_preload_window(page)
    served = [s for s in server.log if s.path == "/" + gz["path"]]
    assert [(s.status, s.headers["Content-Type"]) for s in served] == [
        (200, "application/octet-stream")
    ]
    assert_progress_counts(recorded(page, "progress"), gz["size"])
    assert_quiet(console)


class _LabelsGzip(SimpleHTTPRequestHandler):
    """Sends .gz files with Content-Encoding: gzip, as Apache's `AddEncoding gzip .gz` does."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def end_headers(self) -> None:
        if self.path.endswith(".gz"):
            self.send_header("Content-Encoding", "gzip")
        super().end_headers()


@pytest.mark.browser
def test_a_host_that_labels_the_gz_gzip_encoded_works_too(built_static: Path, page: Page) -> None:
    """The browser decodes the body itself; the loader sees \\0asm and does not decode again."""
    module = module_of(built_static)
    handler = partial(_LabelsGzip, directory=str(built_static))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        console = open_app(page, f"http://127.0.0.1:{server.server_address[1]}/")
        assert_app_ran(page, console)
        # Counted as decoded bytes against the module's size, since that is what arrived.
        assert_progress_counts(recorded(page, "progress"), module["size"])
        assert console.of("error") == []
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_without_decompression_stream_the_loader_fetches_the_raw_module(
    built_static: Path, serve: Serve, page: Page
) -> None:
    module = module_of(built_static)
    page.add_init_script("delete globalThis.DecompressionStream")
    server = serve(built_static, Knobs())
    console = open_app(page, server.url)
    assert_app_ran(page, console)
    assert [s.path for s in server.log].count("/" + module["path"]) == 1
    assert_progress_counts(recorded(page, "progress"), module["size"])
    # (The page's preload of the .gz was fetched for nothing in such a browser.)


# -- check -----------------------------------------------------------------------------------


def test_check_asks_a_static_host_for_no_encoding_and_for_the_variants(
    built_static: Path, tmp_path: Path
) -> None:
    """Against http.server: no Content-Encoding or Vary complaint; the .gz is there, its bytes."""
    gz = module_of(built_static)["encodings"]["gzip"]
    with http_server(built_static, tmp_path / "http.log") as url:
        report = check_site(url)
    failed = {(r.check, r.outcome) for r in report.failures}
    assert not {check for check, _ in failed} & {"Content-Encoding", "Vary", "status", "body"}
    checked = {(r.file, r.check): r.outcome for r in report.results}
    assert checked[(gz["path"], "status")] == checked[(gz["path"], "body")] == "ok"
    # What http.server does not do, check still says: no Cache-Control, no nosniff.
    assert {check for check, _ in failed} == {"Cache-Control", "X-Content-Type-Options"}


def test_check_says_the_plain_hosts_failures_are_its_settings_not_the_dist(
    built_static: Path, tmp_path: Path
) -> None:
    """http.server sends no Cache-Control and no nosniff: check still fails (they matter in
    production) but says the files are intact and where the docs say what to set."""
    import json

    env = base_env()
    command = [sys.executable, "-m", "wasmship", "check"]
    with http_server(built_static, tmp_path / "http.log") as url:
        shown = subprocess.run([*command, url], capture_output=True, text=True, env=env)
        as_json = subprocess.run([*command, "--json", url], capture_output=True, text=True, env=env)
    assert shown.returncode == 1, shown.stderr
    assert "all of them headers the host's settings send (the dist's files are intact)" in (
        shown.stderr
    )
    assert "note: every file is there with the manifest's bytes" in shown.stdout
    assert "docs/deploy.md#what-a-plain-static-host-needs" in shown.stdout
    document = json.loads(as_json.stdout)
    assert document["failures"] == document["host_setting_failures"] > 0
    assert all(r["host_setting"] for r in document["results"] if r["outcome"] == "fail")
    assert not any(r["host_setting"] for r in document["results"] if r["check"] == "body")


def test_check_passes_a_static_dist_under_wasmship_serve(
    built_static: Path, tmp_path: Path
) -> None:
    """wasmship serve sends a variant asked for by name as a file, cached as its module."""
    br = module_of(built_static)["encodings"]["br"]
    with wasmship_serve(built_static, stderr=tmp_path / "serve.log") as served:
        report = check_site(served.url)
    assert report.failures == ()
    assert {r.check for r in report.results if r.file == br["path"]} == {
        "status",
        "body",
        "Cache-Control",
    }


# -- the code cache --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_heavy_static(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    root = tmp_path_factory.mktemp("heavy-static")
    return build_fixture(root, go, "heavy", "--profile", "fast", "--hosting", "static") / "dist"


@pytest.mark.browser
def test_a_decoded_module_gets_no_code_cache(
    built_heavy_static: Path, page: Page, tmp_path: Path
) -> None:
    """A Response built from a decoded stream has no URL: V8 never writes a code cache for it,
    and a later visit compiles afresh, though the .gz itself comes from the HTTP cache."""
    from tests.test_loader_code_cache import module_gets, visit

    gz = module_of(built_heavy_static)["encodings"]["gzip"]
    browser_type = page.context.browser.browser_type if page.context.browser else None
    assert browser_type is not None
    with wasmship_serve(built_heavy_static, stderr=tmp_path / "serve.log") as served:
        gz_url = served.url + gz["path"]
        profile = tmp_path / "profile"
        first = visit(browser_type, profile, served.url, gz_url, first=True)
        second = visit(browser_type, profile, served.url, gz_url, first=False)
        assert module_gets(served, gz["path"]) == 1  # the second visit: from the HTTP cache
    assert first.events["wasm.StartStreamingCompilation"] == 1, first.events
    assert first.events["wasm.SerializeModule"] == 0, first.events
    assert second.events["wasm.Deserialize"] == 0, second.events
    assert second.events["wasm.BaselineFinished"] == 1, second.events  # compiled again
    assert second.responses[0]["fromDiskCache"]
    assert_progress_counts(second.progress, gz["size"])
