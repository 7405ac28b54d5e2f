"""Step: write loader.<hash>.js and index.html (built-in, or the user's --html template).

With --hosting static the loader fetches the module's gzip (or br) variant, whose name and size
this step therefore asks for before the compress step runs (builder/encoding_plan.py: the jobs
run on the build's pool, and compress writes their results), and the page preloads it, so the
download starts while the scripts are still on their way. A module served with
Content-Encoding is not preloaded: Chromium then never reads V8's code cache for it
(docs/loader.md, measured). Its page starts the module's fetch() itself instead, from one
inline script ahead of the others (early_fetch_tag), which keeps the code cache.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from importlib.resources import files
from pathlib import PurePosixPath

from wasmship.builder.context import BuildContext, import_path, module_name
from wasmship.builder.dist_files import add_file
from wasmship.builder.encoding_plan import variants_now
from wasmship.builder.webfolder import own_page
from wasmship.distformat.model import BROWSER_DECODED, FileEntry, Hosting, Variant
from wasmship.distformat.names import ICON, LOADER, LOADER_STYLE, PAGE, SHIM, WEB_MANIFEST, WORKER
from wasmship.errors import UsageError

SCRIPTS_MARKER = "<!-- wasmship:scripts -->"
STATUS_MARKER = "<!-- wasmship:status -->"
STATUS_ID = 'id="wasmship-status"'

# The loader's rule for a manual start (data-wasmship-start="manual" on <html>), read here too:
# a page that loads on demand must not preload the module.
MANUAL_START = re.compile(
    r"""<html\b[^>]*?\sdata-wasmship-start\s*=\s*["']?manual["'\s/>]""", re.IGNORECASE
)

# A template's own <meta http-equiv="Content-Security-Policy">, and a <base> element.
OWN_POLICY = re.compile(
    r"""<meta\b[^>]*?\shttp-equiv\s*=\s*["']?content-security-policy["'\s/>]""", re.IGNORECASE
)
BASE = re.compile(r"<base\b", re.IGNORECASE)

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


def preload_tag(path: str) -> str:
    """A preload of what the loader fetches: as="fetch" and crossorigin, as its fetch() is (same
    mode and credentials), so the browser hands the loader this response instead of a second."""
    return f'<link rel="preload" href="{html.escape(path)}" as="fetch" crossorigin="anonymous">'


# The page's one inline script: it starts the module's fetch as soon as the parser reaches it,
# while wasm_exec.js and the loader are still on their way, and leaves the promise where the
# loader takes it over (loader.js, earlyResponse). The CSP step allows it by its hash.
EARLY_FETCH = (
    "(function(w){{var u=new URL({url},document.baseURI).href,r=fetch(u);"
    "r.catch(function(){{}});w.early={{url:u,response:r}}}})"
    "(globalThis.wasmship=globalThis.wasmship||{{}})"
)


def early_fetch_tag(path: str) -> str:
    """The inline script that fetches PATH (relative to the page) before the loader runs.

    A fetch(), not a preload: the response the loader takes over is the one its own fetch()
    would get, so V8 still reads the code cache on a return visit (a preload loses it, see
    `preloaded`). PATH is a dist file name; it goes in as a JSON string with `<` escaped, so no
    name can end the script.
    """
    literal = json.dumps(path).replace("<", "\\u003c")
    return f"<script>{EARLY_FETCH.format(url=literal)}</script>"


def fetched_early(hosting: Hosting, template: str | None) -> bool:
    """Whether the page starts the module's fetch itself: with a host that negotiates (a static
    host's page preloads the variant instead), unless the page starts on demand or the template
    brings a policy of its own (wasmship cannot add the script's hash to it, so it would block
    the script; the loader then fetches as before) or a <base> (one after the script would make
    its URL and the loader's differ, and the module would be fetched twice)."""
    if hosting is Hosting.STATIC or template is None:
        return hosting is not Hosting.STATIC
    return not any(rule.search(template) for rule in (MANUAL_START, OWN_POLICY, BASE))


def preloaded(module: FileEntry, hosting: Hosting, template: str | None) -> Variant | None:
    """What the page preloads: for a static host, the gzip variant the loader will fetch
    (every browser with DecompressionStream reads gzip), unless the page starts on demand.

    Not the module a host sends with Content-Encoding: Chromium (156) drops the code cache
    that comes with a preloaded response (blink's RawResource passes cached metadata only to
    the clients it has when it arrives, and a preload has none), so every later visit would
    compile afresh; the preload gains one round trip on the first visit only.
    """
    if hosting is not Hosting.STATIC or (template and MANUAL_START.search(template)):
        return None
    return module.encodings["gzip"]


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


def static_variants(ctx: BuildContext, module: FileEntry) -> FileEntry:
    """MODULE with its variants listed now, for the page to name (a carried module has its own);
    a static host needs the gzip one, so a module gzip cannot shrink is refused."""
    if module.logical not in ctx.carried_files and not module.encodings:
        # Listed now (the offline and keep steps read them too); compress writes their files.
        module = variants_now(ctx, module)
        ctx.files[module.logical] = module
    if "gzip" not in module.encodings:
        raise UsageError(
            f"--hosting static: {module.path} has no gzip variant (gzip does not make it "
            "smaller enough to keep one), so the loader has nothing to decode; "
            "build with --hosting negotiate"
        )
    return module


def loader_settings(
    module: FileEntry, loader: FileEntry, hosting: Hosting, *, offline: bool = False
) -> dict[str, str | int]:
    """The loader tag's data- attributes: the module (resolved against the loader's URL, as
    verify does) and its size; for a static host, the variants it may fetch and their sizes;
    the module's SHA-256, which the update signal compares with the live manifest's; with
    --offline, the service worker it registers."""
    settings: dict[str, str | int] = {
        "wasm": relative_to(module.path, loader.path),
        "wasm_size": module.size,
    }
    if hosting is Hosting.STATIC:
        for coding in BROWSER_DECODED:
            variant = module.encodings.get(coding)
            if variant is not None:
                settings[f"wasm_{coding}"] = relative_to(variant.path, loader.path)
                settings[f"wasm_{coding}_size"] = variant.size
    settings["wasm_sha256"] = module.sha256
    if offline:
        settings["worker"] = relative_to(WORKER, loader.path)
    return settings


def read_template(ctx: BuildContext) -> str | None:
    """The user's --html template, or None for the built-in page."""
    template_path = ctx.config.html_template
    if template_path is None:
        return None
    try:
        return template_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--html {template_path}: cannot read it ({exc})") from exc


def write_loader(ctx: BuildContext) -> None:
    """Write the loader and the page that starts the first browser target (built or carried)."""
    target = ctx.page_target
    hosting = ctx.config.hosting
    if target is not None and own_page(ctx.config) and hosting is Hosting.STATIC:
        ctx.warnings.append(
            "--hosting static: your own index.html starts the module, not wasmship's loader, so "
            "it fetches what your page asks for (fetch the .gz and decode it to use static mode)"
        )
    if target is None or own_page(ctx.config):
        return  # no browser target, or the project's own page starts its modules
    module = ctx.files[module_name(target.name)]
    if hosting is Hosting.STATIC:
        module = static_variants(ctx, module)
    shim = ctx.files[SHIM]
    loader = add_file(ctx, LOADER, _data(LOADER).encode("utf-8"), hashed=ctx.config.hash_names)
    style = add_file(
        ctx, LOADER_STYLE, _data(LOADER_STYLE).encode("utf-8"), hashed=ctx.config.hash_names
    )
    template = read_template(ctx)
    tags = [style_tag(style), script_tag(shim)]
    settings = loader_settings(module, loader, hosting, offline=ctx.config.offline)
    tags.append(script_tag(loader, **settings))
    app = ctx.config.app
    if app is not None:  # the web app manifest (steps/app_manifest.py), at a stable URL
        tags.insert(0, f'<link rel="manifest" href="{relative_to(WEB_MANIFEST, PAGE)}">')
        if app.theme_color:
            tags.insert(1, f'<meta name="theme-color" content="{html.escape(app.theme_color)}">')
    early = preloaded(module, hosting, template)
    if early is not None:  # first, so the largest download starts first
        tags.insert(0, preload_tag(relative_to(early.path, PAGE)))
    elif fetched_early(hosting, template):
        tags.insert(0, early_fetch_tag(relative_to(module.path, PAGE)))
    scripts = "\n".join(tags)
    if template is not None:
        page = fill_page(template, scripts, str(ctx.config.html_template))
    else:
        icon = add_file(ctx, ICON, _data(ICON).encode("utf-8"), hashed=ctx.config.hash_names)
        title = PurePosixPath(import_path(target)).name or "app"
        template = _data(PAGE).replace("{icon}", html.escape(icon.path))
        page = fill_page(template.replace("{title}", html.escape(title)), scripts, PAGE)
    add_file(ctx, PAGE, page.encode("utf-8"), hashed=False)
    ctx.notes["loader"] = loader.path
