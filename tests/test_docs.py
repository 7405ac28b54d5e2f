"""The docs stay true to the code: every configuration key and variable is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from wasmship.cli.build import build
from wasmship.cli.configfile import TARGET_KEYS, file_options

DOCS = Path(__file__).parent.parent / "docs"


def test_every_config_key_and_variable_is_in_the_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    rows = {m.group(1) for m in re.finditer(r"^\| `([a-z-]+)` \|", text, re.M)}
    missing = [key for key in [*file_options(build), *TARGET_KEYS] if key not in rows]
    assert not missing, f"undocumented keys in docs/configuration.md: {missing}"
    for param in build.params:
        if isinstance(param, click.Option) and isinstance(param.envvar, str):
            assert f"`{param.envvar}`" in text, f"{param.envvar} is not documented"


def test_every_build_flag_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    for param in build.params:
        if isinstance(param, click.Option):
            assert max(param.opts, key=len) in text, f"{param.opts} missing from docs/cli.md"


def test_readme_names_exactly_the_test_command_ci_runs() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
