"""The size report in Chromium: no console error, no request but the page, a treemap whose top
packages are rectangles one can see and click to zoom into."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import Console, Knobs, Serve, recorded
from tests.conftest import Go, base_env
from tests.test_size_build import WITH_XML, program

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
TOP = 5


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, bytes per pixel and raw rows of an 8-bit RGB(A) PNG (as Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    out, previous = bytearray(), bytearray(stride)
    for row in range(height):
        kind, line = (
            raw[row * (stride + 1)],
            bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 0xFF
        out += line
        previous = line
    return width, height, bpp, bytes(out)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, go: Go) -> tuple[Path, dict[str, object]]:
    """A real build of a program using encoding/xml, and its size report as HTML and JSON."""
    folder = program(tmp_path_factory.mktemp("size-html"), "xmlapp", WITH_XML)
    env = base_env(WASMSHIP_GO=go.binary)

    def run(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "wasmship", *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    run("build", "--quiet")
    run("size", "--quiet", "--treemap", "out/size.html")
    document = json.loads(run("size", "--json"))
    again = folder / "again.html"
    run("size", "--quiet", "--html", str(again))  # the old name of --treemap still works
    assert again.read_bytes() == (folder / "out" / "size.html").read_bytes()  # same bytes
    return folder / "out", document


def test_the_report_opens_with_no_error_and_no_request(
    page: Page, serve: Serve, report: tuple[Path, dict[str, object]]
) -> None:
    folder, _ = report
    server = serve(folder, Knobs())
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    console = Console(page)
    page.add_init_script(
        "window.__wasmship = { violations: [] };"
        'document.addEventListener("securitypolicyviolation", (e) =>'
        " window.__wasmship.violations.push(e.violatedDirective));"
    )
    page.goto(server.url + "size.html")
    page.wait_for_load_state("networkidle")
    assert requests == [server.url + "size.html"]
    assert [entry.path for entry in server.log] == ["/size.html"]
    assert console.messages == [] and errors == []
    assert recorded(page, "violations") == []
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert policy is not None and policy.startswith("default-src 'none'; style-src 'sha256-")
    assert page.locator("script").count() == 0
    # The style applied (its hash is right): zoomed views are hidden until asked for.
    assert page.locator("section.view").first.is_hidden()
    assert page.locator("section.overview").is_visible()


def test_the_treemap_shows_the_top_packages_and_zooms(
    page: Page, serve: Serve, report: tuple[Path, dict[str, object]]
) -> None:
    folder, document = report
    server = serve(folder, Knobs())
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(server.url + "size.html")
    top = [p["name"] for p in document["packages"][:TOP]]  # type: ignore[index]
    assert "encoding/xml" in [p["name"] for p in document["packages"][:8]]  # type: ignore[index]
    width, height, bpp, pixels = decode_png(page.screenshot())
    for name in top:
        rect = page.locator(f'section.overview rect[data-package="{name}"]')
        assert rect.count() == 1, name
        box = rect.bounding_box()
        assert box is not None and box["width"] > 4 and box["height"] > 4, (name, box)
        # The rectangle is what the screenshot shows at its centre: its own colour, visible.
        x, y = int(box["x"] + box["width"] / 2), int(box["y"] + box["height"] / 2 + 6)
        assert x < width and y < height
        at = (y * width + x) * bpp
        shown = pixels[at : at + 3]
        fill = page.evaluate("(el) => getComputedStyle(el).fill", rect.element_handle())
        expected = tuple(int(v) for v in fill.removeprefix("rgb(").rstrip(")").split(","))
        assert all(abs(a - b) <= 3 for a, b in zip(shown, expected, strict=True)), (
            name,
            shown,
            fill,
        )
    # Zoom into encoding/xml: its largest functions fill the view; back shows all modules.
    page.locator('section.overview rect[data-package="encoding/xml"]').click()
    assert page.url.split("#")[1].startswith("p0-")
    view = page.locator("section.view:target")
    assert view.is_visible() and page.locator("section.overview").is_hidden()
    assert "encoding/xml" in view.locator("nav").inner_text()
    functions = view.locator('rect[data-kind="function"]')
    assert functions.count() > 5
    box = functions.first.bounding_box()
    assert box is not None and box["width"] * box["height"] > 1000
    page.go_back()
    assert page.locator("section.overview").is_visible()
