"""`wasmship smoke`: run each module of a dist once. js modules run in a headless browser when
there is one (browser.py), else under Node.js (node.py); wasip1 modules run under wasmtime
(wasi.py)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from wasmship.dist.manifest import Manifest, TargetEntry
from wasmship.dist.names import MANIFEST, PAGE
from wasmship.dist.page import local_path, references
from wasmship.dist.reader import read_manifest
from wasmship.errors import ManifestError
from wasmship.smoke.browser import browser_runner, choose_browser
from wasmship.smoke.node import node_runner
from wasmship.smoke.results import Outcome, SmokeReport, SmokeRun, exit_verdict
from wasmship.smoke.wasi import run_wasi

__all__ = ["Outcome", "SmokeReport", "SmokeRun", "smoke"]


def smoke(
    dist: Path,
    go: str | None,
    environ: Mapping[str, str],
    *,
    timeout: float = 60.0,
    browser: str | None = None,
    settle: float = 2.0,
) -> SmokeReport:
    """Run every target of DIST: js in a browser if one is found (else Node), wasip1 in wasmtime."""
    manifest = read_manifest(dist)
    for target in manifest.targets:
        if target.module is None:
            raise ManifestError(f"{dist / MANIFEST}: target {target.name!r} has no .wasm file")
    has_js = any(t.goos == "js" for t in manifest.targets)
    choice = choose_browser(browser, environ) if has_js else None
    runs: list[SmokeRun] = []
    with ExitStack() as stack:
        in_browser = in_node = None
        if choice is not None and choice.executable is not None:
            in_browser = stack.enter_context(
                browser_runner(dist, choice.executable, environ, timeout=timeout, settle=settle)
            )
        elif choice is not None:
            # Only Node needs Go: wasm_exec_node.js must come from the Go that built the dist.
            in_node = node_runner(dist, manifest, go, environ, choice.hint)
        started_by_page = page_module(dist, manifest)
        for target in manifest.targets:
            if target.goos == "wasip1":
                runs.append(_run_wasi(dist, target, timeout))
            elif in_browser is not None:
                on_page = target.module is not None and target.module.path == started_by_page
                runs.append(in_browser.run(target, on_page=on_page))
            elif in_node is not None:
                runs.append(in_node.run(dist, target, timeout))
    return SmokeReport(tuple(runs), choice.hint if choice is not None else "")


def page_module(dist: Path, manifest: Manifest) -> str | None:
    """The path of the module that index.html's loader starts (data-wasm), if it has one."""
    entry = next((t.files[PAGE] for t in manifest.targets if PAGE in t.files), None)
    if entry is None:
        return None
    try:
        page = (dist / entry.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # verify reports it; smoke runs every module in its own page instead
    for reference in references(page):
        if reference.attribute == "data-wasm":
            return local_path(entry.path, reference.resolved)
    return None  # the project's own page: how it starts its modules is its business


def _run_wasi(dist: Path, target: TargetEntry, timeout: float) -> SmokeRun:
    module = target.module
    assert module is not None
    result = run_wasi(dist / module.path, timeout=timeout)
    stderr = result.stderr + (f"trap: {result.trap}\n" if result.trap else "")
    if result.exit_code == 0:
        outcome, verdict = Outcome.OK, "ok"
    else:
        outcome = Outcome.FAILED
        verdict = f"trap: {result.trap}" if result.trap else exit_verdict(result.exit_code, stderr)
    return SmokeRun(target.name, _wasmtime(), outcome, verdict, result.stdout, stderr)


def _wasmtime() -> str:
    try:
        return f"wasmtime {version('wasmtime')}"
    except PackageNotFoundError:
        return "wasmtime"
