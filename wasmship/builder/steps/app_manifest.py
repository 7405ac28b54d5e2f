"""Step: the web app manifest, manifest.webmanifest ([app] in wasmship.toml).

It makes the page installable: a name, a start URL and scope (the dist's folder), a display
mode, colours and icons. Its URL is stable and unhashed, so it is served `no-cache` as sw.js
is (the one rule: an unhashed file is never immutable). An icon from the --static folder is
named where the static step copied it; any other icon is copied in content-hashed under
`icons/`. Sizes come from the PNG header; an SVG icon is `any` size. With --offline the worker
precaches the manifest and its icons with the page (they are files of the page's target).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from wasmship.builder.config import AppConfig, BuildConfig
from wasmship.builder.context import BuildContext
from wasmship.builder.dist_files import add_file
from wasmship.builder.webfolder import own_page
from wasmship.distformat.names import WEB_MANIFEST, content_type
from wasmship.errors import UsageError

# Spelled as the web app manifest spells its members, so they can be copied from one to the other.
APP_KEYS = ("name", "short_name", "theme_color", "background_color", "display", "icons")
DISPLAY_VALUES = ("standalone", "fullscreen", "minimal-ui", "browser")
ICON_FOLDER = "icons"  # where an icon from outside the static folder goes in the dist
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = ".svg"

Fail = Callable[[str], Any]  # raises a ConfigError naming the file and line


def parse_app(raw: object, fail_at: Callable[[str, str | None], Fail]) -> AppConfig:
    """The [app] table of wasmship.toml, checked; icons stay as written (see locate_icons)."""
    if not isinstance(raw, dict):
        fail_at("app", None)('app must be a table: write [app] with name = "My app"')
    table: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for key in table:
        if key not in APP_KEYS:
            close = [k for k in APP_KEYS if k == key.replace("-", "_")]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail_at(key, "app")(f"unknown key {key!r} in [app]{hint}; keys: {', '.join(APP_KEYS)}")
    texts: dict[str, str] = {}
    for key in APP_KEYS[:5]:
        value = table.get(key, "")
        if not isinstance(value, str):
            fail_at(key, "app")(f"[app] {key} must be a string, not {value!r}")
        texts[key] = value.strip()
    if not texts["name"]:
        fail_at("", "app")('[app] needs a name, e.g. name = "My app": browsers show it')
    display = texts["display"] or "standalone"
    if display not in DISPLAY_VALUES:
        fail_at("display", "app")(f"[app] display must be one of {', '.join(DISPLAY_VALUES)}")
    icons = table.get("icons", [])
    if not isinstance(icons, list) or not all(isinstance(i, str) and i for i in icons):
        fail_at("icons", "app")('[app] icons must be a list of paths, e.g. ["icons/192.png"]')
    return AppConfig(
        name=texts["name"],
        short_name=texts["short_name"],
        theme_color=texts["theme_color"],
        background_color=texts["background_color"],
        display=display,
        icons=tuple(Path(icon) for icon in icons),
    )


def locate_icons(app: AppConfig, static: Path | None, project: Path) -> AppConfig:
    """APP with each relative icon made absolute: in the STATIC folder if it is there, else in
    the PROJECT's folder (where a missing one is reported by check_app)."""

    def locate(icon: Path) -> Path:
        if static is not None and (static / icon).is_file():
            return (static / icon).resolve()
        return (project / icon).resolve()

    return replace(app, icons=tuple(locate(icon) for icon in app.icons))


def icon_facts(path: Path) -> tuple[str, str]:
    """The type and sizes of the icon at PATH (`image/png`, `192x192`); refuses anything else."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"[app] icons: {path}: cannot read it ({exc.strerror or exc}); an icon is a path "
            "in the static folder or from the project's folder"
        ) from exc
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", f"{width}x{height}"
    if path.suffix.lower() == SVG and b"<svg" in data:
        return content_type(path.name), "any"
    raise UsageError(
        f"[app] icons: {path} is neither a PNG nor an SVG image; browsers install an app "
        "with PNG icons (192x192 and 512x512) or an SVG one"
    )


def check_app(config: BuildConfig) -> None:
    """Refuse, before anything is compiled, an [app] whose icons cannot be read."""
    if config.app is not None:
        for icon in config.app.icons:
            icon_facts(icon)


def web_manifest(app: AppConfig, icons: list[Mapping[str, str]]) -> bytes:
    """The manifest's bytes: sorted keys, two-space indent, a trailing newline."""
    found: dict[str, object] = {
        "name": app.name,
        "display": app.display,
        "start_url": "./",  # the dist's folder, wherever it is deployed
        "scope": "./",
        "icons": icons,
    }
    optional = {
        "short_name": app.short_name,
        "theme_color": app.theme_color,
        "background_color": app.background_color,
    }
    found.update((key, value) for key, value in optional.items() if value)
    return (json.dumps(found, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _static_path(ctx: BuildContext, icon: Path) -> str | None:
    """ICON's path in the dist when the static step copied it there, else None."""
    static = ctx.config.static
    if static is None or not icon.is_relative_to(static.resolve()):
        return None
    rel = Path(os.path.relpath(icon, static.resolve())).as_posix()
    return rel if rel in ctx.static_files else None


def write_app_manifest(ctx: BuildContext) -> None:
    """Write manifest.webmanifest (and copy in its icons) when [app] is configured."""
    app = ctx.config.app
    if app is None:
        return
    if ctx.page_target is None:
        raise UsageError(
            "[app]: an installable app needs a page, and this build has no js target; "
            "remove [app] from wasmship.toml"
        )
    if own_page(ctx.config):
        ctx.warnings.append(
            f"[app]: your own index.html is the page: link the manifest in its <head> with <link "
            f'rel="manifest" href="{WEB_MANIFEST}"> (wasmship adds the tag to its own page only)'
        )
    icons: list[Mapping[str, str]] = []
    for icon in app.icons:
        kind, sizes = icon_facts(icon)
        src = _static_path(ctx, icon)
        if src is None:
            logical = icon.name  # a logical name is a file name; the folder goes in the path
            if logical in ctx.files:
                raise UsageError(
                    f"[app] icons: {icon}: the dist has a file named {logical} already (another "
                    "icon, or one of the static folder's); rename the icon"
                )
            data = icon.read_bytes()
            hashed = ctx.config.hash_names
            src = add_file(ctx, logical, data, hashed=hashed, folder=ICON_FOLDER).path
            ctx.app_files.append(logical)
        icons.append({"src": src, "sizes": sizes, "type": kind})
    add_file(ctx, WEB_MANIFEST, web_manifest(app, icons), hashed=False)
    ctx.app_files.insert(0, WEB_MANIFEST)
    ctx.notes["app_manifest"] = f"{WEB_MANIFEST}: {app.name}, {len(icons)} icon(s)"
