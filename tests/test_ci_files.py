"""docs/ci.md's Makefile target, the pre-commit hooks and the GitHub Action, run for real.

The Makefile runs under `make`, the hooks under `pre-commit try-repo` in a fresh Go repository
(pre-commit installs wasmship from a clone of this repository into its own environment), and
the action's shell steps under bash with the variables GitHub sets, as its runner runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES, REPO, Go, base_env, missing, need

DOC = REPO / "docs" / "ci.md"


def doc_block(heading: str, language: str) -> str:
    """The first LANGUAGE block under HEADING in docs/ci.md."""
    section = DOC.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"docs/ci.md: no {language} block under {heading!r}"
    return found.group(1)


def shims(folder: Path) -> Path:
    """A folder with `wasmship` running this checkout, as `pip install wasmship` would."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "wasmship"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m wasmship "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return folder


def env_with(go: Go, *first: Path, **more: str) -> dict[str, str]:
    env = base_env(WASMSHIP_GO=go.binary, **more)
    path = [*map(str, first), str(Path(go.binary).parent), env.get("PATH", "")]
    env["PATH"] = os.pathsep.join(path)
    return env


def test_the_makefile_target_builds_and_verifies(tmp_path: Path, go: Go) -> None:
    make = need("make")
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    (project / "Makefile").write_text(doc_block("A Makefile target", "make"))
    env = env_with(go, shims(tmp_path / "bin"))
    result = subprocess.run(
        [make, "verify"], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "files match manifest.json" in result.stdout
    assert (project / "dist" / "manifest.json").is_file()


# --- the GitHub Action -------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    try:
        import yaml  # pre-commit's dependency, in the test extra
    except ImportError:
        missing("PyYAML is not installed (pip install -e '.[test]')")
    return yaml.safe_load(path.read_text())


EXPRESSION = re.compile(r"\$\{\{\s*(inputs|steps)\.([\w-]+)(?:\.outputs\.([\w-]+))?\s*\}\}")


def evaluate(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    """TEXT with the action's `${{ inputs.x }}` and `${{ steps.id.outputs.y }}` put in."""

    def value(found: re.Match[str]) -> str:
        if found[1] == "inputs":
            return inputs[found[2]]
        return outputs[found[2]][found[3]]

    return EXPRESSION.sub(value, text)


def read_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_action_is_composite_and_its_shell_steps_run(tmp_path: Path, go: Go) -> None:
    action = load_yaml(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    given = {"version": "9.9.9", "working-directory": "app", "args": "--budget main:br=20MiB"}
    assert set(action["inputs"]) == {*given, "cache-url", "cache-token"}
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(given)
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    shutil.copytree(FIXTURES / "hello", workspace / "app")
    temp.mkdir()
    summary = tmp_path / "summary.md"
    # The install step runs pip; here a python3 that records what it was asked to install.
    pip = shims(tmp_path / "pip")
    (pip / "python3").write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "pip-args"}\n')
    (pip / "python3").chmod(0o755)
    outputs: dict[str, dict[str, str]] = {}
    cached: list[str] = []
    for number, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:  # actions/cache: what it keeps must be what the steps found
            assert step["uses"].startswith("actions/cache@")
            cached += evaluate(step["with"]["path"], inputs, outputs).split()
            assert "${{ github.sha }}" in step["with"]["key"]
            continue
        assert step["shell"] == "bash"
        output = tmp_path / f"output-{number}"
        output.touch()
        first = [pip] if step["name"] == "Install wasmship" else [shims(tmp_path / "bin")]
        env = env_with(
            go,
            *first,
            GITHUB_OUTPUT=str(output),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_WORKSPACE=str(workspace),
            RUNNER_TEMP=str(temp),
            GITHUB_ACTIONS="true",
        )
        for name, text in step.get("env", {}).items():
            env[name] = evaluate(str(text), inputs, outputs)
        cwd = workspace / evaluate(step.get("working-directory", "."), inputs, outputs)
        script = tmp_path / f"step-{number}.sh"
        script.write_text(step["run"])
        # How the runner runs a `shell: bash` step.
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{step['name']}: {result.stdout}{result.stderr}"
        if "id" in step:
            outputs[step["id"]] = read_outputs(output)
    assert (tmp_path / "pip-args").read_text().split() == [
        *("-m", "pip", "install", "--disable-pip-version-check", "--quiet", "wasmship==9.9.9")
    ]
    gocache = subprocess.run(
        [go.binary, "env", "GOCACHE"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert cached == [gocache, os.environ["WASMSHIP_CACHE_DIR"]]
    dist = workspace / "app" / "dist"
    assert outputs["build"]["dist"] == str(dist)
    assert (dist / "manifest.json").is_file()
    text = summary.read_text()
    assert "main" in text and "wasmship verify --strict" in text
    assert action["outputs"]["dist"]["value"] == "${{ steps.build.outputs.dist }}"


# --- pre-commit --------------------------------------------------------------------------


def pre_commit() -> str:
    beside = Path(sys.executable).parent / "pre-commit"  # the test extra installs it here
    return str(beside) if beside.is_file() else need("pre-commit")


def git(*args: str, cwd: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_pre_commit_try_repo_builds_and_verifies_in_a_fresh_go_repository(
    tmp_path: Path, go: Go
) -> None:
    tool = pre_commit()
    hooks = load_yaml(REPO / ".pre-commit-hooks.yaml")
    assert {h["id"]: h["stages"] for h in hooks} == {
        "wasmship-build": ["pre-push", "manual"],
        "wasmship-verify": ["pre-push", "manual"],
    }
    # try-repo installs from a git repository: this one's HEAD with today's hook file.
    clone = tmp_path / "wasmship"
    git("clone", "--quiet", str(REPO), str(clone), cwd=tmp_path)
    shutil.copy(REPO / ".pre-commit-hooks.yaml", clone / ".pre-commit-hooks.yaml")
    git("add", ".pre-commit-hooks.yaml", cwd=clone)
    git("commit", "--quiet", "--allow-empty", "-m", "the hooks under test", cwd=clone)
    project = tmp_path / "hello"
    shutil.copytree(FIXTURES / "hello", project)
    git("init", "--quiet", cwd=project)
    git("add", ".", cwd=project)
    git("commit", "--quiet", "-m", "a Go program", cwd=project)
    env = env_with(go, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env.pop("PYTHONPATH")  # the hook runs the wasmship pre-commit installed, not this checkout
    for hook in ("wasmship-build", "wasmship-verify"):
        result = subprocess.run(
            [tool, "try-repo", str(clone), hook, "--hook-stage", "manual", "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Passed" in result.stdout, result.stdout
        if hook == "wasmship-build":
            assert (project / "dist" / "manifest.json").is_file()
