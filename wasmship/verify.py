"""`wasmship verify DIST`: check a dist against its manifest byte for byte; report every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from wasmship.dist import page
from wasmship.dist.digests import integrity_matches, sha256_hex
from wasmship.dist.manifest import FileEntry, Manifest, Variant
from wasmship.dist.names import LOADER, MANIFEST, relative_path
from wasmship.dist.reader import load_document, parse_manifest
from wasmship.dist.schema import schema_problems
from wasmship.encodings import dcz
from wasmship.encodings.decoders import DecodeError, DecoderMissing, UnknownCoding, decode
from wasmship.errors import ManifestError, UsageError

WASM_HEADER = b"\0asm\x01\0\0\0"  # magic and binary format version 1

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the dist, named by its path relative to the dist."""

    severity: Severity
    path: str
    message: str

    def line(self) -> str:
        """`error: main.3f9c2a1b.wasm: sha256 differs from the manifest`."""
        return f"{self.severity}: {self.path}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """What verify found: the files it checked and every problem."""

    dist: Path
    strict: bool
    checked: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        """The problems that fail the verification."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that are reported but do not fail it."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON data."""
        return {
            "dist": str(self.dist),
            "ok": self.ok,
            "strict": self.strict,
            "files_checked": len(self.checked),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [
                {"severity": p.severity, "path": p.path, "message": p.message}
                for p in self.problems
            ],
        }


@dataclass
class _Checker:
    dist: Path
    strict: bool
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=lambda: {MANIFEST})
    immutable: set[str] = field(default_factory=set)
    contents: dict[str, bytes] = field(default_factory=dict)
    verified: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes that match it

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem("error", path, message))

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem("warning", path, message))

    def inside(self, rel: str) -> Path | None:
        """DIST/REL, or None (and an error) when REL would leave the dist."""
        safe = relative_path(rel)
        if safe is None:
            self.error(rel or "(empty path)", "the manifest names a path outside the dist")
            return None
        return self.dist.joinpath(*safe.split("/"))

    def file(self, rel: str, size: int, sha256: str) -> bytes | None:
        """Check one listed file's presence, size and hash; its bytes if it is there."""
        self.known.add(rel)
        path = self.inside(rel)
        if path is None:
            return None
        if not path.is_file():
            self.error(rel, "missing: the manifest lists it but the dist has no such file")
            return None
        data = path.read_bytes()
        self.checked.append(rel)
        self.contents[rel] = data
        wrong = []
        if len(data) != size:
            wrong.append(f"size is {len(data)} bytes, the manifest says {size}")
        if sha256_hex(data) != sha256:
            wrong.append("sha256 differs from the manifest (changed after the build?)")
        else:
            self.verified[sha256] = data
        if wrong:
            self.error(rel, "; ".join(wrong))
        return data

    def encoding(self, variant: Variant, entry: FileEntry) -> None:
        """Check a precompressed variant and that it decodes to exactly its original."""
        blob = self.file(variant.path, variant.size, variant.sha256)
        if blob is None:
            return
        if variant.is_delta:
            return self.delta(variant, blob, entry)
        name = variant.key
        try:
            decoded = decode(blob, name, max_size=entry.size)
        except UnknownCoding:
            self.warn(
                variant.path, f"unknown encoding {name!r}: size and sha256 checked, not decoded"
            )
            return
        except DecoderMissing:
            self.warn(
                variant.path, f"cannot check the {name} variant: install the zstandard package"
            )
            return
        except DecodeError as exc:
            cause = exc.__cause__ or exc
            self.error(variant.path, f"does not decode as {name} ({type(cause).__name__}: {cause})")
            return
        if sha256_hex(decoded) != entry.sha256:
            self.error(
                variant.path, f"decodes to different bytes than {entry.path} (sha256 differs)"
            )

    def delta(self, variant: Variant, blob: bytes, entry: FileEntry) -> None:
        """A dcz delta: the right header, its dictionary kept in the dist, exactly ENTRY decoded."""
        vpath, wanted = variant.path, variant.dictionary
        try:
            named = dcz.dictionary_hash(blob)
        except dcz.DczError as exc:
            return self.error(vpath, str(exc))
        if named != wanted:
            return self.error(vpath, f"its header names dictionary {named}, the manifest {wanted}")
        dictionary = self.verified.get(named)
        if dictionary is None:
            return self.error(
                vpath, f"its dictionary (sha256 {named[:16]}…) is not a file of the dist"
            )
        try:
            decoded = dcz.decompress(blob, dictionary, entry.size)
        except dcz.DczError as exc:
            return self.error(vpath, f"does not decode as dcz ({exc})")
        if sha256_hex(decoded) != entry.sha256:
            self.error(vpath, f"decodes to different bytes than {entry.path} (sha256 differs)")

    def entry(self, entry: FileEntry) -> None:
        """Check one file of a target and all its variants."""
        if entry.immutable:
            self.immutable.add(entry.path)
        data = self.file(entry.path, entry.size, entry.sha256)
        if data is not None and entry.path.endswith(".wasm") and not data.startswith(WASM_HEADER):
            self.error(
                entry.path,
                f"not a WebAssembly module: starts with {data[:8]!r}, "
                f"expected {WASM_HEADER!r} (magic and version 1)",
            )
        for variant in entry.variants:
            self.encoding(variant, entry)

    def page_references(self, rel: str, *, loader_page: bool) -> None:
        """Every script and data-wasm in the page names a file that exists, with a right SRI.

        A page of the project's own (--static) needs no data-wasm: its scripts start the modules.
        """
        data = self.contents.get(rel)
        if data is None:
            return
        refs = page.references(data.decode("utf-8", errors="replace"))
        if loader_page and not any(r.attribute == "data-wasm" for r in refs):
            self.error(rel, "no <script data-wasm=...>: the loader has no module to start")
        for ref in refs:
            url = ref.resolved
            if page.is_external(url):
                continue
            target = page.local_path(rel, url)
            if target is None:
                self.error(rel, f"{ref.describe()} points outside the dist")
                continue
            path = self.dist / target
            if not path.is_file():
                self.error(rel, f"{ref.describe()}: {target} does not exist")
                continue
            blob = self.contents.get(target) or path.read_bytes()
            if ref.integrity is not None and not integrity_matches(ref.integrity, blob):
                self.error(rel, f"{ref.describe()}: integrity does not match {target}")
            elif ref.integrity is None and ref.attribute == "src" and target in self.immutable:
                self.warn(rel, f"{ref.describe()}: no integrity attribute")
            if ref.wasm_size is not None and ref.wasm_size != str(len(blob)):
                self.error(
                    rel,
                    f'data-wasm-size="{ref.wasm_size}" but {target} has {len(blob)} bytes '
                    "(the progress indicator would be wrong)",
                )

    def strays(self) -> None:
        """Files in the dist that the manifest does not know."""
        for path in sorted(self.dist.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            rel = path.relative_to(self.dist).as_posix()
            if rel in self.known:
                continue
            message = "not in the manifest: it would be deployed without being verified"
            if self.strict:
                self.error(rel, message)
            else:
                self.warn(rel, message)


def _manifest(dist: Path, check: _Checker) -> Manifest | None:
    """DIST's typed manifest, with every schema problem reported; None when it cannot be read."""
    if not dist.is_dir():
        raise UsageError(f"{dist}: no such folder; pass the dist folder `wasmship build` wrote")
    if not (dist / MANIFEST).is_file():
        raise UsageError(
            f"{dist}: no {MANIFEST}; this is not a wasmship dist (build one with `wasmship build`)"
        )
    try:
        document = load_document(dist)
    except UsageError as exc:
        if not isinstance(exc.__cause__, ValueError):
            raise
        check.error(MANIFEST, f"not valid JSON ({exc.__cause__})")
        return None
    problems = list(schema_problems(document))
    for message in problems:
        check.error(MANIFEST, message)
    try:
        return parse_manifest(document)
    except ManifestError as exc:
        if not problems:  # else the schema has said it, with its path
            check.error(MANIFEST, str(exc))
        return None


def verify_dist(dist: Path, *, strict: bool = False) -> Verification:
    """Check DIST against its manifest.json; every problem is collected, none stops the rest."""
    dist = Path(dist)
    check = _Checker(dist=dist, strict=strict)
    manifest = _manifest(dist, check)
    if manifest is None:
        return _result(check)
    for kept in manifest.kept:
        check.entry(kept.file)  # first: the kept files are the dictionaries of the deltas
    pages: list[str] = []
    loader_page = any(LOADER in target.files for target in manifest.targets)
    for target in manifest.targets:
        for _, entry in sorted(target.files.items()):
            check.entry(entry)
            if entry.path.endswith(".html"):
                pages.append(entry.path)
    for _, helper in sorted(manifest.deploy_helpers.items()):
        check.file(helper.path, helper.size, helper.sha256)
    for rel in pages:
        check.page_references(rel, loader_page=loader_page)
    check.strays()
    return _result(check)


def _result(check: _Checker) -> Verification:
    return Verification(
        dist=check.dist,
        strict=check.strict,
        checked=tuple(check.checked),
        problems=tuple(check.problems),
    )
