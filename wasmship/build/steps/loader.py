"""Step: write loader.<hash>.js and index.html (built-in, or the user's --html template)."""

from __future__ import annotations

import html
import posixpath
from importlib.resources import files
from pathlib import PurePosixPath

from wasmship.build.context import BuildContext, import_path, module_name
from wasmship.build.steps.fingerprint import add_file
from wasmship.build.steps.static import static_page
from wasmship.dist.manifest import FileEntry
from wasmship.dist.names import ICON, LOADER, LOADER_STYLE, PAGE, SHIM
from wasmship.errors import UsageError

SCRIPTS_MARKER = "<!-- wasmship:scripts -->"
STATUS_MARKER = "<!-- wasmship:status -->"
STATUS_ID = 'id="wasmship-status"'

# In the markup so it shows before any script runs; the <noscript> line explains a page that
# would otherwise say "Loading…" forever with JavaScript off.
STATUS_HTML = (
    '<div id="wasmship-status" role="status" aria-live="polite" data-state="loading">'
    '<p data-wasmship-message>Loading…</p><progress max="1"></progress>'
    "<noscript><p>This application needs JavaScript.</p></noscript></div>"
)


def _data(name: str) -> str:
    return files("wasmship").joinpath("data", name).read_text(encoding="utf-8")


def script_tag(entry: FileEntry, **data: str | int) -> str:
    """A deferred script tag with SRI; extra keyword arguments become data- attributes."""
    attrs = [
        f'src="{html.escape(entry.path)}"',
        f'integrity="{entry.integrity}"',
        'crossorigin="anonymous"',
    ]
    attrs += [f'data-{key.replace("_", "-")}="{html.escape(str(v))}"' for key, v in data.items()]
    return f"<script defer {' '.join(attrs)}></script>"


def style_tag(entry: FileEntry) -> str:
    """A stylesheet link with SRI."""
    return (
        f'<link rel="stylesheet" href="{html.escape(entry.path)}" '
        f'integrity="{entry.integrity}" crossorigin="anonymous">'
    )


def relative_to(path: str, source: str) -> str:
    """The URL of the dist file PATH as seen from the dist file SOURCE."""
    return posixpath.relpath(path, posixpath.dirname(source) or ".")


def fill_page(template: str, scripts: str, where: str) -> str:
    """Put the script tags and the status indicator into TEMPLATE at its markers."""
    if SCRIPTS_MARKER in template:
        page = template.replace(SCRIPTS_MARKER, scripts, 1)
    elif "</head>" in template:
        page = template.replace("</head>", scripts + "\n</head>", 1)
    else:
        raise UsageError(
            f"{where}: the HTML template has neither {SCRIPTS_MARKER} nor </head>, "
            "so wasmship has nowhere to put its script tags"
        )
    if STATUS_MARKER in page:
        page = page.replace(STATUS_MARKER, STATUS_HTML, 1)
    elif STATUS_ID not in page:
        # The loader creates an indicator itself; one in the markup shows before any script runs.
        head, body_tag, rest = page.partition("<body")
        if body_tag:
            open_end = rest.find(">") + 1
            page = head + body_tag + rest[:open_end] + "\n" + STATUS_HTML + rest[open_end:]
    return page


def write_loader(ctx: BuildContext) -> None:
    """Write the loader and the page that starts the first browser target (built or carried)."""
    target = ctx.page_target
    if target is None or static_page(ctx):
        return  # no browser target, or the project's own page starts its modules
    module = ctx.files[module_name(target.name)]
    shim = ctx.files[SHIM]
    loader = add_file(ctx, LOADER, _data(LOADER).encode("utf-8"), hashed=ctx.config.hash_names)
    style = add_file(
        ctx, LOADER_STYLE, _data(LOADER_STYLE).encode("utf-8"), hashed=ctx.config.hash_names
    )
    scripts = "\n".join(
        (
            style_tag(style),
            script_tag(shim),
            # The loader resolves data-wasm against its own URL, as verify does.
            script_tag(loader, wasm=relative_to(module.path, loader.path), wasm_size=module.size),
        )
    )
    template_path = ctx.config.html_template
    if template_path is not None:
        try:
            template = template_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--html {template_path}: cannot read it ({exc})") from exc
        page = fill_page(template, scripts, str(template_path))
    else:
        icon = add_file(ctx, ICON, _data(ICON).encode("utf-8"), hashed=ctx.config.hash_names)
        title = PurePosixPath(import_path(target)).name or "app"
        template = _data(PAGE).replace("{icon}", html.escape(icon.path))
        page = fill_page(template.replace("{title}", html.escape(title)), scripts, PAGE)
    add_file(ctx, PAGE, page.encode("utf-8"), hashed=False)
    ctx.notes["loader"] = loader.path
