"""Client routes (issue 26 §4): `--spa` / `spa = true` recorded in the manifest, and serve, dev,
the server configs, verify and check answering a single-page app's routes with its page.

The five servers against one spa dist are in tests/test_conformance.py (SPA_REQUESTS).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, base_env, build_fixture, manifest_of
from tests.serving import Served, request, wasmship_serve
from tests.test_dev import Session
from wasmship.builder.config import BuildConfig
from wasmship.builder.pipeline import build
from wasmship.dev.session import DevEvent, DevOptions, DevSession
from wasmship.distformat.headers import make_rules
from wasmship.distformat.reader import loads_manifest
from wasmship.errors import ManifestError


@pytest.fixture(scope="module")
def spa_project(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """hello built with --spa and every server config."""
    root = tmp_path_factory.mktemp("spa")
    return build_fixture(
        root, go, "hello", "--spa", "--server-config", "nginx,caddy,netlify,apache"
    )


@pytest.fixture(scope="module")
def served(spa_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    with wasmship_serve(spa_project / "dist", "--quiet", stderr=log) as server:
        yield server


def test_spa_is_recorded_in_the_manifest_and_in_the_inputs(
    wasmship: Run, tmp_path: Path, go: Go
) -> None:
    project = build_fixture(tmp_path, go, "hello")
    dist = project / "dist"
    plain = manifest_of(dist)
    assert "spa" not in plain  # a dist without --spa says nothing: older readers see no change
    (project / "wasmship.toml").write_text("spa = true\n")
    proc = wasmship("build", "--quiet", cwd=project)
    assert proc.returncode == 0, proc.stderr
    spa = manifest_of(dist)
    assert spa["spa"] is True
    # The digest saw it: the dist was built again, not left as it was.
    assert spa["build"]["inputs"] != plain["build"]["inputs"]
    # The flag says false over the file's true? There is no --no-spa; WASMSHIP_SPA=0 does.
    proc = wasmship(
        "build", "--quiet", cwd=project, env=base_env(WASMSHIP_GO=go.binary, WASMSHIP_SPA="0")
    )
    assert proc.returncode == 0, proc.stderr
    again = manifest_of(dist)
    assert "spa" not in again
    assert again["build"]["inputs"] == plain["build"]["inputs"]


def test_a_manifest_without_spa_reads_as_false_and_a_wrong_value_is_refused(
    spa_project: Path,
) -> None:
    document: Any = manifest_of(spa_project / "dist")
    assert loads_manifest(json.dumps(document)).spa is True
    del document["spa"]
    assert loads_manifest(json.dumps(document)).spa is False
    document["spa"] = "yes"
    with pytest.raises(ManifestError, match=r"^spa: expected true or false"):
        loads_manifest(json.dumps(document))


def test_a_wrong_spa_in_wasmship_toml_says_where(wasmship: Run, tmp_path: Path, go: Go) -> None:
    project = tmp_path / "hello"
    shutil.copytree(Path(__file__).parent / "fixtures" / "hello", project)
    (project / "wasmship.toml").write_text('spa = "yes"\n')
    proc = wasmship("build", "--quiet", cwd=project)
    assert proc.returncode == 2, proc.stderr
    assert "wasmship.toml:1" in proc.stderr and "spa" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("route", ["/settings/profile", "/settings/", "/a/b/c", "/settings?tab=2"])
def test_serve_answers_a_client_route_with_the_page(
    served: Served, spa_project: Path, route: str
) -> None:
    page = (spa_project / "dist" / "index.html").read_bytes()
    reply = request(served.port, route, {})
    assert reply.status == 200
    assert reply.body == page
    assert reply.header("Cache-Control") == "no-cache"
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("missing", ["/missing.js", "/settings/app.css", "/a.b/c.wasm", "/.env"])
def test_serve_still_answers_404_for_a_missing_file(served: Served, missing: str) -> None:
    assert request(served.port, missing, {}).status == 404


def test_the_configs_state_the_rule(spa_project: Path) -> None:
    dist = spa_project / "dist"
    helpers = manifest_of(dist)["deploy_helpers"]
    assert helpers["netlify-redirects"]["path"] == "_redirects"
    assert (dist / "_redirects").read_text().splitlines()[-1] == "/*  /index.html  200"
    assert "try_files $uri /index.html;" in (dist / "nginx.conf").read_text()
    assert "rewrite @wasmship_route /index.html" in (dist / "Caddyfile").read_text()
    assert '"index.html" [L]' in (dist / ".htaccess").read_text()
    # A deploy helper is never content: _redirects is hidden like the others.
    assert "_redirects" in (dist / "nginx.conf").read_text().split("deploy helpers")[1]


def test_a_dist_without_spa_has_no_redirects(tmp_path: Path, go: Go) -> None:
    dist = build_fixture(tmp_path, go, "hello", "--server-config", "netlify,nginx") / "dist"
    assert not (dist / "_redirects").exists()
    assert "netlify-redirects" not in manifest_of(dist)["deploy_helpers"]
    assert "try_files" not in (dist / "nginx.conf").read_text()


def test_dev_answers_a_client_route_with_the_page_and_its_reload(
    go: Go, hello: Path, tmp_path: Path
) -> None:
    events: queue.Queue[DevEvent] = queue.Queue()
    coop = make_rules({"/*": {"Cross-Origin-Opener-Policy": "same-origin"}})  # and [headers]
    session = DevSession(
        lambda: BuildConfig(workdir=hello, go=go.binary, spa=True, headers=coop),
        DevOptions(port=0, folder=tmp_path / "dev"),
        events.put,
        build,
    )
    session.start()
    try:
        started = Session(session, events)
        assert started.built().failure is None
        status, headers, page = started.get("/settings/profile")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'<script defer src="/__wasmship/dev.js"' in page
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert started.get("/missing.js")[0] == 404
    finally:
        session.stop()


def run_check(url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "wasmship", "check", "--json", url],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def outcomes(report: dict[str, Any], check: str) -> list[str]:
    return [r["outcome"] for r in report["results"] if r["check"] == check]


def test_check_asks_for_a_client_route(served: Served, spa_project: Path, tmp_path: Path) -> None:
    report = run_check(f"http://127.0.0.1:{served.port}/")
    assert outcomes(report, "client route") == ["ok"], report
    assert outcomes(report, "missing file") == ["ok"]
    assert report["ok"], report
    # The same dist on a host that knows nothing of the rule: its routes are 404, a failure.
    with static_host(spa_project / "dist", tmp_path) as port:
        report = run_check(f"http://127.0.0.1:{port}/")
    assert outcomes(report, "client route") == ["fail"], report
    assert not report["ok"]


def test_check_of_a_dist_without_spa_expects_404(built_hello: Path, tmp_path: Path) -> None:
    with wasmship_serve(built_hello, "--quiet", stderr=tmp_path / "log") as server:
        report = run_check(f"http://127.0.0.1:{server.port}/")
    assert outcomes(report, "unknown path") == ["ok"], report
    assert outcomes(report, "client route") == []  # no --spa


class static_host:
    """python -m http.server over a folder: a host with no rules at all."""

    def __init__(self, folder: Path, home: Path) -> None:
        from tests.servers import free_port

        self.port = free_port()
        self.folder = folder
        self.log = home / "http.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> int:
        from tests.servers import wait_until_listening

        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "http.server", "-b", "127.0.0.1", str(self.port)],
                cwd=self.folder,
                stdout=out,
                stderr=out,
            )
        wait_until_listening(self.proc, self.port, self.log)
        return self.port

    def __exit__(self, *exc: object) -> None:
        from tests.servers import stop

        assert self.proc is not None
        stop(self.proc)
