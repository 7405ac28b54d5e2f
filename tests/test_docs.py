"""The docs stay true to the code: every configuration key and variable is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from wasmship.cli.build import build
from wasmship.settings import BUILD_KEYS, TARGET_KEYS, file_keys

DOCS = Path(__file__).parent.parent / "docs"


def test_every_config_key_and_variable_is_in_the_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    rows = {m.group(1) for m in re.finditer(r"^\| `([a-z-]+)` \|", text, re.M)}
    missing = [key for key in [*file_keys(), *TARGET_KEYS] if key not in rows]
    assert not missing, f"undocumented keys in docs/configuration.md: {missing}"
    for key in BUILD_KEYS:
        if key.env is not None:
            assert f"`{key.env}`" in text, f"{key.env} is not documented"


def test_every_build_flag_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    for param in build.params:
        if isinstance(param, click.Option):
            assert max(param.opts, key=len) in text, f"{param.opts} missing from docs/cli.md"


def test_readme_names_exactly_the_test_command_ci_runs() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci


def test_example_names_in_the_docs_are_what_wasmship_writes_today() -> None:
    # wasmship's own files hash the same on every machine: the docs must show today's names.
    import hashlib
    from importlib.resources import files

    own = {}
    for name in ("loader.js", "loader.css", "icon.svg"):
        stem, ext = name.rsplit(".", 1)
        data = files("wasmship").joinpath("data", name).read_bytes()
        own[(stem, ext)] = hashlib.sha256(data).hexdigest()[:8]
    pattern = re.compile(r"\b(loader|icon)\.([0-9a-f]{8})\.(js|css|svg)\b")
    for doc in [*DOCS.glob("*.md"), DOCS.parent / "README.md"]:
        for match in pattern.finditer(doc.read_text()):
            stem, digest, ext = match.groups()
            expected = own.get((stem, ext))
            if expected is not None:
                assert digest == expected, f"{doc.name}: {match.group(0)} is stale ({expected})"


def test_readme_installs_into_a_virtual_environment_it_makes(tmp_path: Path) -> None:
    # PEP 668: a Debian or Ubuntu system Python refuses a bare `pip install .`. The README's
    # first command makes and enters a venv, so the pip and wasmship after it are the venv's.
    import subprocess

    readme = (DOCS.parent / "README.md").read_text()
    block = readme.split("## Try it", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    first, second = block.strip().splitlines()
    assert second.startswith("pip install . && ")
    probe = f"{first} && command -v pip && command -v python"
    proc = subprocess.run(
        ["bash", "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    venv = str(tmp_path / ".venv" / "bin")
    assert proc.stdout.splitlines() == [f"{venv}/pip", f"{venv}/python"]
