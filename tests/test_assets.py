"""Every file a page names by a literal URL gets a content-hashed name (issue 27 §1).

The site-hashed fixture's web folder: a stylesheet that @imports another and names an image and
a font with url(), an <img srcset>, a module importing another module, an inline module script
that starts it, and a JSON file fetched by a name computed at run time (which keeps its name).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import RECORDER, recorded
from tests.conftest import FIXTURES, Go, Run, build_in, files_of, manifest_of
from tests.serving import wasmship_serve
from wasmship.builder.assets import fingerprint_files
from wasmship.distformat.digests import integrity

if TYPE_CHECKING:
    from playwright.sync_api import Page

HASHED = re.compile(r"\.[0-9a-f]{8}\.")
KEPT_NAMES = {"index.html", "data/greeting.json"}  # the page, and a name computed at run time


def _project(root: Path) -> Path:
    project = root / "site-hashed"
    shutil.copytree(FIXTURES / "site-hashed", project)
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, go: Go) -> Path:
    project = _project(tmp_path_factory.mktemp("assets"))
    build_in(project, go, "--static", "web")
    return project / "dist"


def _static(dist: Path) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in files_of(dist).items() if not k.endswith((".wasm", "exec.js"))}


def test_every_literal_reference_is_hashed_and_followed(built: Path, wasmship: Run) -> None:
    files = _static(built)
    for logical, entry in files.items():
        hashed = logical not in KEPT_NAMES
        assert bool(HASHED.search(entry["path"])) is hashed, entry
        assert entry["immutable"] is hashed, entry
        assert (built / entry["path"]).is_file()
        assert hashed or not (built / logical).with_suffix("").exists() or logical in KEPT_NAMES
    for logical in files:
        if logical not in KEPT_NAMES:
            assert not (built / logical).exists(), f"{logical} shipped under its plain name"
    page = (built / "index.html").read_text()
    site = (built / files["css/site.css"]["path"]).read_text()
    app = (built / files["js/app.js"]["path"]).read_text()
    base = files["css/base.css"]["path"].rsplit("/", 1)[1]
    assert f'@import "{base}";' in site
    assert files["fonts/blocks.woff2"]["path"].removeprefix("fonts/") in site
    assert files["img/bg.png"]["path"].removeprefix("img/") in site
    photo, photo2 = files["img/photo.png"]["path"], files["img/photo@2x.png"]["path"]
    assert f'srcset="{photo} 1x, {photo2} 2x"' in page
    assert f'import {{ start }} from "./{files["js/app.js"]["path"]}"' in page
    assert files["js/names.js"]["path"].removeprefix("js/") in app
    assert 'fetch("data/" + dataName("greeting"))' in app  # a computed name: left as it is
    # SRI where HTML carries it, matching the file's bytes.
    css = (built / files["css/site.css"]["path"]).read_bytes()
    assert f'href="{files["css/site.css"]["path"]}" integrity="{integrity(css)}"' in page
    proc = wasmship("verify", str(built), cwd=built.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "integrity does not match" not in proc.stdout + proc.stderr


def test_leaves_first_deterministic_and_kept(tmp_path: Path, go: Go) -> None:
    project = _project(tmp_path)
    build_in(project, go, "--static", "web")
    dist = project / "dist"
    first = _static(dist)
    first_bytes = {p.relative_to(dist): p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    shutil.rmtree(dist)
    build_in(project, go, "--static", "web")
    again = {p.relative_to(dist): p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    assert again == first_bytes  # same inputs, same bytes
    (project / "web/img/bg.png").write_bytes(
        (FIXTURES / "site-hashed/web/img/photo.png").read_bytes()
    )
    build_in(project, go, "--static", "web")
    second = _static(dist)
    # The image changed, so the stylesheet naming it did, and the page naming that; the
    # @imported stylesheet, which names no changed file, kept its hash.
    for changed in ("img/bg.png", "css/site.css"):
        assert second[changed]["path"] != first[changed]["path"], changed
    for same in ("css/base.css", "js/app.js", "img/photo.png"):
        assert second[same]["path"] == first[same]["path"], same
    # The earlier generation's hashed stylesheet stays for open tabs.
    kept = {k["path"] for k in manifest_of(dist).get("previous", [])}
    assert first["css/site.css"]["path"] in kept
    assert (dist / first["css/site.css"]["path"]).is_file()


def test_a_cycle_and_keep_names_keep_their_names() -> None:
    files = {
        "index.html": b'<link rel="stylesheet" href="a.css"><img src="logo.png">'
        b'<a href="press.png">press</a><script src="boot.js"></script>',
        "a.css": b'@import "b.css";',
        "b.css": b'@import "a.css"; body { background: url(bg.png) }',
        "bg.png": b"png",
        "logo.png": b"logo",
        "press.png": b"press",
        "boot.js": b'navigator.serviceWorker.register("sw.js"); fetch("/x/" + name);',
        "sw.js": b"",
    }
    result = fingerprint_files(files, ["logo.png"])
    assert result.hashed == ["bg.png", "boot.js"]
    assert "a.css and b.css name each other" in result.warnings[0]
    page = result.contents["index.html"].decode()
    assert 'href="a.css"' in page and 'src="logo.png"' in page and 'href="press.png"' in page
    assert result.paths["boot.js"] in page
    assert result.paths["bg.png"] in result.contents["b.css"].decode()
    assert fingerprint_files(files, hashing=False).hashed == []


def test_in_chromium_no_404_no_violation_and_no_request_on_a_second_visit(
    built: Path, page: Page, tmp_path: Path
) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.add_init_script(RECORDER)
    with wasmship_serve(built, stderr=tmp_path / "serve.log") as served:
        page.goto(served.url)
        page.locator("#status", has_text="go: hello from JSON").wait_for()
        assert page.evaluate("getComputedStyle(document.body).backgroundImage").count("bg.") == 1
        page.evaluate("document.fonts.ready")
        assert failed == []
        assert recorded(page, "violations") == []
        asked_first = _asked(served.stderr)
        page.goto(served.url)
        page.locator("#status", has_text="go: hello from JSON").wait_for()
        asked = _asked(served.stderr)[len(asked_first) :]
    hashed = [p for p in asked if HASHED.search(p)]
    assert any(HASHED.search(p) for p in asked_first)
    assert hashed == [], f"asked again on the second visit: {hashed}"
    assert "/data/greeting.json" in asked  # its plain name is revalidated


def _asked(log: Path) -> list[str]:
    return re.findall(r'"GET (\S+) HTTP', log.read_text())


def test_verify_follows_stylesheets_and_module_imports(
    built: Path, tmp_path: Path, wasmship: Run
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(built, dist)
    files = _static(dist)
    site, app = dist / files["css/site.css"]["path"], dist / files["js/app.js"]["path"]
    site.write_text(re.sub(r"bg\.[0-9a-f]{8}\.png", "bg.png", site.read_text()))
    app.write_text(re.sub(r"names\.[0-9a-f]{8}\.js", "names.js", app.read_text()))
    proc = wasmship("verify", str(dist), cwd=dist.parent)
    assert proc.returncode == 1
    said = proc.stdout
    assert f'{files["css/site.css"]["path"]}:9: url("../img/bg.png"): img/bg.png does not' in said
    assert f'{files["js/app.js"]["path"]}:2: from "./names.js": js/names.js does not' in said
    assert "integrity does not match" in said  # the page's SRI for the edited stylesheet


def test_the_url_forms_verify_reads() -> None:
    from wasmship.distformat.page import read_page
    from wasmship.verify.scripts import script_calls
    from wasmship.verify.styles import style_urls

    css = '@import "a.css";\n/* url(no.png) */ b { background: url( c.png ); font-family: "F" }\n'
    css += "i { background: image-set('d.png' 1x, \"e.png\" 2x) }"
    assert [(u.form, u.url, u.line) for u in style_urls(css)] == [
        ("@import", "a.css", 1),
        ("url", "c.png", 2),
        ("image-set", "d.png", 3),
        ("image-set", "e.png", 3),
    ]
    js = 'import x from "./x.js";\nexport * from "../y.js";\nimport "react";\nimport("/z.js");'
    assert [(c.function, c.url, c.script_relative) for c in script_calls(js)] == [
        ("from", "./x.js", True),
        ("from", "../y.js", True),
        ("import()", "/z.js", True),
    ]
    page = read_page('<img srcset="a.png 1x, b,c.png 2x"><video poster="p.png" src="v.mp4">')
    assert [(r.tag, r.attribute, r.url) for r in page.references] == [
        ("img", "srcset", "a.png"),
        ("img", "srcset", "b,c.png"),
        ("video", "src", "v.mp4"),
        ("video", "poster", "p.png"),
    ]
