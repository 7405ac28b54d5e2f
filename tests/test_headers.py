"""[headers] (issue 26 §3): the project's response headers by path pattern, checked, recorded in
the manifest, and sent by serve, dev and every server config.

Real nginx, Caddy, Apache and the Go handler send them in tests/test_conformance.py (SPA_CONFIG);
Chromium is cross-origin isolated through serve here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import assert_app_ran, open_app
from tests.conftest import Go, Run, build_fixture, manifest_of
from tests.serving import request, wasmship_serve
from tests.test_spa import run_check, static_host
from wasmship.distformat.headers import BadHeaders, headers_for, make_rules
from wasmship.distformat.reader import loads_manifest
from wasmship.errors import ManifestError

if TYPE_CHECKING:
    from playwright.sync_api import Page

ISOLATED = """\
[headers]
"/*" = { Cross-Origin-Opener-Policy = "same-origin", Cross-Origin-Embedder-Policy = "require-corp" }
"/*.wasm" = { X-Robots-Tag = "noindex" }
"""


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    root = tmp_path_factory.mktemp("headers")
    flags = ("--server-config", "nginx,caddy,netlify,apache")
    return build_fixture(root, go, "hello", *flags, config=ISOLATED) / "dist"


def test_patterns_match_the_served_files_path_and_a_later_rule_wins() -> None:
    rules = make_rules(
        {
            "/*": {"A-One": "1", "B-Two": "2"},
            "/assets/*": {"A-One": "assets"},
            "/main.*.wasm": {"C-Three": "3"},
        }
    )
    assert headers_for(rules, "/index.html") == [("A-One", "1"), ("B-Two", "2")]
    assert headers_for(rules, "/assets/css/site.css") == [("B-Two", "2"), ("A-One", "assets")]
    assert ("C-Three", "3") in headers_for(rules, "/main.3f9c2a1b.wasm")
    assert ("C-Three", "3") not in headers_for(rules, "/main.wasm.br")
    assert headers_for(make_rules({"/index.html": {"X": "y"}}), "/index.htmlx") == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"/*": {"Content-Type": "text/plain"}}, "Content-Type cannot be set here"),
        ({"/*": {"content-encoding": "br"}}, "the dist's own rules set it"),
        ({"/*": {"Cache-Control": "no-store"}}, "the dist's own rules set it"),
        ({"/*": {"Vary": "Cookie"}}, "the dist's own rules set it"),
        ({"/*": {"ETag": '"x"'}}, "the dist's own rules set it"),
        ({"/*": {"Transfer-Encoding": "chunked"}}, "for the connection"),
        ({"/*": {"Set-Cookie": "a=b"}}, "sets no cookie"),
        ({"/*": {"Bad Name": "x"}}, "is not a header name"),
        ({"/*": {"X-A": "a\r\nSet-Cookie: b=c"}}, "no control characters"),
        ({"/*": {"X-A": "caf\u00e9"}}, "printable ASCII"),
        ({"/*": {"X-A": "$host"}}, "server configs' own syntax"),
        ({"/*": {"X-A": "{path}"}}, "server configs' own syntax"),
        ({"/*": {"X-A": '"q"'}}, "server configs' own syntax"),
        ({"/*": {"X-A": "x" * 2049}}, "longer than 2048"),
        ({"/*": {"X-A": ""}}, "empty"),
        ({"/*": {"X-A": 1}}, "must be a string"),
        ({"*": {"X-A": "1"}}, "pattern '*'"),
        ({"/a b": {"X-A": "1"}}, "pattern '/a b'"),
        ({"/[a]": {"X-A": "1"}}, "pattern"),
        ({"/*": "X-A"}, "expected a table"),
        ({f"/{i}": {"X-A": "1"} for i in range(33)}, "at most 32"),
        ({"/*": {f"X-{i}": "1" for i in range(17)}}, "at most 16"),
    ],
)
def test_what_would_break_the_dist_or_a_config_is_refused(table: Any, message: str) -> None:
    with pytest.raises(BadHeaders, match=".*" + message.replace("(", r"\(")):
        make_rules(table)


def test_a_refused_header_in_wasmship_toml_names_its_line(
    wasmship: Run, tmp_path: Path, go: Go
) -> None:
    project = build_fixture(tmp_path, go, "hello")
    (project / "wasmship.toml").write_text(
        'spa = false\n\n[headers]\n"/*" = { X-Frame-Options = "DENY" }\n'
        '"/*.wasm" = { Content-Encoding = "br" }\n'
    )
    proc = wasmship("build", "--quiet", cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert "wasmship.toml:5: [headers] Content-Encoding cannot be set here" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_recorded_in_the_manifest_and_read_back_checked(isolated: Path) -> None:
    document: Any = manifest_of(isolated)
    # The build's own rule comes first (the dist's Content-Security-Policy for its pages, issue
    # 27), so the project's [headers] win a header they both set.
    [policy] = [r for r in document["headers"] if r["pattern"] == "/*.html"]
    assert list(policy["set"]) == ["Content-Security-Policy"]
    assert document["headers"][0] == policy
    del document["headers"][0]
    assert document["headers"] == [
        {
            "pattern": "/*",
            "set": {
                "Cross-Origin-Embedder-Policy": "require-corp",
                "Cross-Origin-Opener-Policy": "same-origin",
            },
        },
        {"pattern": "/*.wasm", "set": {"X-Robots-Tag": "noindex"}},
    ]
    assert len(loads_manifest(json.dumps(document)).headers) == 2
    # A manifest edited by anyone: what [headers] refuses, the reader refuses too.
    document["headers"][1]["set"] = {"Content-Type": "text/html"}
    with pytest.raises(ManifestError, match=r"^headers: Content-Type cannot be set here"):
        loads_manifest(json.dumps(document))
    document["headers"] = [{"pattern": "/*", "set": {"X-A": "a\nb"}}]
    with pytest.raises(ManifestError):
        loads_manifest(json.dumps(document))
    del document["headers"]
    assert loads_manifest(json.dumps(document)).headers == ()


def test_serve_sends_them_with_the_files_only(isolated: Path, tmp_path: Path) -> None:
    wasm = manifest_of(isolated)["targets"][0]["files"]["main.wasm"]["path"]
    with wasmship_serve(isolated, "--quiet", stderr=tmp_path / "log") as served:
        page = request(served.port, "/", {"Accept-Encoding": "br"})
        module = request(served.port, f"/{wasm}", {"Accept-Encoding": "gzip"})
        missing = request(served.port, "/missing.js", {})
    assert page.header("Cross-Origin-Opener-Policy") == "same-origin"
    assert page.header("Cross-Origin-Embedder-Policy") == "require-corp"
    assert page.header("X-Robots-Tag") is None
    assert page.header("Content-Encoding") == "br"  # the dist's rules are untouched
    assert module.header("X-Robots-Tag") == "noindex"
    assert module.header("Cross-Origin-Opener-Policy") == "same-origin"
    assert missing.status == 404 and missing.header("Cross-Origin-Opener-Policy") is None


def test_every_config_states_them_where_its_server_reads_them(isolated: Path) -> None:
    nginx = (isolated / "nginx.conf").read_text()
    # nginx drops the server level's add_header in a location with its own: each location
    # states its file's headers, so every location carries COOP.
    locations = [block for block in nginx.split("location ")[1:] if "default_type" in block]
    assert locations and all(
        'add_header Cross-Origin-Opener-Policy "same-origin";' in block for block in locations
    )
    assert (
        'Header set Cross-Origin-Embedder-Policy "require-corp"'
        in (isolated / ".htaccess").read_text()
    )
    assert '    X-Robots-Tag "noindex"' in (isolated / "Caddyfile").read_text()
    netlify = (isolated / "_headers").read_text()
    assert "/index.html\n" in netlify and "  Cross-Origin-Opener-Policy: same-origin" in netlify


def test_chromium_is_cross_origin_isolated_through_serve(
    isolated: Path, tmp_path: Path, page: Page
) -> None:
    """COOP and COEP from [headers] make the page cross-origin isolated (SharedArrayBuffer),
    and the app still runs: every file it loads is same-origin and sent with them."""
    with wasmship_serve(isolated, "--quiet", stderr=tmp_path / "log") as served:
        console = open_app(page, f"http://127.0.0.1:{served.port}/")
        assert_app_ran(page, console)
        assert page.evaluate("crossOriginIsolated") is True
        assert page.evaluate("typeof SharedArrayBuffer") == "function"


def test_check_expects_them_on_every_file_they_match(isolated: Path, tmp_path: Path) -> None:
    with wasmship_serve(isolated, "--quiet", stderr=tmp_path / "log") as served:
        report = run_check(f"http://127.0.0.1:{served.port}/")
    own = [r for r in report["results"] if r["check"].startswith("[headers] ")]
    files = {r["file"] for r in own}
    assert len(files) == len(manifest_of(isolated)["targets"][0]["files"]), own
    assert own and all(r["outcome"] == "ok" for r in own), own
    assert report["ok"], report
    # A host that sends none of them: each is a failure, of the host's settings.
    with static_host(isolated, tmp_path) as port:
        report = run_check(f"http://127.0.0.1:{port}/")
    own = [r for r in report["results"] if r["check"] == "[headers] Cross-Origin-Opener-Policy"]
    assert own and all(r["outcome"] == "fail" and r["host_setting"] for r in own), own
