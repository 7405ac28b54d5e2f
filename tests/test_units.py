"""Pure logic: version parsing, names, windows, page filling."""

from __future__ import annotations

import pytest
from packaging.version import Version

from wasmship.builder.steps.loader import STATUS_HTML, early_fetch_tag, fetched_early, fill_page
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.model import Hosting
from wasmship.distformat.names import hashed_name
from wasmship.encodings.encoders import brotli_window
from wasmship.errors import ToolchainError, UsageError
from wasmship.toolchain.locate import parse_goversion


@pytest.mark.parametrize(
    ("text", "version", "devel"),
    [
        ("go1.22.3", "1.22.3", False),
        ("go1.21", "1.21", False),
        ("go1.23rc1", "1.23rc1", False),
        ("go1.24beta1", "1.24b1", False),
        ("go1.26.8 X:nodwarf5", "1.26.8", False),
        ("devel go1.24-2b4e1a2 Tue Jan 2 10:00:00 2024 +0000", "1.24.999", True),
        ("devel +abcdef", "999", True),
    ],
)
def test_parse_goversion(text: str, version: str, devel: bool) -> None:
    assert parse_goversion(text) == (Version(version), devel)


def test_release_candidates_sort_before_the_release() -> None:
    assert parse_goversion("go1.21rc2")[0] < Version("1.21")
    assert parse_goversion("go1.24rc1")[0] >= Version("1.24rc1")


@pytest.mark.parametrize("text", ["", "1.22", "gopher", "go1.x"])
def test_unparseable_versions_are_toolchain_errors(text: str) -> None:
    with pytest.raises(ToolchainError, match="cannot parse the Go version"):
        parse_goversion(text)


def test_hashed_name_puts_the_hash_before_the_extension() -> None:
    # sha256(b"abc") = ba7816bf...
    abc = sha256_hex(b"abc")
    assert hashed_name("main.wasm", abc) == "main.ba7816bf.wasm"
    assert hashed_name("wasm_exec.js", abc) == "wasm_exec.ba7816bf.js"
    assert hashed_name("LICENSE", abc) == "LICENSE.ba7816bf"


def test_integrity_is_sri_sha384() -> None:
    assert integrity(b"abc") == (
        "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
    )


@pytest.mark.parametrize(
    ("size", "window"),
    # A w-bit window reaches (1 << w) - 16 bytes back, so exactly 4 MiB needs 23 bits.
    [(1, 10), (1000, 10), (1025, 11), (4 << 20, 23), (7 << 20, 23), (1 << 30, 24)],
)
def test_brotli_window_covers_the_file_within_the_format(size: int, window: int) -> None:
    assert brotli_window(size) == window


def test_fill_page_uses_markers_then_falls_back_to_head_and_body() -> None:
    marked = fill_page(
        "<head><!-- wasmship:scripts --></head><body><!-- wasmship:status -->", "S", "t"
    )
    assert marked == f"<head>S</head><body>{STATUS_HTML}"
    plain = fill_page('<html><head></head><body class="x"><p>hi</p></body>', "S", "t")
    assert plain == f'<html><head>S\n</head><body class="x">\n{STATUS_HTML}<p>hi</p></body>'
    own = fill_page('<head></head><body><div id="wasmship-status"></div></body>', "S", "t")
    assert own.count("wasmship-status") == 1
    with pytest.raises(UsageError, match="nowhere to put its script tags"):
        fill_page("<p>nothing</p>", "S", "t.html")


@pytest.mark.parametrize(
    ("hosting", "template", "early"),
    [
        (Hosting.NEGOTIATE, None, True),  # the built-in page
        (Hosting.NEGOTIATE, "<html><head><!-- wasmship:scripts --></head></html>", True),
        (Hosting.STATIC, None, False),  # its page preloads the .gz
        (Hosting.NEGOTIATE, '<html lang="en" data-wasmship-start="manual"><head>', False),
        (Hosting.NEGOTIATE, "<meta http-equiv='Content-Security-Policy' content=\"x\">", False),
        (Hosting.NEGOTIATE, '<head><base href="/app/">', False),
    ],
)
def test_the_page_fetches_early_only_where_it_cannot_go_wrong(
    hosting: Hosting, template: str | None, early: bool
) -> None:
    assert fetched_early(hosting, template) is early


def test_the_early_fetch_names_the_module_as_a_string_no_name_can_end() -> None:
    tag = early_fetch_tag('web/a"</script><script>alert(1)//.wasm')
    assert tag.count("</script>") == 1 and tag.endswith("</script>")
    assert 'new URL("web/a\\"\\u003c/script>\\u003cscript>alert(1)//.wasm",' in tag
