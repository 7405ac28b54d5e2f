"""`wasmship serve` as a real process, asserted on real HTTP responses."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import brotli
import pytest

from tests.conftest import Go, base_env, build_fixture, manifest_of
from tests.serving import Response, Served, request, wasmship_serve
from wasmship.distformat.reader import parse_manifest

IMMUTABLE = "public, max-age=31536000, immutable"


def entries(dist: Path) -> dict[str, dict[str, Any]]:
    targets: Any = manifest_of(dist)["targets"]
    files: dict[str, dict[str, Any]] = targets[0]["files"]
    return files


@pytest.fixture(scope="module")
def served(built_hello: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with wasmship_serve(built_hello, stderr=log) as server:
        yield server


def decoded(response: Response) -> bytes:
    coding = response.header("Content-Encoding")
    if coding == "br":
        result: bytes = brotli.decompress(response.body)
        return result
    if coding == "gzip":
        return gzip.decompress(response.body)
    assert coding is None, coding
    return response.body


def test_root_and_index_html_serve_the_page_uncached(served: Served, built_hello: Path) -> None:
    page = (built_hello / "index.html").read_bytes()
    for path in ("/", "/index.html", "/index.html?v=2"):
        response = request(served.port, path)
        assert response.status == 200, path
        assert response.body == page
        assert response.header("Content-Type") == "text/html; charset=utf-8"
        assert response.header("Cache-Control") == "no-cache"
        assert response.header("X-Content-Type-Options") == "nosniff"
        assert response.header("Vary") == "Accept-Encoding"
        assert response.header("Content-Length") == str(len(page))


def test_manifest_json_is_served_uncached(served: Served, built_hello: Path) -> None:
    response = request(served.port, "/manifest.json")
    assert response.status == 200
    assert response.body == (built_hello / "manifest.json").read_bytes()
    assert response.header("Content-Type") == "application/json"
    assert response.header("Cache-Control") == "no-cache"
    assert (response.header("ETag") or "").startswith('"')
    again = request(served.port, "/manifest.json", {"If-None-Match": response.header("ETag")})
    assert again.status == 304


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, None),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("BR;Q=0.5, gzip;q=0.8", "gzip"),
        ("gzip;q=1.0, br;q=1", "br"),
        ("identity", None),
        ("zstd", None),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.2", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("gzip;q=0.5, identity", None),
        ("br;q=nonsense, gzip", "gzip"),
    ],
)
def test_wasm_is_negotiated_by_accept_encoding(
    served: Served, built_hello: Path, accept: str | None, expected: str | None
) -> None:
    entry = entries(built_hello)["main.wasm"]
    original = (built_hello / entry["path"]).read_bytes()
    response = request(
        served.port, "/" + entry["path"], {"Accept-Encoding": accept} if accept else {}
    )
    assert response.status == 200
    assert response.header("Content-Encoding") == expected
    assert response.header("Content-Type") == "application/wasm"
    assert response.header("Cache-Control") == IMMUTABLE
    assert response.header("Vary") == "Accept-Encoding"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Content-Length") == str(len(response.body))
    assert decoded(response) == original
    if expected:
        assert response.body == (built_hello / entry["encodings"][expected]["path"]).read_bytes()


@pytest.mark.parametrize("accept", ["identity;q=0, br;q=0, gzip;q=0", "*;q=0"])
def test_nothing_acceptable_is_406(served: Served, built_hello: Path, accept: str) -> None:
    path = "/" + entries(built_hello)["main.wasm"]["path"]
    response = request(served.port, path, {"Accept-Encoding": accept})
    assert response.status == 406
    assert response.header("Vary") == "Accept-Encoding"


def test_every_file_has_its_type_and_cache_policy(served: Served, built_hello: Path) -> None:
    for logical, entry in entries(built_hello).items():
        response = request(served.port, "/" + entry["path"], {"Accept-Encoding": "gzip"})
        assert response.status == 200, logical
        assert response.header("Content-Type") == entry["content_type"]
        expected_cache = IMMUTABLE if entry["immutable"] else "no-cache"
        assert response.header("Cache-Control") == expected_cache, logical
        assert decoded(response) == (built_hello / entry["path"]).read_bytes()
    assert entries(built_hello)["wasm_exec.js"]["immutable"] is True


def test_etags_are_strong_per_representation_and_give_304(
    served: Served, built_hello: Path
) -> None:
    path = "/" + entries(built_hello)["main.wasm"]["path"]
    tags = {}
    for coding in ("identity", "br", "gzip"):
        response = request(served.port, path, {"Accept-Encoding": coding})
        tag = response.header("ETag")
        assert tag and tag.startswith('"') and not tag.startswith("W/"), tag
        tags[coding] = tag
        for form in (tag, f"W/{tag}", f'"nope", {tag}', "*"):
            again = request(served.port, path, {"Accept-Encoding": coding, "If-None-Match": form})
            assert again.status == 304, form
            assert again.body == b""
            assert again.header("ETag") == tag
            assert again.header("Cache-Control") == IMMUTABLE
            assert again.header("Vary") == "Accept-Encoding"
    assert len(set(tags.values())) == 3
    # The br representation's tag does not validate the identity one.
    stale = request(served.port, path, {"Accept-Encoding": "identity", "If-None-Match": tags["br"]})
    assert stale.status == 200
    assert len(stale.body) == entries(built_hello)["main.wasm"]["size"]


def test_head_sends_the_get_headers_without_a_body(served: Served, built_hello: Path) -> None:
    path = "/" + entries(built_hello)["main.wasm"]["path"]
    for accept in ("identity", "br"):
        get = request(served.port, path, {"Accept-Encoding": accept})
        head = request(served.port, path, {"Accept-Encoding": accept}, method="HEAD")
        assert head.status == 200
        assert head.body == b""
        for name in ("Content-Type", "Content-Encoding", "Content-Length", "ETag", "Vary"):
            assert head.header(name) == get.header(name), name


def test_byte_ranges_on_identity(served: Served, built_hello: Path) -> None:
    entry = entries(built_hello)["main.wasm"]
    path, size = "/" + entry["path"], entry["size"]
    original = (built_hello / entry["path"]).read_bytes()
    identity = {"Accept-Encoding": "identity"}
    cases = {
        "bytes=0-7": (0, 7),
        "bytes=-4": (size - 4, size - 1),
        f"bytes={size - 10}-": (size - 10, size - 1),
        f"bytes=100-{size + 500}": (100, size - 1),
    }
    for header, (start, end) in cases.items():
        response = request(served.port, path, {**identity, "Range": header})
        assert response.status == 206, header
        assert response.header("Content-Range") == f"bytes {start}-{end}/{size}"
        assert response.body == original[start : end + 1]
        assert response.header("Content-Length") == str(end - start + 1)
    assert request(served.port, path, {**identity, "Range": "bytes=0-7"}).body == b"\0asm\1\0\0\0"
    full = request(served.port, path, identity)
    assert full.header("Accept-Ranges") == "bytes"

    unsatisfiable = request(served.port, path, {**identity, "Range": f"bytes={size}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.header("Content-Range") == f"bytes */{size}"

    # Ignored: malformed, several ranges, an If-Range that does not match, an encoded response.
    for extra in (
        {"Range": "bytes=7-3"},
        {"Range": "pages=1-2"},
        {"Range": "bytes=0-1,4-5"},
        {"Range": "bytes=0-7", "If-Range": '"other"'},
    ):
        response = request(served.port, path, {**identity, **extra})
        assert response.status == 200, extra
        assert response.body == original
    matching = request(
        served.port, path, {**identity, "Range": "bytes=0-7", "If-Range": full.header("ETag")}
    )
    assert matching.status == 206
    encoded = request(served.port, path, {"Accept-Encoding": "br", "Range": "bytes=0-7"})
    assert encoded.status == 200
    assert encoded.header("Content-Encoding") == "br"
    assert decoded(encoded) == original


def test_other_methods_are_refused(served: Served) -> None:
    response = request(served.port, "/index.html", method="POST")
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD"


def test_missing_file_is_404(served: Served) -> None:
    response = request(served.port, "/nope.wasm")
    assert response.status == 404
    assert response.header("X-Content-Type-Options") == "nosniff"


def test_concurrent_requests_all_succeed(served: Served, built_hello: Path) -> None:
    path = "/" + entries(built_hello)["main.wasm"]["path"]

    def fetch(i: int) -> tuple[int, int]:
        response = request(served.port, path, {"Accept-Encoding": "br" if i % 2 else "identity"})
        return response.status, len(decoded(response))

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(fetch, range(128)))
    assert set(results) == {(200, entries(built_hello)["main.wasm"]["size"])}


def test_a_kept_alive_connection_is_not_held_by_nagle(served: Served, built_hello: Path) -> None:
    # The head and the body are two writes: with Nagle on serve's socket the body waits for
    # the client's delayed ACK (40 ms on Linux) on every request after the first.
    path = "/" + entries(built_hello)["main.wasm"]["path"]
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    times = []
    try:
        for _ in range(12):
            start = time.perf_counter()
            conn.request("GET", path, headers={"Range": "bytes=0-99"})
            response = conn.getresponse()
            assert len(response.read()) == 100 and not response.will_close
            times.append(time.perf_counter() - start)
    finally:
        conn.close()
    assert statistics.median(times[2:]) < 0.02, times


@pytest.fixture
def walled(built_hello: Path, tmp_path: Path) -> Path:
    """A copy of the dist with a secret beside it and symlinks pointing in and out."""
    dist = tmp_path / "site" / "dist"
    shutil.copytree(built_hello, dist)
    (tmp_path / "site" / "secret.txt").write_text("TOP SECRET\n")
    (dist / "out.txt").symlink_to("../secret.txt")
    (dist / "outdir").symlink_to(tmp_path / "site")
    (dist / "alias.html").symlink_to("index.html")
    (dist / ".hidden").write_text("TOP SECRET\n")
    return dist


TRAVERSALS = [
    "/../secret.txt",
    "/../../../../etc/passwd",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2e%2e%5csecret.txt",
    "/..\\secret.txt",
    "/out.txt",
    "/outdir/secret.txt",
    "/.hidden",
    "/%2ehidden",
    "/index.html%00.txt",
    "/%ff%fe",
    "//etc/passwd",
    "/etc/passwd",
    "http://127.0.0.1/../secret.txt",
]


def test_never_serves_outside_the_dist(walled: Path, tmp_path: Path) -> None:
    with wasmship_serve(walled, stderr=tmp_path / "stderr.log") as server:
        for path in TRAVERSALS:
            response = request(server.port, path)
            assert response.status in (403, 404), path
            assert b"SECRET" not in response.body, path
            assert b"root:" not in response.body, path
        inside = request(server.port, "/alias.html")
        assert inside.status == 200
        assert inside.body == (walled / "index.html").read_bytes()
        assert server.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signal(built_hello: Path, tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "stderr.log"
    with wasmship_serve(built_hello, stderr=log) as server:
        # An open keep-alive connection must not hold the shutdown up.
        idle = socket.create_connection(("127.0.0.1", server.port))
        try:
            assert request(server.port, "/").status == 200
            assert server.stop(sig) == 0
        finally:
            idle.close()
    err = log.read_text()
    assert "Traceback" not in err
    assert "stopped" in err


def test_quiet_has_no_access_log(built_hello: Path, tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with wasmship_serve(built_hello, "--quiet", stderr=log) as server:
        assert request(server.port, "/").status == 200
        assert server.stop() == 0
    assert '"GET / HTTP/1.1" 200' not in log.read_text()


def test_access_log_names_requests(built_hello: Path, tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with wasmship_serve(built_hello, stderr=log) as server:
        assert request(server.port, "/").status == 200
        assert server.stop() == 0
    assert '"GET / HTTP/1.1" 200' in log.read_text()


def test_a_rebuilt_manifest_is_picked_up(built_hello: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(built_hello, dist)
    manifest = json.loads((dist / "manifest.json").read_text())
    loader = manifest["targets"][0]["files"]["loader.js"]
    with wasmship_serve(dist, stderr=tmp_path / "stderr.log") as server:
        assert request(server.port, "/" + loader["path"]).header("Cache-Control") == IMMUTABLE
        loader["immutable"] = False
        staged = dist / "manifest.json.new"
        staged.write_text(json.dumps(manifest))
        staged.replace(dist / "manifest.json")
        assert request(server.port, "/" + loader["path"]).header("Cache-Control") == "no-cache"


def run_serve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmship", "serve", *args],
        cwd=cwd,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_dist_is_a_dist_error(tmp_path: Path) -> None:
    proc = run_serve("nowhere", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 4
    assert "nowhere: no such folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_dist_without_manifest_is_a_dist_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "index.html").write_text("<p>hi</p>")
    proc = run_serve("plain", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 4
    assert "plain has no manifest.json: is it a wasmship dist?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_manifest_is_a_dist_error(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "manifest.json").write_text("{not json")
    proc = run_serve("dist", "--port", "0", cwd=tmp_path)
    assert proc.returncode == 4
    assert "manifest.json cannot be read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_port_in_use_is_a_clear_error(built_hello: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_serve(str(built_hello), "--port", str(port), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "--port" in proc.stderr
    assert "Traceback" not in proc.stderr


def nginx_use_as_dictionary(conf: str) -> dict[str, str]:
    """The Use-As-Dictionary value a generated nginx.conf sends, by the file of its location."""
    sent: dict[str, str] = {}
    lines = conf.splitlines()
    path = ""
    for before, line in zip(["", *lines], lines, strict=False):
        if line.startswith("location "):
            path = before.removeprefix("# ").split(" (also kept")[0]  # `# main.1a2b.wasm`
        found = re.fullmatch(r"\s*add_header Use-As-Dictionary '(.*)';", line)
        if found:
            sent[path] = found.group(1)
    return sent


def test_use_as_dictionary_is_what_the_nginx_conf_of_the_build_sends(
    go: Go, tmp_path: Path
) -> None:
    # The relative pattern: the browser resolves it against the response's URL (RFC 9842), so
    # it is right wherever the dist is mounted, and serve says what production will say.
    project = build_fixture(tmp_path, go, "hello", "--server-config", "nginx", "--profile", "fast")
    dist = project / "dist"
    nginx = nginx_use_as_dictionary((dist / "nginx.conf").read_text())
    files = entries(dist)
    assert nginx[files["main.wasm"]["path"]] == 'match="main.*.wasm"', nginx
    assert nginx[files["wasm_exec.js"]["path"]] == 'match="wasm_exec.*.js"', nginx
    paths = parse_manifest(manifest_of(dist)).files_by_path()
    with wasmship_serve(dist, "--quiet", stderr=tmp_path / "serve.log") as server:
        sent = {}
        for path in paths:
            header = request(server.port, "/" + path).header("Use-As-Dictionary")
            if header is not None:
                sent[path] = header
    assert sent == nginx
