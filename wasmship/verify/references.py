"""Every local URL the dist's pages, scripts, stylesheets and web manifests name is a file of
the dist (a page's srcset, <source>, poster and <object data> too; a module specifier, against
its script; a stylesheet's url(), @import and image-set(), against the stylesheet).

A URL resolves as in a browser: against the URL of the file that names it (a page's, or its
<base href>; a web manifest's; `new URL(x, import.meta.url)`: the script's). A script's other
calls (fetch, importScripts, workers, the service worker, `new URL(x, location)`) resolve
against its document: each page that loads it with <script src>, or, for a script no page
loads (a worker), its own URL. An absolute path is against the dist root, a folder means its
index.html, and other origins, data: and blob: URLs are not the dist's.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from wasmship.builder.goshim import url_go_version
from wasmship.builder.spans import kind_of
from wasmship.builder.wasmrefs import is_shim, route_matches, unresolved, wasm_references
from wasmship.distformat.digests import integrity_matches
from wasmship.distformat.names import MANIFEST, PAGE, SHIM, is_client_route
from wasmship.distformat.page import (
    HTML_SUFFIXES,
    SCRIPT_SUFFIXES,
    WEB_MANIFEST_SUFFIX,
    Reference,
    document_path,
    is_external,
    local_path,
    read_page,
)
from wasmship.distformat.webmanifest import web_manifest_references
from wasmship.verify.files import Checker
from wasmship.verify.scripts import script_calls
from wasmship.verify.styles import style_urls

Documents = dict[str, list[tuple[str, str]]]  # script -> (document, page) of each page loading it


@dataclass(frozen=True)
class _Link:
    """One URL a file names, and what it resolves against."""

    source: str  # the file that names it
    line: int
    what: str  # how it reads there: `fetch("data.json")`
    url: str
    base: str  # a dist path whose folder the URL is relative to
    against: str = ""  # said when a miss needs it: which page's URL a script's call used
    folder: bool = False  # a folder is enough (a web manifest's scope)
    answerable: bool = False  # a fetch: a service worker may answer it (a declared route)


def check_references(check: Checker, files: list[str], *, loader_page: bool) -> None:
    """The references in FILES (pages, scripts, web manifests) all name files of the dist."""
    documents: Documents = {}
    manifests = [rel for rel in files if rel.endswith(WEB_MANIFEST_SUFFIX)]
    for rel in files:
        if rel.endswith(HTML_SUFFIXES):
            _page(check, rel, documents, manifests, loader_page=loader_page)
    for rel in files:
        if rel.endswith(SCRIPT_SUFFIXES):
            _script(check, rel, documents.get(rel) or [(rel, "")])
    for rel in files:
        if rel.endswith(".css"):
            for url in style_urls(_text(check, rel) or ""):
                _resolve(check, _Link(rel, url.line, url.describe(), url.url, rel))
    for rel in dict.fromkeys(manifests):
        _web_manifest(check, rel)
    _wasm_references(check, files)


def _page(
    check: Checker, rel: str, documents: Documents, manifests: list[str], *, loader_page: bool
) -> None:
    """A page's references; notes the scripts it loads (DOCUMENTS) and its web MANIFESTS.

    A page of the project's own (--static) needs no data-wasm: its scripts start the modules;
    nor does any page but the one wasmship wrote (index.html at the root).
    """
    text = _text(check, rel)
    if text is None:
        return
    page = read_page(text)
    starts = any(r.attribute == "data-wasm" for r in page.references)
    if loader_page and rel == PAGE and not starts:
        message = "no <script data-wasm=...>: the loader has no module to start"
        check.error(rel, message, kind="reference")
    document = document_path(rel, page.base_href)
    if document is None:
        return  # its <base href> is another origin: so are its relative URLs
    for ref in page.references:
        target = _resolve(check, _Link(rel, ref.line, ref.describe(), ref.resolved, document))
        if target is None:
            continue
        if ref.tag == "script" and ref.attribute == "src":
            documents.setdefault(target, []).append((document, rel))
        if "manifest" in ref.rel.split():
            if target == MANIFEST:
                message = f"{ref.describe()}: {MANIFEST} is wasmship's, not a web manifest"
                check.warn(rel, message, ref.line)
            else:
                manifests.append(target)
        _tag(check, rel, ref, target)
    for first_line, code in page.scripts:
        for call in script_calls(code, first_line):
            link = _Link(rel, call.line, call.describe(), call.url, document)
            _resolve(check, replace(link, answerable=call.function == "fetch"))


def _script(check: Checker, rel: str, loaded: list[tuple[str, str]]) -> None:
    """A script's calls, against its own URL or each (document, page) that LOADED it."""
    text = _text(check, rel)
    for call in script_calls(text or ""):
        bases = [(rel, "")] if call.script_relative else loaded
        by_folder = {posixpath.dirname(document): (document, page) for document, page in bases}
        for document, page in by_folder.values():
            moved = page and posixpath.dirname(document) != posixpath.dirname(rel)
            against = f" (relative to {page}, which loads it)" if moved else ""
            link = _Link(rel, call.line, call.describe(), call.url, document, against)
            _resolve(check, replace(link, answerable=call.function == "fetch"))


def _tag(check: Checker, rel: str, ref: Reference, target: str) -> None:
    """A tag's integrity matches TARGET; the loader's data-wasm-size is its module's size."""
    blob = check.contents.get(target) or (check.dist / target).read_bytes()
    if ref.integrity is not None and not integrity_matches(ref.integrity, blob):
        message = f"{ref.describe()}: integrity does not match {target}"
        check.error(rel, message, ref.line, kind="reference")
    elif (
        ref.integrity is None
        and (ref.tag, ref.attribute) == ("script", "src")
        and target in check.immutable
    ):
        check.warn(rel, f"{ref.describe()}: no integrity attribute", ref.line)
    if ref.wasm_size is not None and ref.wasm_size != str(len(blob)):
        check.error(
            rel,
            f'{ref.attribute}-size="{ref.wasm_size}" but {target} has {len(blob)} bytes '
            "(the progress indicator would be wrong)",
            ref.line,
            kind="reference",
        )


def _web_manifest(check: Checker, rel: str) -> None:
    """A web manifest's icons, start_url and scope name files (a folder, for scope)."""
    text = _text(check, rel)
    if text is None:
        return
    try:
        found = web_manifest_references(text)
    except json.JSONDecodeError as exc:
        message = f"not a web manifest: not valid JSON ({exc.msg})"
        check.error(rel, message, exc.lineno, kind="reference")
        return
    for ref in found:
        _resolve(check, _Link(rel, ref.line, ref.describe(), ref.url, rel, folder=ref.folder))


def _resolve(check: Checker, link: _Link) -> str | None:
    """The dist file LINK names; None when it is not the dist's or (an error) not there."""
    if is_external(link.url) or not urlsplit(link.url).path:
        return None  # another origin, or "#top" / "?v=2": the file itself
    target = local_path(link.base, link.url)
    if target is None:
        message = f"{link.what} points outside the dist"
        check.error(link.source, message, link.line, kind="unresolved")
        return None
    path = check.dist / target
    if link.folder:  # a scope: the folder must be there, its index.html need not
        found, target = path.exists(), f"{target}/" if target != "." else "./"
    else:
        if path.is_dir() or urlsplit(link.url).path.endswith("/"):
            target = posixpath.join(target, PAGE) if target != "." else PAGE
        found = (check.dist / target).is_file()
    if not found and route_matches(target, check.routes):
        return None  # a route the project declared: its service worker answers it
    if not found and check.spa and not link.folder and is_client_route(target):
        return None  # a client route of a single-page app: servers answer it with the page
    if not found:
        message = f"{link.what}: {target} does not exist{link.against}{_declare(link, target)}"
        check.error(link.source, message, link.line, kind="unresolved")
        return None
    return None if link.folder else target


def _declare(link: _Link, target: str) -> str:
    """The setting that tells verify a service worker answers TARGET (a fetch's, not a module)."""
    if not link.answerable or target.endswith(".wasm") or posixpath.basename(target) == SHIM:
        return ""
    return f' (if a service worker answers it, declare it: routes = ["{target}"] in wasmship.toml)'


def _wasm_references(check: Checker, files: list[str]) -> None:
    """Every .wasm and wasm_exec.js URL in FILES, written anywhere a URL is read (a constant,
    a URL built from pieces: not only the calls above), names a file of the dist."""
    texts = {}
    for rel in files:
        if kind_of(rel) is not None:
            text = _text(check, rel)
            if text is not None:
                texts[rel] = text
    said = {(p.path, p.lineno) for p in check.problems if p.kind == "unresolved"}
    found = wasm_references(texts)
    for ref in found:
        version = url_go_version(ref.url) if ref.external and is_shim(ref) else None
        if version is not None and check.go_version and version != check.go_version:
            message = (
                f"{ref.url!r} loads Go's shim of {version}, but {check.go_version} built the "
                "modules, whose shim differs: load the dist's own wasm_exec.js"
            )
            check.error(ref.file, message, ref.line, "reference")
    for ref in unresolved(found, check.known, check.routes):
        if (ref.file, ref.line) in said:
            continue  # a call the checks above read has said it
        if ref.piece:
            message = f"{ref.url!r} is built from pieces, and no folder of the dist has {ref.name}"
        elif ref.resolved is None:
            message = f"{ref.url!r} points outside the dist"
        else:
            message = f"{ref.url!r} names {ref.resolved}, which is no file of the dist"
        check.error(ref.file, message, ref.line, "unresolved")


def _text(check: Checker, rel: str) -> str | None:
    """REL's text as checked (or, for a file the manifest does not list, as on disk)."""
    data = check.contents.get(rel)
    if data is None:
        path = check.dist / rel
        if not path.is_file():
            return None
        data = path.read_bytes()
    return data.decode("utf-8", errors="replace")
