"""`wasmship verify DIST`: check a dist against its manifest byte for byte; report every problem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from wasmship.dist import page
from wasmship.dist.digests import integrity, integrity_matches, sha256_hex
from wasmship.dist.manifest import DeployHelper, FileEntry, Manifest, Variant
from wasmship.dist.names import (
    CODING_BY_TOKEN,
    DELTA_KEY_PREFIX,
    HASH_LENGTH,
    LOADER,
    MANIFEST,
    PLAIN_CODINGS,
    delta_path,
    relative_path,
    variant_path,
)
from wasmship.dist.reader import load_document, parse_manifest
from wasmship.dist.schema import schema_problems
from wasmship.encodings import dcz
from wasmship.encodings.decoders import DecodeError, DecoderMissing, UnknownCoding, decode
from wasmship.errors import ManifestError, UsageError

WASM_HEADER = b"\0asm\x01\0\0\0"  # magic and binary format version 1

Severity = Literal["error", "warning"]
Listing = FileEntry | Variant | DeployHelper  # what the manifest says a path holds

_PLAIN_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


def _json_path(*parts: str | int, within: str = "$") -> str:
    """`$.targets[0].files['main.wasm']`: a place in manifest.json, as the schema problems say."""
    path = within
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def _hashed_parts(logical: str) -> tuple[str, str]:
    """What comes before and after the hash in LOGICAL's hashed name (names.hashed_name)."""
    stem, dot, ext = logical.rpartition(".")
    return (f"{stem}.", f".{ext}") if dot else (f"{logical}.", "")


def _hash_in_name(logical: str, path: str) -> str | None:
    """The hex digits in PATH when it is LOGICAL's hashed name, else None."""
    head, tail = _hashed_parts(logical)
    digits = f"([0-9a-f]{{{HASH_LENGTH}}})"
    match = re.fullmatch(re.escape(head) + digits + re.escape(tail), path)
    return match.group(1) if match else None


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
    listed: dict[str, tuple[str, Listing]] = field(default_factory=dict)  # path -> first listing

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

    def file(
        self, rel: str, size: int, sha256: str, *, sri: str | None = None, where: str = ""
    ) -> bytes | None:
        """Check one listed file's presence, size, hash and SRI (at WHERE); its bytes if there."""
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
            # Only for bytes that match: a changed file is reported once, by its sha256.
            if sri is not None and sri != integrity(data):
                wrong.append(
                    f"{where}.integrity does not match the file (its SRI is {integrity(data)})"
                )
        if wrong:
            self.error(rel, "; ".join(wrong))
        return data

    def claim(self, rel: str, where: str, listing: Listing) -> bool:
        """Note that WHERE lists REL; True the first time, when REL is to be checked.

        Targets share one entry for the shim, loader and page; a path listed again with other
        content is an error, since a server can send only one of them. Either way the bytes
        are checked once, against the first listing.
        """
        if rel not in self.listed:
            self.listed[rel] = (where, listing)
            return True
        earlier, seen = self.listed[rel]
        if seen == listing:
            return False
        if (seen.sha256, seen.size) != (listing.sha256, listing.size):
            self.error(
                rel,
                f"listed twice for different content: sha256 {seen.sha256[:8]}… at {earlier}, "
                f"{listing.sha256[:8]}… at {where}",
            )
        else:
            differ = ["kind"]  # a file, a variant, a deploy helper
            if type(seen) is type(listing):
                differ = [
                    f.name
                    for f in fields(seen)
                    if getattr(seen, f.name) != getattr(listing, f.name)
                ]
            self.error(
                rel,
                f"listed twice with different entries: {earlier} and {where} "
                f"(the same bytes; they differ in {', '.join(differ)})",
            )
        return False

    def names(self, entry: FileEntry, where: str) -> None:
        """The entry agrees with itself: its path with its logical name and sha256, each
        variant's key and path with its coding (and a delta's with its dictionary)."""
        if entry.path != entry.logical:
            digits = _hash_in_name(entry.logical, entry.path)
            if digits is None:
                head, tail = _hashed_parts(entry.logical)
                self.error(
                    entry.path,
                    f"{where}.path is neither its logical name {entry.logical!r} nor its "
                    f"hashed name {head}<{HASH_LENGTH} hex>{tail}",
                )
            elif not entry.sha256.startswith(digits):
                self.error(
                    entry.path,
                    f"{where}.path: the hash in the name, {digits}, is not the start of its "
                    f"sha256 ({entry.sha256[:HASH_LENGTH]}…)",
                )
        for variant in entry.variants:
            vwhere = _json_path("encodings", variant.key, within=where)
            if variant.is_delta:
                self.delta_names(variant, entry.path, vwhere)
            elif variant.coding in PLAIN_CODINGS:
                if variant.key != variant.coding:
                    self.error(
                        variant.path,
                        f"{vwhere}: a {variant.coding} variant's key must be {variant.coding!r}",
                    )
                expected = variant_path(entry.path, variant.coding)
                if variant.path != expected:
                    suffix = CODING_BY_TOKEN[variant.coding].suffix
                    self.error(
                        variant.path,
                        f"{vwhere}.path must be {expected} (its file's path + {suffix})",
                    )

    def delta_names(self, variant: Variant, file_path: str, vwhere: str) -> None:
        """A delta's key is dcz-<its dictionary>, its path <file path>.<dictionary prefix>.dcz."""
        if variant.dictionary is None:
            self.error(variant.path, f"{vwhere}: a {variant.coding} delta without a dictionary")
            return
        key = DELTA_KEY_PREFIX + variant.dictionary
        if variant.key != key:
            self.error(
                variant.path,
                f"{vwhere}: a delta's key must be dcz-<its dictionary>, {key}",
            )
        expected = delta_path(file_path, variant.dictionary)
        if variant.path != expected:
            self.error(
                variant.path,
                f"{vwhere}.path must be {expected} "
                "(its file's path, its dictionary's hash prefix, .dcz)",
            )

    def encoding(self, variant: Variant, entry: FileEntry) -> None:
        """Check a precompressed variant and that it decodes to exactly its original."""
        blob = self.file(variant.path, variant.size, variant.sha256)
        if blob is None:
            return
        if variant.is_delta:
            return self.delta(variant, blob, entry)
        name = variant.coding  # what a server sends as Content-Encoding
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

    def entry(self, entry: FileEntry, where: str) -> bool:
        """Check one file the manifest lists at WHERE and all its variants; False when its
        path was listed (and checked) before."""
        if not self.claim(entry.path, where, entry):
            self.known.update(v.path for v in entry.variants)
            return False
        for variant in entry.variants:
            self.claim(variant.path, _json_path("encodings", variant.key, within=where), variant)
        self.names(entry, where)
        if entry.immutable:
            self.immutable.add(entry.path)
        data = self.file(entry.path, entry.size, entry.sha256, sri=entry.integrity, where=where)
        if data is not None and entry.path.endswith(".wasm") and not data.startswith(WASM_HEADER):
            self.error(
                entry.path,
                f"not a WebAssembly module: starts with {data[:8]!r}, "
                f"expected {WASM_HEADER!r} (magic and version 1)",
            )
        for variant in entry.variants:
            self.encoding(variant, entry)
        return True

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
    if dist.exists() and not dist.is_dir():
        what = "a file, not a dist folder" if dist.is_file() else "not a folder"
        raise UsageError(f"{dist} is {what}; pass the dist folder `wasmship build` wrote")
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
    for i, kept in enumerate(manifest.kept):
        # First: the kept files are the dictionaries of the deltas.
        check.entry(kept.file, _json_path("previous", i))
    pages: list[str] = []
    loader_page = any(LOADER in target.files for target in manifest.targets)
    for i, target in enumerate(manifest.targets):
        for logical, entry in sorted(target.files.items()):
            fresh = check.entry(entry, _json_path("targets", i, "files", logical))
            if fresh and entry.path.endswith(".html"):
                pages.append(entry.path)
    for name, helper in sorted(manifest.deploy_helpers.items()):
        if check.claim(helper.path, _json_path("deploy_helpers", name), helper):
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
