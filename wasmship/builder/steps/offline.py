"""Step: the service worker, sw.js (--offline), or the one that removes it again.

With --offline the worker caches one generation: the page and every file of the page's target
(module, shim, loader, styles, icon, the static files; for a static host the module variants
the loader fetches), each with its SRI hash, in one cache named by the generation's id
(docs/offline.md). Built without --offline after a build with it (the old manifest says so), the
dist ships a worker that deletes its caches and unregisters itself: a browser keeps a worker
whose script has gone (404) forever, so sw.js is never simply dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib.resources import files

from wasmship.builder.context import BuildContext, module_name
from wasmship.builder.dist_files import add_file
from wasmship.builder.webfolder import own_page
from wasmship.distformat.model import BROWSER_DECODED, FileEntry, Hosting, Offline
from wasmship.distformat.names import PAGE, WORKER
from wasmship.distformat.reader import manifest_or_none
from wasmship.errors import UsageError

GENERATION_MARKER = "/* wasmship:generation */ null"
GENERATION_LENGTH = 16  # hex digits of the generation's id


def sri_of_sha256(sha256: str) -> str:
    """The SRI form (`sha256-…`) of a hex SHA-256: for variants, whose manifest entry has no
    integrity of its own."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def generation(ctx: BuildContext) -> dict[str, object]:
    """What the worker caches: the page's integrity, every other file of the page's target
    with its integrity and whether it is hashed, and the id all of them name together."""
    target = ctx.page_target
    assert target is not None
    listed: list[tuple[str, str, bool]] = []  # (path, integrity, hashed)
    for name in ctx.files_of(target):
        if name in (PAGE, WORKER):
            continue
        entry = ctx.files[name]
        listed.append((entry.path, entry.integrity, entry.immutable))
    module = ctx.files[module_name(target.name)]
    if ctx.config.hosting is Hosting.STATIC:  # the loader fetches these by their own URLs
        for coding in BROWSER_DECODED:
            variant = module.encodings.get(coding)
            if variant is not None:
                listed.append((variant.path, sri_of_sha256(variant.sha256), module.immutable))
    listed.sort()
    page: FileEntry = ctx.files[PAGE]
    digest = hashlib.sha256()
    for path, integrity, _ in [(page.path, page.integrity, False), *listed]:
        digest.update(f"{path} {integrity}\n".encode())
    return {
        "id": digest.hexdigest()[:GENERATION_LENGTH],
        "page": {"integrity": page.integrity},
        "files": [
            {"path": path, "integrity": integrity, **({} if hashed else {"fresh": True})}
            for path, integrity, hashed in listed
        ],
    }


def worker_script(found: dict[str, object] | None) -> bytes:
    """sw.js for generation FOUND, or the worker that unregisters itself (None)."""
    template = files("wasmship").joinpath("data", WORKER).read_text(encoding="utf-8")
    if found is None:
        return template.encode("utf-8")
    value = json.dumps(found, sort_keys=True, separators=(",", ":"))
    return template.replace(GENERATION_MARKER, value, 1).encode("utf-8")


def write_worker(ctx: BuildContext) -> None:
    """Write sw.js with --offline; after a build that had one, write the one that unregisters."""
    if ctx.config.offline:
        if ctx.page_target is None or own_page(ctx.config):
            raise UsageError(
                "--offline: the service worker is registered by wasmship's loader, and this "
                "build has no wasmship page (no js target, or your own index.html from --static); "
                "build without --offline"
            )
        if WORKER in ctx.files:
            raise UsageError(
                f"--offline: the static folder has a {WORKER} of its own, where wasmship's "
                "service worker goes; rename or exclude yours, or build without --offline"
            )
        found = generation(ctx)
        entry = add_file(ctx, WORKER, worker_script(found), hashed=False)
        ctx.offline = Offline(worker=entry.path, generation=str(found["id"]))
        ctx.notes["offline"] = f"{entry.path}: generation {found['id']}"
        return
    old = manifest_or_none(ctx.config.out_path)
    if old is None or old.offline is None or WORKER in ctx.files:
        return  # never had a worker (or the project's own sw.js takes its URL over)
    entry = add_file(ctx, WORKER, worker_script(None), hashed=False)
    ctx.offline = Offline(worker=entry.path)
    ctx.notes["offline"] = f"{entry.path}: unregisters the earlier builds' worker"
