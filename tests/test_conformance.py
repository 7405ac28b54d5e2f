"""One conformance table for every server (issue 25 §2): one dist, five servers, one table.

The dist is two builds of the hello fixture (so it keeps a module and has a dcz delta) with zstd
variants and every server config. `wasmship serve`, real nginx, Caddy and Apache (with the
configs wasmship wrote) and the Go handler (examples/go-server -dist) serve it; every row of
REQUESTS goes to each, and what each answers (status, Content-Type, Content-Encoding,
Cache-Control, Vary, Use-As-Dictionary, nosniff, whether an ETag came and a matching
If-None-Match gets 304, and which file the decoded body is) must be the same. `wasmship serve`
is the reference; a server may differ from it only where EXCEPTIONS says so, with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import brotli
import pytest
import zstandard

from tests.conformance import EXCEPTIONS, REQUESTS, Answer, Row, exceptions_for
from tests.conftest import REPO, Go, base_env, build_fixture, build_in, files_of, manifest_of
from tests.servers import REAL_SERVERS, free_port, real_server, stop, wait_until_listening
from tests.serving import Response, request, wasmship_serve

pytestmark = pytest.mark.servers

SERVERS = ("serve", *REAL_SERVERS, "go")
FLAGS = ("--zstd", "--server-config", "nginx,caddy,apache")


# -- the dist and the five servers -----------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """Two builds of hello (a one-line change between): a kept module and a dcz delta."""
    root = tmp_path_factory.mktemp("conformance")
    project = build_fixture(root, go, "hello", *FLAGS)
    main = project / "main.go"
    main.write_text(main.read_text().replace('"hello from Go WebAssembly"', '"hello, again"'))
    build_in(project, go, *FLAGS)
    assert (
        files_of(project / "dist")["main.wasm"]["path"]
        != manifest_of(project / "dist")["previous"][0]["path"]
    )
    return project / "dist"


def go_server(go: Go, out: Path) -> Path:
    binary = out / "go-server"
    proc = subprocess.run(
        [go.binary, "build", "-o", str(binary), "."],
        cwd=REPO / "examples" / "go-server",
        env=base_env(GOFLAGS="", GOTOOLCHAIN="local"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return binary


@pytest.fixture(scope="module")
def ports(dist: Path, go: Go, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """The port of each of the five servers, all serving DIST."""
    home = tmp_path_factory.mktemp("servers")
    for name in REAL_SERVERS:
        (home / name).mkdir()
    binary = go_server(go, home)
    running: dict[str, int] = {}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with wasmship_serve(dist, "--quiet", stderr=home / "serve.log") as served:
            running["serve"] = served.port
            with real_server("nginx", dist, home / "nginx") as nginx:
                running["nginx"] = nginx.port
                with real_server("caddy", dist, home / "caddy") as caddy:
                    running["caddy"] = caddy.port
                    with real_server("apache", dist, home / "apache") as apache:
                        running["apache"] = apache.port
                        port = free_port()
                        log = home / "go.log"
                        with log.open("wb") as out:
                            procs.append(
                                subprocess.Popen(
                                    [str(binary), "-addr", f"127.0.0.1:{port}", "-dist", str(dist)],
                                    stdout=out,
                                    stderr=out,
                                )
                            )
                        wait_until_listening(procs[0], port, log)
                        running["go"] = port
                        yield running
    finally:
        for proc in procs:
            stop(proc)


def resolve(path: str, dist: Path) -> str:
    files = files_of(dist)
    manifest: Any = manifest_of(dist)
    named: dict[str, str] = {
        "page": "/",
        "index.html": "/index.html",
        "manifest": "/manifest.json",
        "module": "/" + files["main.wasm"]["path"],
        "kept module": "/" + manifest["previous"][0]["path"],
        "shim": "/" + files["wasm_exec.js"]["path"],
        "missing": "/nothing-here.js",
        "module.br by name": "/" + files["main.wasm"]["encodings"]["br"]["path"],
    }
    return named.get(path, path)


def available_dictionary(dist: Path, which: str | None) -> str | None:
    if which is None:
        return None
    if which == "other":
        return ":" + "A" * 43 + "=:"
    variants = files_of(dist)["main.wasm"]["encodings"].values()
    (value,) = {v["available_dictionary"] for v in variants if v.get("coding") == "dcz"}
    assert isinstance(value, str)
    return value


def decode(body: bytes, encoding: str | None, dist: Path) -> bytes:
    if encoding is None:
        return body
    if encoding == "br":
        decoded: bytes = brotli.decompress(body)
        return decoded
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        return zstandard.ZstdDecompressor().decompress(body, max_output_size=1 << 26)
    if encoding == "dcz":
        kept = (dist / manifest_of(dist)["previous"][0]["path"]).read_bytes()
        assert body[:8] == b"\x5e\x2a\x4d\x18\x20\x00\x00\x00"
        assert body[8:40] == hashlib.sha256(kept).digest()
        dictionary = zstandard.ZstdCompressionDict(kept, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(
            body[40:], max_output_size=1 << 26
        )
    return b"<unknown coding " + encoding.encode() + b">"


def which_file(data: bytes, dist: Path) -> str:
    digest = hashlib.sha256(data).hexdigest()
    for file in sorted(dist.iterdir()):
        if file.is_file() and hashlib.sha256(file.read_bytes()).hexdigest() == digest:
            return file.name
    return f"<{len(data)} bytes of no dist file>"


def tokens(value: str | None) -> str | None:
    if value is None:
        return None
    return ",".join(sorted({t.strip().lower() for t in value.split(",") if t.strip()}))


def answer_of(reply: Response, row: Row, dist: Path, etag: bool | None) -> Answer:
    if reply.status >= 300 and reply.status != 304:
        # Error pages and redirects are each server's own: the status is the contract.
        return Answer(reply.status)
    encoding = reply.header("Content-Encoding")
    body = None
    if row.method == "GET" and reply.status == 200:
        body = which_file(decode(reply.body, encoding, dist), dist)
    return Answer(
        status=reply.status,
        content_type=(reply.header("Content-Type") or "").replace(" ", "").lower() or None,
        encoding=encoding,
        cache_control=reply.header("Cache-Control"),
        vary=tokens(reply.header("Vary")),
        use_as_dictionary=reply.header("Use-As-Dictionary"),
        nosniff=reply.header("X-Content-Type-Options"),
        etag=etag,
        body=body,
    )


def ask(port: int, row: Row, dist: Path) -> Answer:
    headers: dict[str, str] = {}
    if row.accept is not None:
        headers["Accept-Encoding"] = row.accept
    available = available_dictionary(dist, row.dictionary)
    if available is not None:
        headers["Available-Dictionary"] = available
    path = resolve(row.path, dist)
    reply = request(port, path, headers, row.method)
    etag = reply.header("ETag")
    if not row.conditional:
        return answer_of(reply, row, dist, etag is not None)
    if etag is None:
        return Answer(reply.status, body="<no ETag to revalidate with>")
    again = request(port, path, {**headers, "If-None-Match": etag}, row.method)
    return answer_of(again, row, dist, again.header("ETag") == etag)


def expected_answer(
    server: str, row: Row, reference: Answer, got: Answer, port: int, dist: Path
) -> Answer:
    """What SERVER must answer ROW: serve's answer, but for its EXCEPTIONS."""
    expected = reference
    for exception in exceptions_for(server, row):
        if exception.same_as is not None:
            expected = ask(port, replace(row, path=exception.same_as), dist)
            assert expected.status < 400, (server, exception.same_as, expected)
        if expected.status >= 300 and expected.status != 304:
            expected = replace(expected, status=exception.differs.get("status", expected.status))
            continue  # an error or a redirect is its status only
        expected = replace(expected, **exception.differs)
        expected = replace(expected, **{f: getattr(got, f) for f in exception.ignored})
    return expected


@pytest.mark.parametrize("row", REQUESTS, ids=[r.id for r in REQUESTS])
def test_every_server_answers_as_serve_does(row: Row, ports: dict[str, int], dist: Path) -> None:
    answers = {name: ask(ports[name], row, dist) for name in SERVERS}
    reference = answers["serve"]
    wrong = []
    for name, got in answers.items():
        expected = expected_answer(name, row, reference, got, ports[name], dist)
        if got != expected:
            reasons = [e.reason for e in exceptions_for(name, row)]
            why = f" (exception: {'; '.join(reasons)})" if reasons else ""
            wrong.append(f"{name}: {got.differences(expected)}{why}")
    assert not wrong, f"{row.id}: " + " | ".join(wrong)


def test_every_exception_is_used() -> None:
    """An exception no row needs is stale: the server conforms, the table must say so."""
    for exception in EXCEPTIONS:
        assert any(exception.rows(row) for row in REQUESTS), exception.reason
