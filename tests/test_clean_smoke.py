"""`wasmship clean` and `wasmship smoke` on real dists, in headless Chromium and under Node."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Go, Run, base_env, build_fixture, missing, need, snapshot
from tests.test_errors import FAKE_OLD_GO, assert_clean_failure
from wasmship.smoke.browser import PageRun, judge
from wasmship.smoke.runs import Outcome

IN_CHROMIUM = r"\(chromium \d+ at \S+\)"
UNDER_NODE = r"\(node v\d+\.\d+\.\d+\)"
DOM_TARGETS = """\
[[target]]
name = "page"
package = "."

[[target]]
name = "widget"
package = "."
"""


def chromium() -> str:
    """Chromium on PATH and Playwright to drive it: smoke runs js modules in the browser."""
    path = need("chromium")
    if importlib.util.find_spec("playwright") is None:
        missing("the playwright package is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture
def without_browser(go: Go, tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has go and node and no browser: smoke falls back to Node."""
    tools = tmp_path / "no-browser-bin"
    tools.mkdir()
    (tools / "go").symlink_to(go.binary)
    (tools / "node").symlink_to(need("node"))
    return base_env(WASMSHIP_GO=go.binary, PATH=str(tools))


@pytest.fixture(scope="module")
def built_dom(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    """The dom fixture as two js targets: `page` started by index.html, `widget` not."""
    return build_fixture(tmp_path_factory.mktemp("dom"), go, "dom", config=DOM_TARGETS) / "dist"


def test_smoke_runs_the_module_under_node(
    built_hello: Path, wasmship: Run, without_browser: dict[str, str]
) -> None:
    proc = wasmship("smoke", str(built_hello), cwd=built_hello.parent, env=without_browser)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello from Go WebAssembly\n"
    assert re.search(rf"^smoke main: ok {UNDER_NODE}$", proc.stderr, re.M), proc.stderr


def test_smoke_quiet_prints_nothing_for_a_pass(
    built_hello: Path, wasmship: Run, without_browser: dict[str, str]
) -> None:
    proc = wasmship("smoke", "-q", str(built_hello), cwd=built_hello.parent, env=without_browser)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_smoke_json_is_one_document_with_every_run(
    built_hello: Path, wasmship: Run, without_browser: dict[str, str]
) -> None:
    proc = wasmship("smoke", "--json", cwd=built_hello.parent, env=without_browser)  # ./dist
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"ok", "runs", "browser_hint"}
    assert document["ok"] is True and document["browser_hint"] is None
    [run] = document["runs"]
    assert set(run) == {"target", "runtime", "outcome", "verdict", "stdout", "stderr", "console"}
    assert (run["target"], run["outcome"], run["verdict"]) == ("main", "ok", "ok")
    assert run["stdout"] == "hello from Go WebAssembly\n"
    assert run["runtime"].startswith("node v")


def test_smoke_json_of_a_dom_program_under_node_says_it_needs_a_browser(
    built_dom: Path, wasmship: Run, without_browser: dict[str, str]
) -> None:
    proc = wasmship("smoke", "--json", cwd=built_dom.parent, env=without_browser)
    assert proc.returncode == 3, proc.stderr
    document = json.loads(proc.stdout)  # the report, and no second document for the error
    assert document["ok"] is False
    assert {run["outcome"] for run in document["runs"]} == {"needs a browser"}
    assert "pip install 'wasmship[browser]'" in document["browser_hint"]
    assert "use the DOM" in proc.stderr


@pytest.mark.browser
def test_smoke_runs_the_module_in_chromium(built_hello: Path, wasmship: Run) -> None:
    chromium()
    proc = wasmship("smoke", str(built_hello), cwd=built_hello.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello from Go WebAssembly\n"  # the program's stdout, not the console's
    assert re.search(rf"^smoke main: ok {IN_CHROMIUM}$", proc.stderr, re.M), proc.stderr


@pytest.mark.parametrize("runtime", [pytest.param("chromium", marks=pytest.mark.browser), "node"])
def test_smoke_fails_when_the_module_panics(
    project: Callable[[str], Path],
    wasmship: Run,
    without_browser: dict[str, str],
    runtime: str,
) -> None:
    app = project("panic")
    built = wasmship("build", "-q", cwd=app)
    assert built.returncode == 0, built.stderr
    if runtime == "chromium":
        chromium()
    proc = wasmship("smoke", cwd=app, env=without_browser if runtime == "node" else None)
    assert_clean_failure(proc, 1, "panic: boom\n\ngoroutine 1 [running]:", "smoke failed for main")
    label = IN_CHROMIUM if runtime == "chromium" else UNDER_NODE
    assert re.search(rf"^smoke main: exit 2, panic: boom {label}$", proc.stderr, re.M)
    if runtime == "chromium":  # what the page's console said, too
        loader = "stopped: Error: the Go program exited with code 2 (panic: boom)"
        assert re.search(
            rf"^console error: wasmship: main\.\w+\.wasm {re.escape(loader)}$", proc.stderr, re.M
        )
    assert proc.stdout == "about to panic\n"


@pytest.mark.browser
@pytest.mark.toolchain
def test_a_dom_program_passes_in_chromium(built_dom: Path, wasmship: Run) -> None:
    chromium()
    before = snapshot(built_dom)
    proc = wasmship("smoke", "--settle", "1", cwd=built_dom.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "dom fixture: 3 items\n" * 2
    for target in ("page", "widget"):  # in index.html, and in smoke's own page
        line = rf"^smoke {target}: ok, still running after 1 s {IN_CHROMIUM}$"
        assert re.search(line, proc.stderr, re.M), proc.stderr
    assert snapshot(built_dom) == before  # smoke's page is served from memory


@pytest.mark.toolchain
def test_a_dom_program_needs_a_browser_under_node(
    built_dom: Path, wasmship: Run, without_browser: dict[str, str]
) -> None:
    proc = wasmship("smoke", cwd=built_dom.parent, env=without_browser)
    assert_clean_failure(
        proc,
        3,
        "page, widget use the DOM, so smoke could not run them under Node.js",
        "no Chromium or Chrome on PATH",
        "pip install 'wasmship[browser]'",
    )
    for target in ("page", "widget"):
        line = (
            rf"^smoke {target}: needs a browser, it uses the DOM: "
            rf"syscall/js: call of Value\.Call on undefined {UNDER_NODE}$"
        )
        assert re.search(line, proc.stderr, re.M), proc.stderr
    assert "goroutine" not in proc.stderr  # the trace only says Node has no document
    assert "smoke failed" not in proc.stderr


@pytest.mark.browser
def test_an_error_thrown_while_running_fails_in_chromium(
    project: Callable[[str], Path], wasmship: Run
) -> None:
    chromium()
    app = project("dom")
    late = ("--ldflags", "-X main.late=thrown-while-running")
    # The fixture throws through `new Function(...)`: the dist's strict policy blocks that, and
    # smoke says so rather than passing.
    built = wasmship("build", "-q", *late, cwd=app)
    assert built.returncode == 0, built.stderr
    proc = wasmship("smoke", cwd=app)
    assert_clean_failure(proc, 1, "smoke failed for main")
    assert "violates the following Content Security Policy directive" in proc.stderr
    built = wasmship("build", "-q", "--csp-off", *late, cwd=app)
    assert built.returncode == 0, built.stderr
    proc = wasmship("smoke", cwd=app)
    assert_clean_failure(proc, 1, "smoke failed for main")
    line = rf"^smoke main: uncaught error: Error: thrown-while-running {IN_CHROMIUM}$"
    assert re.search(line, proc.stderr, re.M), proc.stderr
    assert proc.stdout == "dom fixture: 3 items\n"


@pytest.mark.browser
def test_a_loader_error_fails_in_chromium(built_hello: Path, wasmship: Run, tmp_path: Path) -> None:
    chromium()
    dist = tmp_path / "dist"
    shutil.copytree(built_hello, dist)
    for module in dist.glob("main.*.wasm*"):
        module.unlink()
    proc = wasmship("smoke", cwd=tmp_path)
    assert_clean_failure(
        proc,
        1,
        "console error: Failed to load resource: the server responded with a status of 404",
        "smoke main: loader error: Could not start the application: main.",
        "HTTP 404",
    )


def test_the_browser_flag_without_playwright_is_a_usage_error(built_hello: Path, go: Go) -> None:
    # An interpreter where `import playwright` fails, as it does without wasmship[browser].
    blocked = "import sys; sys.modules['playwright'] = None; from wasmship.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "smoke", "--browser", chromium(), str(built_hello)],
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_clean_failure(proc, 2, "--browser needs Playwright", "pip install 'wasmship[browser]'")


def test_the_browser_flag_names_a_missing_program(built_hello: Path, wasmship: Run) -> None:
    proc = wasmship("smoke", "--browser", "no-such-browser", str(built_hello), cwd=built_hello)
    assert_clean_failure(proc, 2, "--browser no-such-browser: no such program or file")


@pytest.mark.parametrize(
    ("state", "outcome", "verdict"),
    [
        # An exit code is the program's own word: 0 passes whatever it printed.
        ({"started": True, "exit": 0, "stderr": "panic: a word\n"}, Outcome.OK, "ok"),
        ({"started": True, "exit": None}, Outcome.OK, "ok, still running after 2 s"),
        (
            {
                "started": True,
                "exit": 2,
                "stderr": "x\npanic: boom\n",
                "loader": {"state": "error"},
            },
            Outcome.FAILED,
            "exit 2, panic: boom",
        ),
        (
            {"started": True, "exit": None, "errors": ["TypeError: f is not a function\n    at"]},
            Outcome.FAILED,
            "uncaught error: TypeError: f is not a function",
        ),
        (
            {"started": False, "exit": None, "loader": {"state": "error", "message": "HTTP 404"}},
            Outcome.FAILED,
            "loader error: HTTP 404",
        ),
        (
            {"started": True, "exit": None, "stderr": "fatal error: out of memory\n"},
            Outcome.FAILED,
            "fatal error: out of memory",
        ),
        (
            {"started": False, "exit": None, "loader": {"state": "loading", "message": "40%"}},
            Outcome.FAILED,
            "did not start within 60 s (the loader says 'loading')",
        ),
    ],
)
def test_how_a_page_run_is_judged(state: dict[str, object], outcome: Outcome, verdict: str) -> None:
    assert judge(PageRun(state, ()), timeout=60, settle=2) == (outcome, verdict)


def test_smoke_refuses_a_different_go_under_node(
    built_hello: Path, wasmship: Run, tmp_path: Path, without_browser: dict[str, str]
) -> None:
    fake = tmp_path / "go"
    fake.write_text(FAKE_OLD_GO.replace("go1.20.14", "go1.99.0"))
    fake.chmod(0o755)
    proc = wasmship("smoke", str(built_hello), "--go", str(fake), cwd=tmp_path, env=without_browser)
    assert_clean_failure(proc, 3, "was built with go1.", "go1.99.0", "wasm_exec_node.js")


def test_smoke_without_a_dist(wasmship: Run, tmp_path: Path) -> None:
    proc = wasmship("smoke", "nowhere", cwd=tmp_path)
    assert_clean_failure(proc, 4, "has no manifest.json")


def test_clean_removes_the_dist_and_stale_staging(built_hello: Path, wasmship: Run) -> None:
    root = built_hello.parent.parent / "clean-me"
    shutil.copytree(built_hello, root / "dist")
    (root / ".dist.wasmship-staging-99999").mkdir()
    (root / ".dist.wasmship-staging-99999" / "main.wasm").write_bytes(b"half")
    (root / "keep.txt").write_text("mine")
    proc = wasmship("clean", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["keep.txt"]
    assert "removed" in proc.stdout
    again = wasmship("clean", cwd=root)
    assert again.returncode == 0 and "nothing to clean" in again.stdout


def test_clean_json_lists_what_it_removed(built_hello: Path, wasmship: Run) -> None:
    root = built_hello.parent.parent / "clean-json"
    shutil.copytree(built_hello, root / "dist")
    proc = wasmship("clean", "--json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document) == {"ok", "dist", "removed"}
    assert document["ok"] is True and document["dist"] == "dist"
    assert document["removed"] == [str((root / "dist").resolve())]
    again = wasmship("clean", "--json", "-q", cwd=root)
    assert again.returncode == 0 and json.loads(again.stdout)["removed"] == []


def test_clean_refuses_a_folder_wasmship_did_not_write(wasmship: Run, tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "precious.txt").write_text("x")
    before = snapshot(tmp_path)
    proc = wasmship("clean", cwd=tmp_path)
    assert_clean_failure(proc, 2, "refusing to remove", "no wasmship manifest.json")
    assert snapshot(tmp_path) == before
    as_json = wasmship("clean", "--json", cwd=tmp_path)
    assert_clean_failure(as_json, 2, "refusing to remove")
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "error": as_json.stderr.removeprefix("wasmship: error: ").rstrip("\n"),
        "exit_code": 2,
    }
