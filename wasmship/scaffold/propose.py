"""What init proposes, from what the project's files say: the pages' modules, the build files'
`go build` lines, and the main packages Go lists.

The order of evidence: a module a page loads (`fetch("/web/app.wasm")`) is a target of that
name in that folder, built from the package the project's build files write to it (else the
browser main nearest the page); every wasip1 guest is a target (it needs no page); a browser
main no page loads gets the built-in page, and since a dist has one page, only one of them
does: the others are listed commented out with how to switch.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wasmship.distformat.names import PAGE, is_target_name
from wasmship.scaffold.hints import Hint
from wasmship.scaffold.mains import Main
from wasmship.scaffold.pages import Site, WasmReference
from wasmship.toolchain.golist import BROWSER_API, NO_BROWSER_API

PAGELESS_FOLDERS = ("web", "static", "public", "site")  # proposed by name, even without a page


@dataclass(frozen=True)
class MainPackage:
    """A main package as init writes it: a [[target]], or commented out with the reason."""

    name: str
    path: str  # "./cmd/app"
    reason: str | None = None  # why it is only a commented-out candidate; None for a target
    goos: str = "js"
    folder: str = ""  # the [[target]]'s folder: where the pages load its module from
    reactor: bool = False  # -buildmode=c-shared: the host calls its exports
    why: str = f"uses {BROWSER_API}"  # why it is proposed, for the summary
    fixed: str | None = None  # where a host of the project reads it by its plain name
    tags: tuple[str, ...] = ()  # the build tags its build line compiles it with

    @property
    def is_target(self) -> bool:
        """Whether init proposes it as a target."""
        return self.reason is None


@dataclass(frozen=True)
class StaticFolder:
    """A web folder init found: proposed as `static`, or commented out with a reason."""

    path: str  # "web"; "." for the module root
    reason: str | None = None


def _distance(a: str, b: str) -> int:
    """Folders between A and B (module-root-relative folders, "." the root)."""
    pa = [] if a == "." else a.split("/")
    pb = [] if b == "." else b.split("/")
    common = 0
    while common < min(len(pa), len(pb)) and pa[common] == pb[common]:
        common += 1
    return len(pa) + len(pb) - 2 * common


class Names:
    """Unique target names: `app`, then `app-2`."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, label: str) -> str:
        """A free name made from LABEL."""
        base = re.sub(r"[^A-Za-z0-9_.-]", "-", label).lstrip(".") or "main"
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}-{n}", n + 1
        self.used.add(name)
        return name


def _built_by(
    ref: WasmReference, site: Site, hints: Sequence[Hint], mains: dict[str, Main]
) -> tuple[Main, str] | None:
    """The main package that builds the module REF loads, and the evidence."""
    project = posixpath.normpath(posixpath.join(site.folder, ref.path))
    basename = posixpath.basename(ref.path)
    for exact in (True, False):
        for hint in hints:
            if hint.output is None or hint.package not in mains:
                continue
            if hint.output == project if exact else posixpath.basename(hint.output) == basename:
                return mains[hint.package], f"{hint.where} builds {hint.output}"
    browser = [m for m in mains.values() if m.uses_browser]
    named = [m for m in browser if posixpath.basename(m.rel) == ref.name]
    if named:
        return named[0], f"its folder is named {ref.name}"
    # Nearest the module's own folder first (a committed api.wasm beside its api.go), then the
    # page that loads it.
    module_folder = posixpath.dirname(project) or "."
    page_folder = posixpath.dirname(ref.file) or "."

    def key(m: Main) -> tuple[int, int, str]:
        return (_distance(m.rel, module_folder), _distance(m.rel, page_folder), m.rel)

    nearest = sorted(browser, key=key)
    return (nearest[0], f"the {BROWSER_API} main nearest to {ref.file}") if nearest else None


def _preferred(browser: list[Main], hints: Sequence[Hint], module: str) -> Main:
    """The browser main that gets the page when none is loaded by one: the one the build files
    write a module from, else the module's root, else one named like the module, else the first."""
    written = {h.package for h in hints if h.output is not None}
    last = module.rsplit("/", 1)[-1]

    def key(m: Main) -> tuple[bool, bool, bool, int, str]:
        leaf = posixpath.basename(m.rel)
        return (m.rel not in written, m.rel != ".", leaf != last, m.rel.count("/"), m.rel)

    return min(browser, key=key)


def choose_static(sites: Sequence[Site], pageless: Sequence[str]) -> list[StaticFolder]:
    """The web folder to propose (the first) and the others commented out, each with why."""
    folders = [
        StaticFolder(
            name, f"{name}/ has no {PAGE}: its files would be served beside wasmship's page"
        )
        for name in pageless
    ]
    if not sites:
        return folders
    best = sites[0]
    tied = [s for s in sites if s.rank[:2] == best.rank[:2] and s.known] if best.known else []
    if len(tied) > 1:
        where = " and ".join("the root" if s.folder == "." else f"{s.folder}/" for s in tied)
        reason = f"{where} each have an {PAGE}: keep the one that is your page"
        return [StaticFolder(s.folder, reason) for s in tied] + folders
    chosen = [StaticFolder(best.folder)]
    for site in sites[1:]:
        if best.folder == "." or site.folder.startswith(best.folder + "/"):
            continue  # published inside the chosen one
        loads = ", ".join(sorted({r.path for r in site.references})) or "Go's shim"
        chosen.append(
            StaticFolder(
                site.folder,
                f"{site.folder}/ is another site (its pages load {loads}); a dist has one "
                f"page: to build it instead, set static to it and point the target at its "
                "package",
            )
        )
    return chosen + folders


def _guest(
    main: Main, hint: Hint | None, label: str, names: Names, hosts: Mapping[str, str]
) -> MainPackage:
    """MAIN as a wasip1 target: named and placed as its build line writes it (`-o
    plugin-morning/morning.wasm`), with its plain name when a host of the project reads it there."""
    how = ""
    tags = hint.tags if hint is not None else ()
    if hint is not None:
        how = f"{hint.where} builds it " + (
            "with GOOS=wasip1" if hint.wasip1 else f"into {hint.output or 'a reactor'}"
        )
        if tags:
            how += f" -tags {','.join(tags)}"
    if hint is not None and tags:
        # Its tags choose other files than those listed untagged (a TinyGo set beside a Go
        # one): the line, not the untagged files' directives, says whether it is a reactor.
        reactor, why = hint.reactor, how
    else:
        reactor = (
            main.exports or main.exports_via is not None or (hint is not None and hint.reactor)
        )
        why = main.guest or how
    written = hint.output if hint is not None else None
    name = names.take(posixpath.basename(written)[:-5] if written else label)
    host = hosts.get(written) if written is not None else None
    if host is None or written is None or posixpath.basename(written) != f"{name}.wasm":
        return MainPackage(name, main.path, goos="wasip1", reactor=reactor, why=why, tags=tags)
    why = f"{how}, and {host} reads it there"
    folder = posixpath.dirname(written)
    return MainPackage(
        name,
        main.path,
        goos="wasip1",
        reactor=reactor,
        why=why,
        folder=folder,
        fixed=host,
        tags=tags,
    )


def propose(
    found: Sequence[Main],
    hints: Sequence[Hint],
    site: Site | None,
    module: str,
    root_name: str,
    hosts: Mapping[str, str] | None = None,
) -> list[MainPackage]:
    """The targets and the commented-out candidates, targets first in the order found; HOSTS:
    the modules the project's own Go programs read by a fixed path (hints.read_by_hosts)."""
    mains = {m.rel: m for m in found}
    names = Names()
    proposed: list[MainPackage] = []
    assigned: set[str] = set()
    tinygo: set[str] = set()  # mains whose modules pages load with TinyGo's shim
    seen_paths: set[str] = set()
    for ref in site.references if site is not None else ():
        if ref.path in seen_paths:
            continue
        seen_paths.add(ref.path)
        built = _built_by(ref, site, hints, mains) if site is not None else None
        if built is None:
            continue
        main, evidence = built
        if ref.tinygo:
            # Its page loads TinyGo's shim: the module is TinyGo's build, which Go cannot make.
            tinygo.add(main.rel)
            continue
        why = f"{ref.file}:{ref.line} loads {ref.path} ({evidence})"
        if ref.name in names.used or not is_target_name(ref.name):
            reason = f"a page loads {ref.path}, but a target is already named {ref.name}"
            proposed.append(MainPackage(names.take(ref.name), main.path, reason, folder=ref.folder))
            assigned.add(main.rel)  # listed once, with this reason
            continue
        names.used.add(ref.name)
        assigned.add(main.rel)
        proposed.append(MainPackage(ref.name, main.path, folder=ref.folder, why=why))
    paged = bool(proposed)
    guests = {h.package: h for h in hints if h.guest and h.package is not None}
    browser = [m for m in found if m.uses_browser and m.rel not in assigned | tinygo]
    page_main = _preferred(browser, hints, module) if browser and not paged else None
    for main in found:
        if main.rel in assigned:
            continue
        hint = guests.get(main.rel)
        label = posixpath.basename(main.rel) if main.rel != "." else root_name
        if not main.uses_browser and not main.has_main and not (hint and hint.tags):
            # `function main is undeclared in the main package`: a TinyGo-only guest.
            reason = "has no func main: Go cannot build it (TinyGo builds such a package)"
            proposed.append(MainPackage(names.take(label), main.path, reason, goos="wasip1"))
        elif not main.uses_browser and (main.guest or hint is not None):
            proposed.append(_guest(main, hint, label, names, hosts or {}))
        elif main.rel in tinygo:
            reason = "a page loads its module with TinyGo's wasm_exec.js: a TinyGo program"
            proposed.append(MainPackage(names.take(label), main.path, reason))
        elif main is page_main:
            proposed.append(MainPackage(names.take(label), main.path))
        elif main.uses_browser:
            if paged:
                where = f"{site.folder}/" if site is not None and site.folder != "." else "the root"
                reason = f"uses {BROWSER_API}, but no page in {where} loads it"
            else:
                chosen = page_main.path if page_main is not None else "another"
                reason = (
                    f"uses {BROWSER_API} too, but a dist has one page, which starts {chosen}: "
                    "to build this one instead, comment out that [[target]] and uncomment this one"
                )
            proposed.append(MainPackage(names.take(label), main.path, reason))
        else:
            reason = main.browser_reason or NO_BROWSER_API
            proposed.append(MainPackage(names.take(label), main.path, reason))
    return proposed
