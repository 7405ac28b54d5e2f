"""Content types: every extension wasmship types, in the manifest and as real servers send it.

The site-assets fixture's web/ folder holds a small real file of each type (a PNG, an ICO, a
WOFF2, an MP4, a web manifest, ...). It is built once with `--static web` and the server
configs, and real nginx, Caddy and Apache serve it with the configs wasmship wrote.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.conftest import Go, Run, build_fixture, manifest_of
from tests.servers import REAL_SERVERS, real_server
from tests.serving import request
from wasmship.distformat.names import CONTENT_TYPES, content_type

pytestmark = pytest.mark.servers

# What browsers expect for each extension (WHATWG, IANA, nginx's mime.types), written out
# apart from the table in wasmship/distformat/names.py so that a slip in either shows.
EXPECTED = {
    ".wasm": "application/wasm",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".pdf": "application/pdf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".zst": "application/zstd",
}


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The site-assets fixture built with its web folder and the real servers' configs."""
    root = tmp_path_factory.mktemp("assets")
    args = ("--static", "web", "--server-config", "nginx,caddy,apache")
    return build_fixture(root, go, "site-assets", *args) / "dist"


def dist_files(dist: Path) -> list[dict[str, Any]]:
    """Every file entry of every target of DIST's manifest."""
    manifest = manifest_of(dist)
    return [entry for target in manifest["targets"] for entry in target["files"].values()]


def test_the_table_is_the_one_tested() -> None:
    assert CONTENT_TYPES == EXPECTED


@pytest.mark.parametrize("ext", sorted(EXPECTED))
def test_the_manifest_types_every_extension(assets: Path, ext: str) -> None:
    entries = [e for e in dist_files(assets) if PurePosixPath(e["path"]).suffix == ext]
    assert entries, f"the site-assets fixture has no {ext} file"
    for entry in entries:
        assert entry["content_type"] == EXPECTED[ext], entry["path"]


def test_extensions_match_ignoring_case_and_others_are_octet_stream() -> None:
    assert content_type("img/LOGO.PNG") == "image/png"
    assert content_type("Photo.JpEg") == "image/jpeg"
    assert content_type("data.bin") == "application/octet-stream"
    assert content_type("LICENSE") == "application/octet-stream"


@pytest.mark.parametrize("name", REAL_SERVERS)
def test_real_servers_send_the_manifest_types(
    assets: Path, name: str, tmp_path: Path, wasmship: Run
) -> None:
    with real_server(name, assets, tmp_path) as server:
        wrong = []
        for entry in dist_files(assets):
            for coding in ("identity", *entry["encodings"]):
                reply = request(server.port, "/" + entry["path"], {"Accept-Encoding": coding})
                got = (reply.headers.get("Content-Type") or "").replace(" ", "").lower()
                sent = reply.headers.get("Content-Encoding") or "identity"
                # The manifest's type, which is the table's (Apache's T= flag drops the space).
                types = {entry["content_type"], EXPECTED[PurePosixPath(entry["path"]).suffix]}
                same_type = {t.replace(" ", "") for t in types} == {got}
                if reply.status != 200 or not same_type or sent != coding:
                    wrong.append((entry["path"], coding, reply.status, got, sent))
        assert wrong == []
        # `wasmship check` compares every response with the manifest the same way.
        proc = wasmship("check", "--json", server.url, cwd=tmp_path)
    report = json.loads(proc.stdout)
    failed = [r for r in report["results"] if r["outcome"] == "fail"]
    assert proc.returncode == 0 and failed == [], proc.stderr
