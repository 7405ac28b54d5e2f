"""`wasmship verify DIST`: check a dist against its manifest byte for byte; report every problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from wasmship import dcz, page
from wasmship.decoders import DecodeError, DecoderMissing, UnknownCoding, decode
from wasmship.errors import UsageError
from wasmship.steps.fingerprint import integrity, sha256_hex
from wasmship.steps.manifest import MANIFEST

WASM_HEADER = b"\0asm\x01\0\0\0"  # magic and binary format version 1
MAX_MESSAGE = 240

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


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema for manifest.json shipped in the package."""
    text = files("wasmship").joinpath("data", "manifest.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(manifest: object) -> Iterator[str]:
    """Every way MANIFEST breaks the schema, as `at $.path: what`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(manifest_schema())
    errors = sorted(validator.iter_errors(manifest), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        message = error.message
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        yield f"does not match the manifest schema at {error.json_path}: {message}"


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
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or "\\" in rel or not rel:
            self.error(rel or "(empty path)", "the manifest names a path outside the dist")
            return None
        return self.dist.joinpath(*pure.parts)

    def file(self, rel: object, size: object, sha256: object, sri: object = None) -> bytes | None:
        """Check one listed file's presence, size and hashes; its bytes if it is there."""
        if not isinstance(rel, str):
            return None  # the schema check has named it
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
        if isinstance(size, int) and len(data) != size:
            wrong.append(f"size is {len(data)} bytes, the manifest says {size}")
        if isinstance(sha256, str) and sha256_hex(data) != sha256:
            wrong.append("sha256 differs from the manifest (changed after the build?)")
        elif isinstance(sha256, str):
            self.verified[sha256] = data
        elif isinstance(sri, str) and integrity(data) != sri:
            wrong.append("integrity (sha384) differs from the manifest")
        if wrong:
            self.error(rel, "; ".join(wrong))
        return data

    def encoding(self, rel: str, name: str, variant: dict[str, Any], entry: dict[str, Any]) -> None:
        """Check a precompressed variant and that it decodes to exactly its original."""
        blob = self.file(variant.get("path"), variant.get("size"), variant.get("sha256"))
        if blob is None:
            return
        vpath = str(variant["path"])
        if variant.get("coding") == "dcz":
            return self.delta(rel, vpath, blob, variant, entry)
        expected_size = entry.get("size")
        limit = expected_size if isinstance(expected_size, int) else len(blob) * 64
        try:
            decoded = decode(blob, name, max_size=limit)
        except UnknownCoding:
            self.warn(vpath, f"unknown encoding {name!r}: size and sha256 checked, not decoded")
            return
        except DecoderMissing:
            self.warn(vpath, f"cannot check the {name} variant: install the zstandard package")
            return
        except DecodeError as exc:
            cause = exc.__cause__ or exc
            self.error(vpath, f"does not decode as {name} ({type(cause).__name__}: {cause})")
            return
        expected = entry.get("sha256")
        reference = self.contents.get(rel)
        if isinstance(expected, str) and sha256_hex(decoded) != expected:
            self.error(vpath, f"decodes to different bytes than {rel} (sha256 differs)")
        elif not isinstance(expected, str) and reference is not None and decoded != reference:
            self.error(vpath, f"decodes to different bytes than {rel}")

    def delta(
        self, rel: str, vpath: str, blob: bytes, variant: dict[str, Any], entry: dict[str, Any]
    ) -> None:
        """A dcz delta: the right header, its dictionary kept in the dist, exactly REL decoded."""
        wanted = variant.get("dictionary")
        try:
            named = dcz.dictionary_hash(blob)
        except dcz.DczError as exc:
            return self.error(vpath, str(exc))
        if named != wanted:
            return self.error(vpath, f"its header names dictionary {named}, the manifest {wanted}")
        available = variant.get("available_dictionary")
        if available != dcz.available_dictionary(named):
            self.error(vpath, f"available_dictionary {available!r} is not the dictionary's hash")
        dictionary = self.verified.get(named)
        if dictionary is None:
            return self.error(
                vpath, f"its dictionary (sha256 {named[:16]}…) is not a file of the dist"
            )
        size = entry.get("size")
        try:
            decoded = dcz.decompress(blob, dictionary, size if isinstance(size, int) else 1 << 30)
        except dcz.DczError as exc:
            return self.error(vpath, f"does not decode as dcz ({exc})")
        if sha256_hex(decoded) != entry.get("sha256"):
            self.error(vpath, f"decodes to different bytes than {rel} (sha256 differs)")

    def entry(self, entry: object) -> None:
        """Check one file of a target and all its variants."""
        if not isinstance(entry, dict):
            return
        rel = entry.get("path")
        if isinstance(rel, str) and entry.get("immutable") is True:
            self.immutable.add(rel)
        data = self.file(rel, entry.get("size"), entry.get("sha256"), entry.get("integrity"))
        is_wasm = isinstance(rel, str) and rel.endswith(".wasm")
        if data is not None and is_wasm and data[: len(WASM_HEADER)] != WASM_HEADER:
            self.error(
                str(rel),
                f"not a WebAssembly module: starts with {data[:8]!r}, "
                f"expected {WASM_HEADER!r} (magic and version 1)",
            )
        encodings = entry.get("encodings")
        if isinstance(rel, str) and isinstance(encodings, dict):
            for name, variant in sorted(encodings.items()):
                if isinstance(variant, dict):
                    self.encoding(rel, name, variant, entry)

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
            if ref.integrity is not None and not page.integrity_matches(ref.integrity, blob):
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


def _load(dist: Path) -> object:
    if not dist.is_dir():
        raise UsageError(f"{dist}: no such folder; pass the dist folder `wasmship build` wrote")
    manifest = dist / MANIFEST
    if not manifest.is_file():
        raise UsageError(
            f"{dist}: no {MANIFEST}; this is not a wasmship dist (build one with `wasmship build`)"
        )
    try:
        loaded: object = json.loads(manifest.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return exc
    return loaded


def verify_dist(dist: Path, *, strict: bool = False) -> Verification:
    """Check DIST against its manifest.json; every problem is collected, none stops the rest."""
    dist = Path(dist)
    loaded = _load(dist)
    check = _Checker(dist=dist, strict=strict)
    if isinstance(loaded, Exception):
        check.error(MANIFEST, f"not valid JSON ({loaded})")
        return _result(check)
    for message in schema_problems(loaded):
        check.error(MANIFEST, message)
    manifest = loaded if isinstance(loaded, dict) else {}
    pages: list[str] = []
    loader_page = False
    previous = manifest.get("previous")
    for entry in previous if isinstance(previous, list) else []:
        check.entry(entry)  # first: the kept files are the dictionaries of the deltas
    targets = manifest.get("targets")
    for target in targets if isinstance(targets, list) else []:
        entries = target.get("files") if isinstance(target, dict) else None
        loader_page = loader_page or (isinstance(entries, dict) and "loader.js" in entries)
        for _, entry in sorted(entries.items()) if isinstance(entries, dict) else []:
            check.entry(entry)
            rel = entry.get("path") if isinstance(entry, dict) else None
            if isinstance(rel, str) and rel.endswith(".html"):
                pages.append(rel)
    helpers = manifest.get("deploy_helpers")
    for _, helper in sorted(helpers.items()) if isinstance(helpers, dict) else []:
        if isinstance(helper, dict):
            check.file(helper.get("path"), helper.get("size"), helper.get("sha256"))
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
