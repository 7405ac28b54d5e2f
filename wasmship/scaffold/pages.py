"""The project's web folders (a folder with an index.html) and the `.wasm` modules their pages
and scripts load, found where the build reads references (builder/rewrite.py's spans)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from wasmship.builder.rewrite import documents, kind_of, spans
from wasmship.distformat.names import PAGE, SHIM
from wasmship.distformat.page import is_external, lines, local_path
from wasmship.scaffold.tree import ProjectTree

WEB_FOLDERS = ("web", "static", "public", "site", "docs")  # in the order they are preferred
MAX_SITE_FILES = 2000  # pages and scripts read per web folder
# A module's file name, whole: not `app.wasm.gz`, not `app.wasm_exec`.
_MODULE = re.compile(r"(?<![\w.$-])([\w.-]+\.wasm)(?![\w$-]|\.\w)")
# TinyGo's own shim (`.../tinygo-org/tinygo@0.35.0/targets/wasm_exec.js`): not Go's.
_TINYGO_SHIM = re.compile(r"tinygo[^\s'\"]*/wasm_exec\.js", re.IGNORECASE)
_URL_CHAR = re.compile(r"[\w.~%@:/-]")


@dataclass(frozen=True)
class WasmReference:
    """A page or script that loads a module: where, and the module's path in the dist."""

    file: str  # relative to the module root: "docs/web/app.js"
    line: int
    path: str  # relative to the web folder, as the dist will hold it: "web/app.wasm"
    tinygo: bool = False  # the file that loads it also loads TinyGo's shim: TinyGo builds it

    @property
    def name(self) -> str:
        """The module's name without `.wasm`: `app`."""
        return posixpath.basename(self.path).removesuffix(".wasm")

    @property
    def folder(self) -> str:
        """The module's folder in the dist, "" for its root."""
        return posixpath.dirname(self.path)


@dataclass(frozen=True)
class Site:
    """A web folder with a page: what it loads."""

    folder: str  # relative to the module root; "." for the root
    references: tuple[WasmReference, ...]
    loads_shim: bool  # a page or script names wasm_exec.js

    @property
    def known(self) -> bool:
        """Whether it is the root or a usual web folder at the root (docs/ only if it loads Go's
        shim: it is more often the project's documentation)."""
        if self.folder == "docs":
            return self.loads_shim
        return self.folder == "." or self.folder in WEB_FOLDERS

    @property
    def rank(self) -> tuple[int, int, int, str]:
        """Sort key, best first: loads a module, loads the shim, a usual place, shallow."""
        order = (*WEB_FOLDERS, ".")
        place = order.index(self.folder) if self.folder in order else len(order)
        return (0 if self.references else 1, 0 if self.loads_shim else 1, place, self.folder)


def _project_path(folder: str, rel: str) -> str:
    return rel if folder == "." else posixpath.join(folder, rel)


def read_site(tree: ProjectTree, folder: str) -> Site:
    """What the pages and scripts of FOLDER (relative to the module root) load."""
    texts: dict[str, str] = {}
    files = tree.under(folder)
    # A subfolder with a page of its own is a site of its own (docs/hello/ in a docs/ of
    # example sites): its files are not this site's.
    inner = {posixpath.dirname(r) for r in files if posixpath.basename(r) == PAGE} - {""}
    for rel in files:
        if any(rel.startswith(f + "/") for f in inner):
            continue
        if kind_of(rel) in ("html", "js") and len(texts) < MAX_SITE_FILES:
            text = tree.text(_project_path(folder, rel))
            if text is not None:
                texts[rel] = text
    pages, loaded = documents(texts)
    found: list[WasmReference] = []
    shim = False
    # Pages first, then the scripts they load, then the rest (service workers, workers); each
    # in tree order (hello/ before hello-sse/, as a listing shows them).
    order = sorted(texts, key=lambda r: (kind_of(r) != "html", r not in loaded, r.split("/")))
    for rel in order:
        text = texts[rel]
        line_of = lines(text)
        file_spans = list(spans(rel, text, pages, loaded))
        tinygo = any(_TINYGO_SHIM.search(text, s.start, s.end) for s in file_spans)
        for span in file_spans:
            value = text[span.start : span.end]
            shim = shim or SHIM in value
            for m in _MODULE.finditer(text, span.start, span.end):
                start = m.start()
                while start > span.start and _URL_CHAR.match(text[start - 1]):
                    start -= 1
                url = text[start : m.end()]
                if is_external(url):
                    continue
                whole = not span.joined and span.bases and not value[: start - span.start].strip()
                base = span.bases[0] if span.bases else rel
                # A URL built from pieces names the file; its folder is the page's guess.
                path = local_path(base, url if whole else m[1])
                if path is not None:
                    where = _project_path(folder, rel)
                    found.append(WasmReference(where, line_of(start), path, tinygo))
    return Site(folder, tuple(found), shim)


def find_sites(tree: ProjectTree) -> list[Site]:
    """Every folder with an index.html that is a usual web folder or loads a module, best first."""
    sites = []
    for rel in tree.files:
        if posixpath.basename(rel) != PAGE:
            continue
        folder = posixpath.dirname(rel) or "."
        site = read_site(tree, folder)
        if site.known or site.references:
            sites.append(site)
    return sorted(sites, key=lambda s: s.rank)
