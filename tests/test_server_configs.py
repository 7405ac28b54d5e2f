"""The server configs `build --server-config` writes, served by real nginx, Caddy and Apache."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import jsonschema
import pytest

from tests.conftest import Run, files_of, manifest_of, need
from tests.servers import (
    REAL_SERVERS,
    Server,
    caddy_config,
    caddy_env,
    free_port,
    need_nginx,
    nginx_command,
    nginx_config,
    real_server,
)
from tests.serving import Response, request
from wasmship.distformat.schema import manifest_schema

pytestmark = pytest.mark.servers

IMMUTABLE = "public, max-age=31536000, immutable"
HELPERS = {
    "nginx": "nginx.conf",
    "caddy": "Caddyfile",
    "netlify": "_headers",
    "apache": ".htaccess",
}


# -- the manifest and verify know the helpers ------------------------------------------------


def test_manifest_lists_the_helpers_uncompressed(configured: Path) -> None:
    manifest: Any = manifest_of(configured)
    jsonschema.validate(manifest, manifest_schema())
    helpers = manifest["deploy_helpers"]
    assert {name: h["path"] for name, h in helpers.items()} == HELPERS
    import hashlib

    for helper in helpers.values():
        data = (configured / helper["path"]).read_bytes()
        assert helper["size"] == len(data)
        assert helper["sha256"] == hashlib.sha256(data).hexdigest()
        assert not (configured / (helper["path"] + ".br")).exists()
        assert not (configured / (helper["path"] + ".gz")).exists()
    listed = {entry["path"] for entry in files_of(configured).values()}
    assert not listed & set(HELPERS.values())


def test_verify_knows_the_helpers_and_checks_their_bytes(
    configured: Path, wasmship: Run, tmp_path: Path
) -> None:
    proc = wasmship("verify", "--strict", str(configured), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().endswith("22 files match manifest.json")
    copy = tmp_path / "dist"
    shutil.copytree(configured, copy)
    with (copy / "nginx.conf").open("a") as conf:
        conf.write("location / { return 200; }\n")
    proc = wasmship("verify", str(copy), cwd=tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: nginx.conf: size is ")
    assert "sha256 differs" in errors[0]


def test_unknown_server_config_is_a_usage_error(hello: Path, wasmship: Run) -> None:
    proc = wasmship("build", "--server-config", "nginx,iis", cwd=hello)
    assert proc.returncode == 2
    assert "'iis'" in proc.stderr
    assert "nginx, caddy, netlify, apache" in proc.stderr
    assert not (hello / "dist").exists()


def test_default_build_writes_no_helpers(built_hello: Path) -> None:
    assert "deploy_helpers" not in manifest_of(built_hello)
    assert not any((built_hello / name).exists() for name in HELPERS.values())


# -- real servers ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=REAL_SERVERS)
def server(
    request: pytest.FixtureRequest, configured: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """nginx, Caddy or Apache serving the configured dist with the config wasmship wrote."""
    name: str = request.param
    with real_server(name, configured, tmp_path_factory.mktemp(name)) as running:
        yield running


def get(server: Server, path: str, accept_encoding: str) -> Response:
    return request(server.port, path, {"Accept-Encoding": accept_encoding})


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        result: bytes = brotli.decompress(body)
        return result
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def tokens(value: str | None) -> set[str]:
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


URLS = [
    ("main.wasm", None),
    ("wasm_exec.js", None),
    ("loader.js", None),
    ("index.html", "/"),
    ("index.html", "/index.html"),
]
NEGOTIATION = [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)]


@pytest.mark.parametrize(
    ("accept", "expected_encoding"), NEGOTIATION, ids=["br", "gzip", "identity"]
)
@pytest.mark.parametrize(("logical", "url"), URLS, ids=[u or n for n, u in URLS])
def test_server_sends_the_right_bytes_and_headers(
    server: Server,
    configured: Path,
    logical: str,
    url: str | None,
    accept: str,
    expected_encoding: str | None,
) -> None:
    entry = files_of(configured)[logical]
    reply = get(server, url or "/" + entry["path"], accept)
    assert reply.status == 200
    assert reply.headers["Content-Type"].replace(" ", "").lower() == entry["content_type"].replace(
        " ", ""
    )
    assert reply.headers.get_all("Content-Encoding", []) == (
        [expected_encoding] if expected_encoding else []
    )
    assert decode(reply.body, expected_encoding) == (configured / entry["path"]).read_bytes()
    assert "accept-encoding" in tokens(reply.headers.get("Vary"))
    assert reply.headers["Cache-Control"] == (IMMUTABLE if entry["immutable"] else "no-cache")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_server_sends_the_manifest_uncached(server: Server, configured: Path) -> None:
    reply = get(server, "/manifest.json", "br, gzip")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Cache-Control"] == "no-cache"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.body == (configured / "manifest.json").read_bytes()


@pytest.mark.parametrize("helper", sorted(HELPERS.values()))
def test_server_does_not_serve_the_helpers(server: Server, helper: str) -> None:
    # Apache's `Require all denied` answers 403; nginx and Caddy hide the files with a 404.
    denied = 403 if server.name == "apache" else 404
    assert get(server, "/" + helper, "identity").status == denied


def test_nginx_accepts_the_snippet_without_warnings(configured: Path, tmp_path: Path) -> None:
    nginx = need_nginx()
    conf = nginx_config(configured, tmp_path, free_port())
    proc = subprocess.run(
        nginx_command(nginx, conf, tmp_path, "-t"),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "syntax is ok" in proc.stderr and "test is successful" in proc.stderr
    assert "[warn]" not in proc.stderr and "[emerg]" not in proc.stderr


def test_caddy_validates_the_import(configured: Path, tmp_path: Path) -> None:
    caddy = need("caddy")
    conf = caddy_config(configured, tmp_path, free_port())
    proc = subprocess.run(
        [caddy, "validate", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=caddy_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Valid configuration" in proc.stdout + proc.stderr
    assert '"level":"warn"' not in proc.stderr


# -- the text, rule by rule: hosts that cannot run here, and Apache's rules one by one --------


def parse_headers_file(text: str) -> dict[str, dict[str, str]]:
    """Netlify/Cloudflare `_headers`: a path line, then indented `Name: value` lines."""
    rules: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            assert line not in rules, f"{line} appears twice"
            current = rules[line] = {}
        else:
            assert current is not None
            name, _, value = line.strip().partition(":")
            current[name] = value.strip()
    return rules


def test_headers_file_for_netlify_and_cloudflare(configured: Path) -> None:
    text = (configured / "_headers").read_text()
    assert "compress responses on their own" in text
    assert "do not serve the .br/.gz siblings" in text
    rules = parse_headers_file(text)
    assert rules.pop("/*") == {"X-Content-Type-Options": "nosniff"}
    expected: dict[str, dict[str, str]] = {
        "/manifest.json": {"Content-Type": "application/json", "Cache-Control": "no-cache"}
    }
    for entry in files_of(configured).values():
        headers = {
            "Content-Type": entry["content_type"],
            "Cache-Control": IMMUTABLE if entry["immutable"] else "no-cache",
            "Vary": "Accept-Encoding",
        }
        if entry["path"].endswith(".html"):  # the dist's policy for its pages (issue 27)
            headers["Content-Security-Policy"] = manifest_of(configured)["headers"][0]["set"][
                "Content-Security-Policy"
            ]
        expected["/" + entry["path"]] = headers
        if entry["path"] == "index.html":
            expected["/"] = headers
    assert rules == expected
    assert rules["/" + files_of(configured)["main.wasm"]["path"]]["Content-Type"] == (
        "application/wasm"
    )
    # `rules == expected` also proves there is no Content-Encoding rule: the hosts do that.


def files_match_blocks(text: str) -> list[tuple[re.Pattern[str], list[str]]]:
    """Apache <FilesMatch "regex"> blocks: the compiled regex and the directives inside."""
    blocks = []
    for match in re.finditer(r'<FilesMatch "([^"]+)">\n(.*?)</FilesMatch>', text, re.S):
        lines = [line.strip() for line in match.group(2).splitlines() if line.strip()]
        blocks.append((re.compile(match.group(1)), lines))
    return blocks


def directives_for(blocks: list[tuple[re.Pattern[str], list[str]]], name: str) -> list[str]:
    return [line for regex, lines in blocks if regex.search(name) for line in lines]


def test_htaccess_for_apache(configured: Path) -> None:
    text = (configured / ".htaccess").read_text()
    for module in ("mod_rewrite", "mod_headers", "mod_mime"):
        assert module in text
    assert 'AddType "application/wasm" .wasm' in text
    assert 'Header always set X-Content-Type-Options "nosniff"' in text
    entries = files_of(configured)
    rewrites = re.findall(
        r'RewriteCond "%\{HTTP:Accept-Encoding\}" "([^"]+)" \[NC\]\n'
        r'\s*RewriteCond "%\{HTTP:Accept-Encoding\}" "!([^"]+)" \[NC\]\n'
        r'\s*RewriteCond "%\{REQUEST_FILENAME\}(\.\w+)" -f\n'
        r'\s*RewriteRule "([^"]+)" "\$1(\.\w+)" \[L\]',
        text,
    )
    # Named and not refused: `br;q=0` names br to refuse it (the conformance table found it).
    assert [(suffix, cond, refused) for cond, refused, suffix, _, target in rewrites] == [
        (".br", "(?:^|[ ,])br(?:$|[ ,;])", r"(?:^|[ ,])br *; *q=0(?:\.0*)?(?:$|[ ,;])"),
        (".gz", "(?:^|[ ,])gzip(?:$|[ ,;])", r"(?:^|[ ,])gzip *; *q=0(?:\.0*)?(?:$|[ ,;])"),
    ]
    assert all(suffix == target for _, _, suffix, _, target in rewrites)
    rewrites = [(cond, suffix, pattern, target) for cond, _, suffix, pattern, target in rewrites]
    types = dict(re.findall(r'RewriteRule "([^"]+)" "-" \[T=([^,\]]+),E=no-gzip:1', text))
    blocks = files_match_blocks(text)
    for entry in entries.values():
        path = entry["path"]
        cache = IMMUTABLE if entry["immutable"] else "no-cache"
        for _, suffix, pattern, _ in rewrites:
            assert re.search(pattern, path) and re.search(pattern, "sub/" + path)
            assert not re.search(pattern, path + suffix)
            assert not re.search(pattern, "manifest.json")
        for encoding, variant in entry["encodings"].items():
            sibling = variant["path"]
            [content_type] = [t for p, t in types.items() if re.search(p, sibling)]
            assert content_type == entry["content_type"].replace(" ", "")
            served = directives_for(blocks, sibling)
            assert f'Header set Content-Encoding "{encoding}"' in served
            assert f'Header set Cache-Control "{cache}"' in served
            assert 'Header append Vary "Accept-Encoding"' in served
        served = directives_for(blocks, path)
        assert f'Header set Cache-Control "{cache}"' in served
        assert not any("Content-Encoding" in line for line in served)
    assert directives_for(blocks, "manifest.json") == ['Header set Cache-Control "no-cache"']
    for helper in ("nginx.conf", "Caddyfile", "_headers", ".htaccess"):
        assert directives_for(blocks, helper) == ["Require all denied"]


@pytest.fixture(scope="module")
def zstd_dist(tmp_path_factory: pytest.TempPathFactory, go: Any) -> Path:
    """The hello fixture built with zstd variants and every server config."""
    from tests.conftest import build_fixture

    root = tmp_path_factory.mktemp("zstd")
    return build_fixture(root, go, "hello", "--zstd", "--server-config", "nginx,caddy,apache")


@pytest.mark.parametrize("name", REAL_SERVERS)
def test_a_zstd_dist_behind_each_generated_config_passes_check(
    name: str, zstd_dist: Path, wasmship: Run, tmp_path: Path
) -> None:
    # Debian's nginx has no zstd module: its config must not make the .zst requests fail, and
    # must say at the top what would serve them; Caddy and Apache serve them.
    dist = zstd_dist / "dist"
    assert any(e["encodings"].get("zstd") for e in files_of(dist).values())
    with real_server(name, dist, tmp_path) as running:
        proc = wasmship("check", "--json", running.url, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    zstd = [r for r in results if r["request"] == "Accept-Encoding: zstd"]
    assert zstd
    if name == "nginx":
        conf = (dist / "nginx.conf").read_text()
        top = conf.split("\n\n", 1)[0]
        assert "zstd" in top and "load_module" in top and "zstd_static on;" in top
        coding = [r for r in zstd if r["check"] == "Content-Encoding"]
        assert coding and all(r["outcome"] == "warn" for r in coding)
        assert all(r["outcome"] != "fail" for r in zstd)
    else:
        assert all(r["outcome"] == "ok" for r in zstd), [r for r in zstd if r["outcome"] != "ok"]
