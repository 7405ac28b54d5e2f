"""wasmship.toml parsing and checking, and size budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmship.builder.budgets import Budget, BudgetResult, check_budgets, parse_budget_flag
from wasmship.distformat.model import FileEntry, Manifest, TargetEntry, Variant
from wasmship.errors import UsageError
from wasmship.settings import ConfigError, find_config, load_config
from wasmship.units import parse_size


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wasmship.toml"
    path.write_text(text)
    return path


def test_keys_follow_the_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'out = "public"\ntags = ["a", "b"]\nhash = false\nlock-timeout = 5\n'
        'debug-symbols = true\njobs = 2\nldflags = "-X main.v=1"\n',
    )
    config = load_config(path)
    assert config.options == {
        "out": Path("public"),
        "tags": ["a", "b"],
        "no_hash": True,
        "lock_timeout": 5.0,
        "debug_symbols": True,
        "jobs": 2,
        "ldflags": "-X main.v=1",
    }


def test_unknown_key_names_file_line_and_a_near_miss(tmp_path: Path) -> None:
    path = write(tmp_path, '# settings\nout = "dist"\nlock-timout = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}:3: unknown key 'lock-timout' (did you mean 'lock-timeout'?)"
    )
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('jobs = "two"\n', 1, "jobs must be a number"),
        ("jobs = 0\n", 1, "jobs: 0 is not in the range x>=1"),
        ('\nhash = "no"\n', 2, "hash must be true or false"),
        ("tags = [1, 2]\n", 1, "tags must be a list of strings"),
        ("out = 3\n", 1, "out must be a string, not 3"),
    ],
)
def test_bad_values(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{path}:{line}: {message}"):
        load_config(path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "out = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)


def test_a_file_that_is_not_utf8_is_named_with_its_line_and_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "wasmship.toml"
    path.write_bytes(b'out = "d"\n\xff\xfe')
    with pytest.raises(ConfigError, match=f"^{path}:2: not UTF-8 text: byte 0xff at offset 10;"):
        load_config(path)


def test_a_byte_order_mark_is_no_error(tmp_path: Path) -> None:
    path = tmp_path / "wasmship.toml"
    path.write_bytes(b'\xef\xbb\xbfout = "d"\n')
    assert load_config(path).options == {"out": Path("d")}


def test_targets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[target]]\nname = "app"\npackage = "./cmd/app"\ntags = "x,y"\n'
        '[[target]]\nname = "plugin"\npackage = "./cmd/plugin"\ngoos = "wasip1"\n'
        'env = { GOGC = "off" }\n',
    )
    targets = load_config(path).targets
    assert [(t.name, t.package, t.goos, t.tags) for t in targets] == [
        ("app", "./cmd/app", "js", ("x", "y")),
        ("plugin", "./cmd/plugin", "wasip1", ()),
    ]
    assert targets[1].env == (("GOGC", "off"),)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[[target]]\nname = "a"\n[[target]]\nname = "a"\n', 3, "used twice"),
        ('[[target]]\nname = "a"\ngoos = "linux"\n', 3, "goos must be one of js, wasip1"),
        ('[[target]]\nname = "a"\npackge = "."\n', 3, "did you mean 'package'"),
        ('[[target]]\npackage = "."\n', 1, "needs a name"),
    ],
)
def test_bad_targets(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"^{path}:{line}: .*{message}"):
        load_config(path)


def test_budgets_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[budget]\nmain.br = "2 MiB"\nmain.raw = 5000000\n')
    assert load_config(path).budgets == {"main.br": "2 MiB", "main.raw": "5000000"}


def test_find_config_walks_upward(tmp_path: Path) -> None:
    write(tmp_path, "")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "wasmship.toml"
    assert find_config(Path("/")) is None or find_config(Path("/")) == Path("/wasmship.toml")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2 MiB", 2 << 20),
        ("2MiB", 2 << 20),
        ("500KB", 500_000),
        ("1.5 KiB", 1536),
        ("7", 7),
        ("3 MB", 3_000_000),
        ("10 b", 10),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "MiB", "2 TiB", "two", "NaN", "inf", "-1KiB", "1e3", "1" + "0" * 400]
)
def test_bad_sizes(text: str) -> None:
    with pytest.raises(UsageError):
        parse_size(text)


def test_budget_checks() -> None:
    def variant(coding: str, size: int) -> Variant:
        return Variant(coding, coding, f"main.wasm.{coding}", size, "0" * 64)

    module = FileEntry(
        logical="main.wasm",
        path="main.wasm",
        size=3000,
        sha256="0" * 64,
        integrity="",
        content_type="application/wasm",
        immutable=False,
        encodings={"br": variant("br", 900), "gzip": variant("gzip", 1200)},
    )
    manifest = Manifest(
        tool_version="0",
        go_version="go1.26.8",
        targets=(TargetEntry("main", "js", "example.org/m", {"main.wasm": module}),),
    )
    results = check_budgets(
        manifest,
        [
            parse_budget_flag("main:br=1KB"),
            parse_budget_flag("main:gz=1KB"),
            parse_budget_flag("main:zstd=1KB"),
        ],
    )
    assert [(r.budget.encoding, r.size, r.exceeded, r.overshoot) for r in results] == [
        ("br", 900, False, 0),
        ("gzip", 1200, True, 200),
        ("zstd", None, False, 0),
    ]
    with pytest.raises(UsageError, match="no target 'app'"):
        check_budgets(manifest, [Budget("app", "br", 1)])
    with pytest.raises(UsageError, match="TARGET:ENCODING=SIZE"):
        parse_budget_flag("main:br")
    assert BudgetResult(Budget("main", "br", 1), 3).as_json()["exceeded"] is True
