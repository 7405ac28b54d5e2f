"""wasmship size, the pure parts: names to packages, the wasm reader, the linker's graph and
nm's tables, apportioning, the treemap, diffs and the stored data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasmship.size.diff import diff, signed_size
from wasmship.size.estimate import apportion
from wasmship.size.model import Item, ModuleSize, PackageSize, module_from_json
from wasmship.size.store import load, save, stored_path
from wasmship.size.symbols import data_by_package, owner, parse_nm
from wasmship.size.treemap import Rect, squarify
from wasmship.size.wasm import memory_image, parse_module
from wasmship.toolchain.dumpdep import parse_dumpdep
from wasmship.toolchain.symbols import function_package, package_of
from wasmship.wasm.binary import NotWasm


@pytest.mark.parametrize(
    ("symbol", "package"),
    [
        ("encoding/xml.(*printer).marshalValue", "encoding/xml"),
        ("encoding/xml.Marshal", "encoding/xml"),
        ("runtime.gcWriteBarrier1", "runtime"),
        ("main.main", "main"),
        ("main.main.func1", "main"),
        ("example.com/app/internal/db.(*Conn).Query.deferwrap1", "example.com/app/internal/db"),
        ("gopkg.in/yaml%2ev3.Marshal", "gopkg.in/yaml.v3"),
        ("sync/atomic.(*Pointer[go.shape.struct { a/b.c int }]).Load", "sync/atomic"),
        ("slices.Sort[[]string,string]", "slices"),
        ("encoding/xml..stmp_7", "encoding/xml"),
        ("main..gobytes.1", "main"),
        ("type:*encoding/xml.Decoder", "encoding/xml"),
        ("type:noalg.[8]encoding/xml.T", "encoding/xml"),
        ("type:[]github.com/a/b.T", "github.com/a/b"),
        ("go:itab.*os.File,io.Writer", "os"),
        ("go:buildinfo", "runtime"),
        ("_rt0_wasm_js", "runtime"),
        ("wasm_export_run", "runtime"),
        ("memeqbody", "internal/bytealg"),
        # Names that say no package: the first symbol referring to them decides.
        ('go:string."hello"', None),
        ("gclocals·g5+hNtRBP6YXNjfog7aZjQ==", None),
        ("type:[]uint8", None),
        ("type:map[string]int", None),
        ("type:func(*sync/atomic.Pointer[os.dirInfo]) bool", None),
        ("type:.namedata.*main.T-", None),
    ],
)
def test_a_symbol_names_its_package(symbol: str, package: str | None) -> None:
    assert package_of(symbol) == package


def test_a_function_always_has_a_package() -> None:
    assert function_package("go:string.odd") == "runtime"


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _section(id: int, payload: bytes) -> bytes:
    return bytes([id]) + _leb(len(payload)) + payload


def _name(text: str) -> bytes:
    return _leb(len(text)) + text.encode()


def small_module(first: str = "main.main", second: str = "runtime.f") -> bytes:
    """A module with one imported and two defined functions, two data segments, names."""
    imports = _leb(1) + _name("go") + _name("debug") + b"\x00" + _leb(0)
    code = _leb(2) + _leb(3) + b"\x00\x01\x0b" + _leb(200) + b"\x00" * 199 + b"\x0b"
    data = _leb(2)
    data += b"\x00\x41" + _leb(16) + b"\x0b" + _leb(4) + b"abcd"
    data += b"\x00\x41" + _leb(300) + b"\x0b" + _leb(2) + b"xy"  # 300: a two-byte LEB128
    names = (
        _name("name")
        + bytes([1])
        + _leb(len(sub := _leb(2) + _leb(1) + _name(first) + _leb(2) + _name(second)))
        + sub
    )
    return (
        b"\0asm\1\0\0\0"
        + _section(2, imports)
        + _section(10, code)
        + _section(11, data)
        + _section(0, names)
    )


def test_the_reader_finds_bodies_segments_and_names() -> None:
    raw = small_module()
    module = parse_module(raw)
    assert module.imported_functions == 1
    assert [(b.size, b.prefix) for b in module.bodies] == [(3, 1), (200, 2)]
    assert [module.body_name(i) for i in range(2)] == ["main.main", "runtime.f"]
    assert [(s.address, s.size) for s in module.segments] == [(16, 4), (300, 2)]
    assert [s.header for s in module.segments] == [5, 6]
    image = memory_image(raw, module)
    assert image[16:20] == b"abcd" and image[300:302] == b"xy" and image[20:300] == bytes(280)
    assert [s.kind for s in module.sections] == ["import", "code", "data", "custom:name"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"PK\3\4not wasm", "no \\0asm magic"),
        (b"\0asm\2\0\0\0", "version 02000000"),
        (b"\0asm\1\0\0\0\x0a\x10\x01", "truncated"),
    ],
)
def test_the_reader_refuses_what_is_not_a_module(raw: bytes, message: str) -> None:
    with pytest.raises(NotWasm, match=message.replace("\\", "\\\\")):
        parse_module(raw)


def test_the_graph_and_the_symbol_tables() -> None:
    graph = parse_dumpdep(
        "# example.com/app\n"
        "_ -> main.main\n"
        'main.main -> go:string."hi" <UsedInIface>\n'
        "main.main -> main.blob\n"
        "main.blob -> main..gobytes.1\n"
        'runtime.throw -> go:string."hi"\n'
        "main.main -> gclocals·abc\n"
    )
    assert "main.main" in graph.reached and "_" not in graph.reached
    assert graph.referrer['go:string."hi"'] == "main.main"  # the first referrer wins
    assert owner('go:string."hi"', graph) == "main"
    nm = parse_nm(
        "/cache/a-d:\t    2e03    1048576 D main..gobytes.1<1>\n"
        "/cache/a-d:\t      10         24 D main.blob\n"
        '/cache/a-d:\t      20          3 R go:string."hi"\n'
        '/cache/b-d:\t      20          3 R go:string."hi"\n'
        "/cache/a-d:\t      90        300 T main.main\n"
        "/cache/a-d:\t                  0 U runtime.throw\n"
        "/cache/a-d:\t      99          8 R main.unused\n"
        "/cache/a-d:\t      99         16 R gclocals·abc\n"
    )
    assert nm["main..gobytes.1"] == ("D", 1048576)
    assert "runtime.throw" not in nm
    data = data_by_package(nm, graph)
    # Code (T), unreached and undefined symbols are not data; a duplicate counts once.
    assert data == {
        "main": {
            "main..gobytes.1": 1048576,
            "main.blob": 24,
            'go:string."hi"': 3,
            "gclocals·abc": 16,
        }
    }


def test_apportion_adds_up_exactly_and_is_stable() -> None:
    shares = apportion(10, {"a": 1, "b": 1, "c": 1})
    assert sum(shares.values()) == 10 and sorted(shares.values()) == [3, 3, 4]
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == shares
    assert apportion(0, {"a": 5}) == {"a": 0}
    assert apportion(7, {}) == {}


def test_the_treemap_fills_its_area_in_proportion() -> None:
    sizes = [600, 300, 60, 30, 10, 0]
    rects = squarify(sizes, Rect(0, 0, 100, 50))
    assert len(rects) == len(sizes)
    for size, rect in zip(sizes, rects, strict=True):
        assert rect.w * rect.h == pytest.approx(size / 1000 * 5000)
        assert rect.x >= 0 and rect.x + rect.w <= 100.001 and rect.y + rect.h <= 50.001
    # Squarified: the large rectangles are not slivers.
    assert max(rects[0].w / rects[0].h, rects[0].h / rects[0].w) < 3


def _module(packages: dict[str, tuple[int, int]], total: int, sha: str, br: int) -> ModuleSize:
    return ModuleSize(
        module="main.wasm",
        path=f"main.{sha[:8]}.wasm",
        target="main",
        sha256=sha,
        total=total,
        br=br,
        packages=tuple(
            PackageSize(name, code, data, (code + data) // 4, (Item(f"{name}.f", code),))
            for name, (code, data) in packages.items()
        ),
        unattributed={"module structure": 100},
        unattributed_br=25,
    )


def test_a_diff_names_what_grew_and_what_is_new() -> None:
    before = _module(
        {"runtime": (1000, 500), "fmt": (300, 100), "old": (50, 0)}, 2050, "a" * 64, 500
    )
    after = _module(
        {"runtime": (1100, 500), "fmt": (300, 100), "encoding/xml": (200_000, 15_000)},
        217_100,
        "b" * 64,
        60_000,
    )
    change = diff(before, after)
    assert change.raw == 215_050 and change.br == 59_500
    assert [(c.name, c.status) for c in change.packages] == [
        ("encoding/xml", "new"),
        ("runtime", "changed"),
        ("old", "gone"),
    ]
    assert change.packages[0].raw > 0 and change.packages[2].raw == -50
    assert change.line() == (
        "main.wasm +210.0 KiB raw / +58.1 KiB br: encoding/xml +210.0 KiB (new), "
        "runtime +100 B, old -50 B (gone)"
    )
    assert change.grew(1024) and not diff(after, before).grew(0)
    assert signed_size(0) == "±0 B"


def test_size_data_is_stored_by_module_hash(tmp_path: Path) -> None:
    size = _module({"runtime": (1000, 500)}, 1600, "c" * 64, 400)
    path = save(tmp_path, size)
    assert path == stored_path(tmp_path, "c" * 64) and path.is_file()
    assert load(tmp_path, "c" * 64) == size
    assert module_from_json(json.loads(path.read_text())) == size
    assert load(tmp_path, "d" * 64) is None
    path.write_text("{not json")
    assert load(tmp_path, "c" * 64) is None  # a damaged entry is no data, not a failure


def test_without_go_tables_the_name_section_spelling_is_matched_to_import_paths() -> None:
    # The name section spells `/`, `*` and `(` as `_`: encoding_xml could be encoding/xml or a
    # package really called encoding_xml; the build's import paths decide.
    from wasmship.size.attribute import _functions

    module = parse_module(small_module("encoding_xml.__printer_.marshal", "type_.eq.my_pkg.T"))
    found = _functions(module, module, None, ("encoding/xml", "my_pkg", "runtime"))
    assert found == [
        ("encoding_xml.__printer_.marshal", "encoding/xml"),
        ("type_.eq.my_pkg.T", "my_pkg"),
    ]
