"""The pure rules serve and check share: Accept-Encoding, ranges, request paths, manifests."""

from __future__ import annotations

from typing import Any

import pytest

from wasmship.delivery.negotiation import (
    NotAcceptable,
    choose_variant,
    content_type_matches,
    none_match,
    parse_accept_encoding,
)
from wasmship.delivery.request import ByteRange, Unsatisfiable, parse_range, request_path
from wasmship.distformat.model import FileEntry, Variant
from wasmship.distformat.names import CODINGS
from wasmship.distformat.reader import parse_manifest
from wasmship.errors import ManifestError
from wasmship.preview import is_loopback


def dist_files(document: Any) -> dict[str, FileEntry]:
    """Every file of the dist a manifest document describes, by path."""
    return parse_manifest(document).files_by_path()


def manifest(files: dict[str, Any]) -> dict[str, Any]:
    """A whole manifest document around one target's FILES (each file's own keys as given)."""
    return {
        "schema": 1,
        "tool": {"name": "wasmship", "version": "0"},
        "go": {"version": "go1.26.8"},
        "targets": [{"name": "main", "goos": "js", "package": "example.org/m", "files": files}],
    }


def variants(*codings: str) -> tuple[Variant, ...]:
    return tuple(Variant(c, c, f"f.{c}", 1, c * 8) for c in codings)


ALL = variants("br", "gzip", "zstd")


@pytest.mark.parametrize(
    ("header", "offered", "expected"),
    [
        (None, ALL, None),
        ("", ALL, None),
        ("gzip, br, zstd", ALL, "br"),
        ("gzip, zstd", ALL, "zstd"),
        ("gzip;q=0.9, zstd;q=0.8", ALL, "gzip"),
        ("br;q=0, zstd;q=0, gzip;q=0.001", ALL, "gzip"),
        ("*", variants("gzip"), "gzip"),
        ("*;q=0.5, identity", ALL, None),
        ("br", variants("gzip"), None),
        ("dcz, br", ALL, "br"),
        ("br;q=1.001", ALL, None),  # not a q-value: the member is ignored
        (" GZIP ; Q = 0.5 ", ALL, "gzip"),
    ],
)
def test_choose_variant(
    header: str | None, offered: tuple[Variant, ...], expected: str | None
) -> None:
    chosen = choose_variant(parse_accept_encoding(header), offered)
    assert (chosen.coding if chosen else None) == expected


@pytest.mark.parametrize("header", ["identity;q=0", "*;q=0", "br;q=0, identity;q=0"])
def test_identity_refused_and_nothing_else_is_not_acceptable(header: str) -> None:
    with pytest.raises(NotAcceptable):
        choose_variant(parse_accept_encoding(header), variants("br"))


def test_unknown_codings_in_the_manifest_are_never_served() -> None:
    assert "xz" not in {c.token for c in CODINGS}
    assert choose_variant(parse_accept_encoding("xz"), variants("xz")) is None


def test_a_dcz_delta_is_chosen_only_for_its_own_dictionary() -> None:
    delta = Variant("dcz-" + "ab" * 32, "dcz", "f.ab.dcz", 1, "d" * 64, dictionary="ab" * 32)
    offered = (*ALL, delta)
    chrome = parse_accept_encoding("gzip, deflate, br, zstd, dcb, dcz")
    assert choose_variant(chrome, offered, "ab" * 32) == delta
    assert choose_variant(chrome, offered, "cd" * 32).coding == "br"  # type: ignore[union-attr]
    assert choose_variant(chrome, offered, None).coding == "br"  # type: ignore[union-attr]
    no_dcz = parse_accept_encoding("gzip, br")
    assert choose_variant(no_dcz, offered, "ab" * 32).coding == "br"  # type: ignore[union-attr]


def test_none_match_uses_weak_comparison() -> None:
    assert none_match('W/"abc"', '"abc"')
    assert none_match('"x", "abc"', '"abc"')
    assert none_match("*", '"abc"')
    assert not none_match('"abcd"', '"abc"')
    assert not none_match(None, '"abc"')


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=5-", ByteRange(5, 9)),
        ("bytes=-3", ByteRange(7, 9)),
        ("bytes=-30", ByteRange(0, 9)),
        ("bytes=2-100", ByteRange(2, 9)),
        ("bytes=3-2", None),
        ("bytes=-", None),
        ("bytes=1-2, 4-5", None),
        ("items=1-2", None),
        (None, None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "index.html"),
        ("/?x=1", "index.html"),
        ("/main.abc.wasm", "main.abc.wasm"),
        ("/a%20b.js", "a b.js"),
        ("/sub//x.js#frag", "sub/x.js"),
        ("/../x", None),
        ("/%2e%2e/x", None),
        ("/a%2fb", None),
        ("/a%5cb", None),
        ("/.env", None),
        ("/x%00", None),
        ("/%ff", None),
        ("x", None),
        ("http://host/x", None),
    ],
)
def test_request_path(target: str, expected: str | None) -> None:
    assert request_path(target) == expected


def test_javascript_types_are_interchangeable() -> None:
    assert content_type_matches("text/javascript; charset=utf-8", "application/javascript")
    assert not content_type_matches("text/javascript", "text/plain")
    assert content_type_matches("application/wasm", "Application/Wasm")
    assert not content_type_matches("application/wasm", "application/octet-stream")


def test_loopback_names() -> None:
    assert all(map(is_loopback, ["localhost", "127.0.0.1", "127.8.0.1", "::1", "a.localhost"]))
    assert not any(map(is_loopback, ["example.org", "0.0.0.0", "10.0.0.1", "localhost.evil"]))


def test_a_malformed_manifest_says_where() -> None:
    with pytest.raises(ManifestError, match="targets"):
        dist_files({"schema": 1})
    bad = manifest({"main.wasm": {"path": "m.wasm", "size": -1}})
    with pytest.raises(ManifestError, match=r"targets\[0\]\.files\.main\.wasm\.size"):
        dist_files(bad)


def test_a_variant_may_name_its_coding_and_dictionary() -> None:
    document = manifest(
        {
            "main.wasm": {
                "path": "m.wasm",
                "size": 1,
                "sha256": "a" * 64,
                "integrity": "sha384-" + "A" * 64,
                "content_type": "application/wasm",
                "immutable": True,
                "encodings": {
                    "dcz-1234": {
                        "coding": "dcz",
                        "dictionary": "d" * 64,
                        "path": "m.wasm.1234.dcz",
                        "size": 1,
                        "sha256": "b" * 64,
                    }
                },
            }
        }
    )
    (variant,) = dist_files(document)["m.wasm"].variants
    assert (variant.key, variant.coding, variant.dictionary) == ("dcz-1234", "dcz", "d" * 64)
