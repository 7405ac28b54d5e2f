"""Settings resolved without click: defaults < wasmship.toml < WASMSHIP_* < overrides."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from tests.conftest import Go, base_env
from wasmship.cli.build import build, overrides_of
from wasmship.encodings.encoders import Profile
from wasmship.errors import UsageError
from wasmship.settings import BUILD_KEYS, resolve_build
from wasmship.settings.keys import KEYS_BY_NAME

CLI_ONLY = {"as_json"}  # flags about this run's output, not settings of the build


def test_the_table_is_the_build_commands_options() -> None:
    options = {p.name: p for p in build.params if isinstance(p, click.Option) and p.expose_value}
    flags = {name: max(p.opts, key=len) for name, p in options.items() if name not in CLI_ONLY}
    assert flags == {k.name: k.flag for k in BUILD_KEYS if k.flag is not None}
    for name, param in options.items():
        key = KEYS_BY_NAME.get(name)
        if key is not None and param.show_default:
            assert param.default == key.default, name
    (argument,) = [p for p in build.params if isinstance(p, click.Argument)]
    assert (argument.name, argument.default) == ("package", KEYS_BY_NAME["package"].default)


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    (tmp_path / "wasmship.toml").write_text('keep = 5\nldflags = "file"\nprofile = "fast"\n')
    env = {"WASMSHIP_LDFLAGS": "env", "WASMSHIP_KEEP": "4", "WASMSHIP_ZSTD": "1"}
    settings = resolve_build(tmp_path, {"keep": 3}, environ=env)
    config = settings.config
    assert (config.keep, config.ldflags, config.profile, config.zstd) == (
        3,
        "env",
        Profile.FAST,
        True,
    )
    assert config.lock_timeout == KEYS_BY_NAME["lock_timeout"].default  # the default
    assert settings.file is not None and settings.file.path == tmp_path / "wasmship.toml"
    assert resolve_build(tmp_path, environ={}).config.ldflags == "file"


def test_a_flag_left_at_its_default_does_not_hide_the_file(tmp_path: Path) -> None:
    (tmp_path / "wasmship.toml").write_text("keep = 5\nhash = false\nquiet = true\n")
    default = build.make_context("build", [])
    assert overrides_of(default) == {}
    settings = resolve_build(tmp_path, overrides_of(default), environ={})
    assert (settings.config.keep, settings.config.hash_names, settings.quiet) == (5, False, True)
    given = build.make_context("build", ["--keep", "2", "./cmd/app", "-q"])
    assert overrides_of(given) == {"keep": 2, "package": "./cmd/app", "quiet": True}
    assert resolve_build(tmp_path, overrides_of(given), environ={}).config.keep == 2


def test_paths_are_from_where_they_are_written(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "wasmship.toml").write_text('out = "public"\nstatic = "web"\ncache-dir = "c"\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    config = resolve_build(sub, environ={}).config
    assert config.workdir == tmp_path and config.out_path == tmp_path / "public"
    assert (config.static, config.cache_root) == (tmp_path / "web", tmp_path / "c")
    config = resolve_build(sub, {"out": "here"}, environ={"WASMSHIP_CACHE_DIR": "mine"}).config
    assert (config.out_path, config.cache_root) == (sub / "here", sub / "mine")


def test_bad_values_from_the_environment_and_overrides_name_their_source(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^WASMSHIP_JOBS: 'many' is not a number$"):
        resolve_build(tmp_path, environ={"WASMSHIP_JOBS": "many"})
    with pytest.raises(UsageError, match=r"^WASMSHIP_OFFLINE: 'maybe' is not a valid boolean$"):
        resolve_build(tmp_path, environ={"WASMSHIP_OFFLINE": "maybe"})
    with pytest.raises(UsageError, match=r"^--keep: -1 is not in the range x>=0\.$"):
        resolve_build(tmp_path, {"keep": -1}, environ={})
    with pytest.raises(TypeError, match="no such setting: colour"):
        resolve_build(tmp_path, {"colour": "blue"}, environ={})


def test_a_fixture_builds_from_python_without_click(go: Go, hello: Path) -> None:
    # docs/architecture.md: every command is callable from Python without click.
    (hello / "wasmship.toml").write_text('out = "public"\n')
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path

        from wasmship.builder.pipeline import build
        from wasmship.settings import resolve_build

        settings = resolve_build(Path({str(hello)!r}), {{"profile": "fast"}})
        result = build(settings.config)
        assert (result.dist / "manifest.json").is_file(), result.dist
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{"click", "rich"}})
        assert not loaded, loaded
        print(result.dist)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=base_env(WASMSHIP_GO=go.binary),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(hello / "public")
    assert (hello / "public" / "manifest.json").is_file()
