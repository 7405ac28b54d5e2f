"""`wasmship smoke`: run each module of a dist once. js modules run in a headless browser when
there is one (browser.py), else under Node.js (node.py); wasip1 modules run under wazero with a
memory cap, a deadline and what their allow list grants (wasi.py)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from wasmship.cachedir import cache_root
from wasmship.distformat.model import Manifest, TargetEntry
from wasmship.distformat.names import MANIFEST, PAGE
from wasmship.distformat.page import local_path, references
from wasmship.distformat.reader import read_manifest
from wasmship.errors import ManifestError, UsageError
from wasmship.plugins.allowlist import grants
from wasmship.plugins.wazero import Runner, wazero_runner
from wasmship.smoke.browser import browser_runner, choose_browser
from wasmship.smoke.node import node_runner
from wasmship.smoke.runs import Outcome, SmokeReport, SmokeRun, exit_verdict
from wasmship.smoke.wasi import DEFAULT_MEMORY, host_imports, run_wasi

__all__ = ["Call", "Outcome", "SmokeReport", "SmokeRun", "smoke"]

WASM_PAGE = 64 << 10  # wasm memory grows by pages of 64 KiB


@dataclass(frozen=True)
class Call:
    """`--call add 2 3`: an export of a wasip1 target to call after it starts, and its
    arguments as typed."""

    name: str
    args: tuple[str, ...] = ()

    def shown(self, results: tuple[str, ...]) -> str:
        """`add(2, 3) = 5`."""
        return f"{self.name}({', '.join(self.args)}) = {', '.join(results) or '(nothing)'}"


def smoke(
    dist: Path,
    go: str | None,
    environ: Mapping[str, str],
    *,
    timeout: float = 60.0,
    browser: str | None = None,
    settle: float = 2.0,
    memory: int = DEFAULT_MEMORY,
    only: tuple[str, ...] = (),
    call: Call | None = None,
    directory: Path | None = None,
    cache: Path | None = None,
) -> SmokeReport:
    """Run every target of DIST (or ONLY these): js in a browser if one is found (else Node),
    wasip1 under wazero; with CALL, call that export of the one wasip1 target. CACHE is the
    cache folder the wazero runner is kept in (default: the user's)."""
    if memory < WASM_PAGE:
        raise UsageError(f"--memory: {memory} bytes is less than one 64 KiB page of wasm memory")
    manifest = read_manifest(dist)
    for target in manifest.targets:
        if target.module is None:
            raise ManifestError(f"{dist / MANIFEST}: target {target.name!r} has no .wasm file")
    chosen = _chosen(manifest, only, call, directory)
    has_js = any(t.goos == "js" for t in chosen)
    choice = choose_browser(browser, environ) if has_js else None
    wasi = any(t.goos == "wasip1" for t in chosen)
    runner = wazero_runner(go, environ, cache or cache_root(environ)) if wasi else None
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
        for target in chosen:
            if target.goos == "wasip1":
                assert runner is not None
                runs.append(_run_wasi(dist, target, runner, timeout, memory, call, directory))
            elif in_browser is not None:
                on_page = target.module is not None and target.module.path == started_by_page
                runs.append(in_browser.run(target, on_page=on_page))
            elif in_node is not None:
                runs.append(in_node.run(dist, target, timeout))
    return SmokeReport(tuple(runs), choice.hint if choice is not None else "")


def _chosen(
    manifest: Manifest, only: tuple[str, ...], call: Call | None, directory: Path | None
) -> list[TargetEntry]:
    """The targets to run: --target's, else all; with --call, the one wasip1 target."""
    names = [t.name for t in manifest.targets]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise UsageError(
            f"--target {', '.join(unknown)}: no such target (targets: {', '.join(names)})"
        )
    chosen = [t for t in manifest.targets if not only or t.name in only]
    if call is not None:
        plugins = [t for t in chosen if t.goos == "wasip1"]
        if len(plugins) != 1:
            which = ", ".join(t.name for t in plugins)
            raise UsageError(
                f"--call {call.name}: the dist has no wasip1 target to call"
                if not plugins
                else f"--call {call.name}: several wasip1 targets ({which}); pick one with --target"
            )
        interface = plugins[0].interface
        if interface is not None and call.name not in interface.functions():
            raise UsageError(
                f"--call {call.name}: target {plugins[0].name!r} exports no function "
                f"{call.name!r} (it exports {', '.join(interface.functions()) or 'none'})"
            )
        chosen = plugins
    if directory is not None:
        if not directory.is_dir():
            raise UsageError(f"--dir {directory}: no such folder")
        if not any(t.interface and "fs" in (t.interface.allow or ()) for t in chosen):
            raise UsageError(
                f"--dir {directory}: no wasip1 target here is allowed the file system; add "
                '"fs" to its allow list in wasmship.toml and build again'
            )
    return chosen


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


def _run_wasi(
    dist: Path,
    target: TargetEntry,
    runner: Runner,
    timeout: float,
    memory: int,
    call: Call | None,
    directory: Path | None,
) -> SmokeRun:
    module = target.module
    assert module is not None
    needs = host_imports(dist / module.path)
    if needs:
        # wazero would fail to link it ("module[conduit] not instantiated"): no run is a pass or
        # a crash; what runs it is its host, as a DOM module needs a browser.
        why = (
            f"cannot run here: it imports {', '.join(needs)}, which only its host provides "
            "(smoke provides WASI preview 1)"
        )
        return SmokeRun(target.name, runner.runtime, Outcome.NEEDS_HOST, why, needs=needs)
    interface = target.interface
    granted = grants(interface.allow if interface is not None else None)
    result = run_wasi(
        dist / module.path,
        timeout=timeout,
        memory=memory,
        grants=granted,
        directory=directory if "fs" in granted else None,
        call=call.name if call else None,
        call_args=call.args if call else (),
        runner=runner,
        name=target.name,
        imports=tuple(i.key for i in interface.imports) if interface is not None else (),
    )
    stdout = result.stdout
    if result.ok:
        outcome, verdict = Outcome.OK, "ok"
        if call is not None:
            verdict = call.shown(result.results)
            stdout += " ".join(result.results) + "\n"
    else:
        outcome = Outcome.FAILED
        verdict = result.trap or exit_verdict(result.exit_code, result.stderr)
        if result.crashed and "stderr" not in granted:
            verdict += " (stderr is not granted: the module's messages were discarded)"
    return SmokeRun(target.name, result.runtime, outcome, verdict, stdout, result.stderr)
