"""The dist's Content-Security-Policy (issue 27 §2): a header from serve and nginx, a <meta> in
every page, no 'unsafe-*'; in Chromium the site-hashed fixture, the built-in page and an
offline build load with no violation, and an injected inline script and eval are blocked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import Knobs, Serve, assert_app_ran, open_app, recorded
from tests.conftest import (
    FIXTURES,
    Go,
    Run,
    base_env,
    build_fixture,
    build_in,
    manifest_of,
)
from tests.servers import REAL_SERVERS, real_server
from tests.serving import request, wasmship_serve
from tests.test_errors import assert_clean_failure
from wasmship.builder.csp import inline_of, meta_policies, source_hash

if TYPE_CHECKING:
    from playwright.sync_api import Page

CSP = "Content-Security-Policy"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    project = tmp_path_factory.mktemp("csp") / "site-hashed"
    shutil.copytree(FIXTURES / "site-hashed", project)
    (project / "wasmship.toml").write_text(
        'static = "web"\nserver-config = ["nginx", "caddy", "apache"]\n\n'
        '[csp]\nconnect-src = ["https://api.example.org"]\nframe-ancestors = ["\'none\'"]\n'
    )
    build_in(project, go)
    return project / "dist"


def _policy(dist: Path) -> str:
    [rule] = [r for r in manifest_of(dist)["headers"] if r["pattern"] == "/*.html"]
    value: str = rule["set"][CSP]
    return value


def test_the_policy_hashes_the_inline_script_and_allows_nothing_unsafe(site: Path) -> None:
    policy = _policy(site)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    page = (site / "index.html").read_text()
    [script] = re.findall(r"<script type=\"module\">(.*?)</script>", page, re.DOTALL)
    assert "import { start } from" in script  # hashed as it stands after rewriting
    assert f"script-src 'self' 'wasm-unsafe-eval' {source_hash(script)}" in policy
    for directive in ("object-src 'none'", "base-uri 'none'", "worker-src 'self'"):
        assert directive in policy
    assert "connect-src 'self' https://api.example.org" in policy  # [csp]
    assert "frame-ancestors 'none'" in policy
    [meta] = meta_policies(page)
    assert meta == policy.replace("; frame-ancestors 'none'", "")  # a meta cannot carry it
    assert "frame-ancestors" not in meta
    assert f'add_header {CSP} "{policy}"' in (site / "nginx.conf").read_text()


@pytest.mark.parametrize("name", REAL_SERVERS)
def test_real_servers_and_serve_send_the_policy(name: str, site: Path, tmp_path: Path) -> None:
    policy = _policy(site)
    with real_server(name, site, tmp_path) as server:
        for path in ("/", "/index.html"):
            assert request(server.port, path).header(CSP) == policy, path
        said = _check(f"http://127.0.0.1:{server.port}/", tmp_path)
        assert {r["outcome"] for r in said if r["check"].endswith(CSP)} == {"ok"}
    with wasmship_serve(site, stderr=tmp_path / "serve.log") as served:
        assert request(served.port, "/").header(CSP) == policy


def test_verify_fails_when_a_page_runs_a_script_the_policy_does_not_hash(
    site: Path, tmp_path: Path, wasmship: Run
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(site, dist)
    page = dist / "index.html"
    page.write_text(page.read_text().replace('start("main.', 'start( "main.'))
    proc = wasmship("verify", str(dist), cwd=dist.parent)
    assert proc.returncode == 1
    assert "index.html:" in proc.stdout and "not in the Content-Security-Policy" in proc.stdout


@pytest.mark.browser
def test_in_chromium_no_violation_and_injected_code_is_blocked(
    site: Path, page: Page, tmp_path: Path
) -> None:
    with wasmship_serve(site, stderr=tmp_path / "serve.log") as served:
        open_app(page, served.url)
        page.locator("#status", has_text="go: hello from JSON").wait_for()
        assert recorded(page, "violations") == []
        injected = page.evaluate(
            """() => new Promise((done) => {
                 const s = document.createElement("script");
                 s.textContent = "window.injected = true";
                 document.body.append(s);
                 setTimeout(() => done(window.injected === true), 100);
               })"""
        )
        assert injected is False
        # Code from a string (a string timer: eval's way in from the page's own task).
        page.evaluate("() => setTimeout('window.evalRan = true', 0)")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.evalRan === true") is False
        violations = recorded(page, "violations")
        assert any(v.startswith("script-src") and v.endswith("inline") for v in violations)
        assert any(v.startswith("script-src") and v.endswith("eval") for v in violations)


@pytest.mark.browser
@pytest.mark.parametrize("flags", [(), ("--offline",)], ids=["built-in", "offline"])
def test_the_built_in_page_runs_under_its_policy(
    flags: tuple[str, ...], tmp_path: Path, go: Go, page: Page
) -> None:
    dist = build_fixture(tmp_path, go, "hello", *flags) / "dist"
    # One inline script, the early fetch of the module (docs/loader.md#early-fetch), by its hash.
    (early,) = inline_of((dist / "index.html").read_text()).scripts
    assert f"script-src 'self' 'wasm-unsafe-eval' {early};" in _policy(dist)
    assert meta_policies((dist / "index.html").read_text()) == [_policy(dist)]
    with wasmship_serve(dist, stderr=tmp_path / "serve.log") as served:
        assert request(served.port, "/").header(CSP) == _policy(dist)
        console = open_app(page, served.url)
        assert_app_ran(page, console)
        assert recorded(page, "violations") == []


def _check(url: str, cwd: Path) -> list[dict[str, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "check", "--json", url],
        cwd=cwd,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    results: list[dict[str, str]] = json.loads(proc.stdout)["results"]
    return results


def test_check_warns_when_a_host_sends_no_policy_or_a_weaker_one(
    site: Path, tmp_path: Path, serve: Serve
) -> None:
    for knobs, said in (
        (Knobs(), "only the pages' <meta> policy applies"),
        (Knobs(headers={CSP: "default-src * 'unsafe-inline'"}), "weaker"),
        # The site's page has an inline script: a policy without its hash blocks it.
        (
            Knobs(headers={CSP: re.sub(r" 'sha256-[^']*'", "", _policy(site))}),
            "blocks the page's inline code: script-src has no 'sha256-",
        ),
    ):
        server = serve(site, knobs)
        found = [r for r in _check(server.url, tmp_path) if r["check"].endswith(CSP)]
        assert found and all(r["outcome"] == "warn" and said in r["actual"] for r in found)


def test_csp_sources_are_checked_and_inline_attributes_found(
    tmp_path: Path, go: Go, wasmship_inproc: Run
) -> None:
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    (project / "wasmship.toml").write_text("[csp]\nscript-src = [\"'unsafe-inline'\"]\n")
    proc = wasmship_inproc("build", "-q", cwd=project)
    assert_clean_failure(proc, 2, "wasmship.toml:2", "'unsafe-inline' is what this policy")
    page = '<body onclick="go()"><p style="color: red">x</p><script>run()</script></body>'
    found = inline_of(page)
    assert found.attributes == ((1, "onclick"), (1, "style"))
    assert found.scripts == (source_hash("run()"),)


@pytest.mark.browser
@pytest.mark.parametrize(
    "adds",
    [
        '<button id="b" onclick="document.title = \'clicked\'">b</button>',
        '<script src="https://cdn.example.org/lib.js" async></script>'
        '<button id="b">b</button><script src="js/click.js"></script>',
    ],
    ids=["event handler", "another origin"],
)
def test_pages_that_need_more_than_the_strict_policy_get_none_and_keep_working(
    adds: str, tmp_path: Path, go: Go, page: Page, wasmship: Run
) -> None:
    """Adoption must not break a page: without a [csp] table, a page with an onclick= or a load
    from another origin gets no policy (a warning says where and how to have one)."""
    project = tmp_path / "site-hashed"
    shutil.copytree(FIXTURES / "site-hashed", project)
    index = project / "web" / "index.html"
    index.write_text(index.read_text().replace("<body>", "<body>\n" + adds, 1))
    (project / "web" / "js" / "click.js").write_text(
        "document.getElementById('b')"
        ".addEventListener('click', () => { document.title = 'clicked' })\n"
    )
    (project / "wasmship.toml").write_text('static = "web"\n')
    proc = wasmship("build", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "index.html:12: " in proc.stderr and "no Content-Security-Policy written" in proc.stderr
    assert "under [csp] in wasmship.toml" in proc.stderr  # data, never rich markup
    dist = project / "dist"
    assert all(r["pattern"] != "/*.html" for r in manifest_of(dist).get("headers", []))
    assert meta_policies((dist / "index.html").read_text()) == []
    with wasmship_serve(dist, stderr=tmp_path / "serve.log") as served:
        assert request(served.port, "/").header(CSP) is None
        page.route("https://cdn.example.org/**", lambda route: route.fulfill(body="", status=200))
        open_app(page, served.url)
        page.locator("#status", has_text="go: hello from JSON").wait_for()
        page.click("#b")
        page.wait_for_function("() => document.title === 'clicked'")
