"""Content-hashed names for the files the project's pages, stylesheets and scripts name.

A file of the --static folder that some page, stylesheet, script or web manifest names by a
literal URL (a span of builder/spans.py whose whole text is the URL) gets a content-hashed
name, and every such reference follows in its own form; a tag the browser checks (<script src>,
<link rel=stylesheet|modulepreload>) gets the file's `integrity`. Leaves first: a file's hash is
taken after its own references are rewritten, so a stylesheet's name changes when an image it
names changes; files that name each other (a cycle) keep their names, with a warning.

These keep their names: pages (the entry points) and web manifests (a browser knows an app by
its manifest's URL); a file a link, a form, a frame or `serviceWorker.register` names (others
link to it, a worker's URL is its identity); a file some reference names by a URL built from
pieces, or names differently from different pages (it cannot be rewritten); the names matched
by `keep-names`. A file named only by a name computed at run time is never seen here, so it
keeps its name too.
"""

from __future__ import annotations

import graphlib
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from wasmship.builder.rewrite import url_of
from wasmship.builder.spans import Span, documents, kind_of, spans
from wasmship.builder.webfolder import Pattern
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.names import hashed_name
from wasmship.distformat.page import is_external, local_path


@dataclass(frozen=True)
class _Reference:
    """A literal URL naming a file of the dist: where its path is, and what it names."""

    start: int
    end: int  # the end of the URL's path (a query or a fragment stays)
    url: str  # the path as written
    target: str
    base: str
    span: Span


@dataclass
class Fingerprints:
    """The static files after fingerprinting: their bytes and where they go."""

    contents: dict[str, bytes]  # by plain path, references rewritten
    paths: dict[str, str]  # plain path -> dist path (hashed, or the same)
    warnings: list[str] = field(default_factory=list)

    @property
    def hashed(self) -> list[str]:
        """The plain paths given a hashed name."""
        return sorted(rel for rel, path in self.paths.items() if path != rel)


def fingerprint_files(
    files: Mapping[str, bytes], keep_names: Sequence[str] = (), *, hashing: bool = True
) -> Fingerprints:
    """FILES (dist path -> bytes) with every file named by a literal URL under a hashed name
    (unless HASHING is off) and every reference to it rewritten; see the module's text."""
    decoded = {rel: _text(rel, data) for rel, data in files.items()}
    texts = {rel: text for rel, text in decoded.items() if text is not None}
    pages, loaded = documents(texts)
    found: dict[str, list[_Reference]] = {}
    pinned: set[str] = set()
    for rel in sorted(texts):
        found[rel] = _references(rel, texts[rel], spans(rel, texts[rel], pages, loaded), files)
        pinned |= _pinned_by(texts[rel], spans(rel, texts[rel], pages, loaded), files)
    patterns = [Pattern.parse(p) for p in keep_names]
    for rel in files:
        kind = kind_of(rel)
        if kind in ("html", "json") or any(p.matches(PurePosixPath(rel), False) for p in patterns):
            pinned.add(rel)
    named = {ref.target for refs in found.values() for ref in refs}
    hashed = sorted(named - pinned) if hashing else []
    warnings: list[str] = []
    order = _order(hashed, found, warnings)
    result = Fingerprints(dict(files), {rel: rel for rel in files}, warnings)
    for rel in order:  # leaves first: what REL names has its final name already
        data = _rewritten(rel, texts, found, result)
        result.contents[rel] = data
        result.paths[rel] = posixpath.join(
            posixpath.dirname(rel), hashed_name(rel, sha256_hex(data))
        )
    for rel in sorted(texts):
        if rel not in order:
            result.contents[rel] = _rewritten(rel, texts, found, result)
    return result


def _text(rel: str, data: bytes) -> str | None:
    if kind_of(rel) is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _url_of(span: Span, text: str) -> tuple[int, str] | None:
    """Where a whole literal URL starts in SPAN and its path (before `?` or `#`); None when the
    span holds no whole local URL."""
    raw = text[span.start : span.end]
    url = raw.strip()
    if not url or span.joined or not span.bases or is_external(url) or url.startswith("#"):
        return None
    head = span.start + len(raw) - len(raw.lstrip())
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    path = url[:cut]
    if not path or any(c.isspace() or c in "\"'<>`\\" for c in path):
        return None
    return head, path


def _targets(span: Span, path: str, files: Mapping[str, bytes]) -> set[str | None]:
    return {r if r in files else None for r in (local_path(base, path) for base in span.bases)}


def _references(
    rel: str, text: str, found: list[Span], files: Mapping[str, bytes]
) -> list[_Reference]:
    """REL's literal URLs that name one file of FILES from every page that reads them."""
    refs = []
    for span in found:
        whole = _url_of(span, text)
        if whole is None or span.stable:
            continue
        head, path = whole
        targets = _targets(span, path, files)
        if len(targets) == 1 and None not in targets:
            target = next(iter(targets))
            assert target is not None
            refs.append(_Reference(head, head + len(path), path, target, span.bases[0], span))
    return refs


def _pinned_by(text: str, found: list[Span], files: Mapping[str, bytes]) -> set[str]:
    """The files TEXT names where a new name cannot follow or must not: a link, a service
    worker, a URL built from pieces, one that names different files from different pages."""
    pinned: set[str] = set()
    for span in found:
        raw = text[span.start : span.end].strip()
        path = raw.split("?", 1)[0].split("#", 1)[0]
        if not path or is_external(raw) or not span.bases:
            continue
        targets = _targets(span, path, files) - {None}
        if span.joined or span.stable or len(_targets(span, path, files)) > 1:
            pinned |= {t for t in targets if t is not None}
    return pinned


def _order(
    hashed: list[str], found: Mapping[str, list[_Reference]], warnings: list[str]
) -> list[str]:
    """HASHED, each after the files it names; files in a cycle are left out (keep names)."""
    left = list(hashed)
    while True:
        graph = graphlib.TopologicalSorter[str]()
        chosen = set(left)
        for rel in left:
            graph.add(rel, *sorted({r.target for r in found.get(rel, []) if r.target in chosen}))
        try:
            return list(graph.static_order())
        except graphlib.CycleError as exc:
            cycle = sorted(set(exc.args[1]))
            warnings.append(
                f"{' and '.join(cycle)} name each other, so no hash can name them: they keep "
                "their names (served with revalidation)"
            )
            left = [rel for rel in left if rel not in cycle]


def _rewritten(
    rel: str, texts: Mapping[str, str], found: Mapping[str, list[_Reference]], done: Fingerprints
) -> bytes:
    """REL with its references to files renamed so far following them."""
    text = texts.get(rel)
    if text is None:
        return done.contents[rel]
    edits: dict[tuple[int, int], str] = {}
    for ref in found.get(rel, []):
        path = done.paths.get(ref.target, ref.target)
        if path == ref.target:
            continue
        edits[ref.start, ref.end] = url_of(ref.url, ref.target, path, ref.base)
        sri = integrity(done.contents[ref.target])
        if ref.span.integrity is not None:
            edits[ref.span.integrity] = sri
        elif ref.span.sri_slot is not None:
            edits[ref.span.sri_slot, ref.span.sri_slot] = f' integrity="{sri}"'
    for (first, last), replacement in sorted(edits.items(), reverse=True):
        text = text[:first] + replacement + text[last:]
    return text.encode("utf-8")
