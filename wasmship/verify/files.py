"""The listed files against the manifest: presence, size, sha256, SRI, every variant decoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wasmship.distformat.consistency import Listing, entry_names, json_path, relisted
from wasmship.distformat.digests import integrity, sha256_hex
from wasmship.distformat.model import FileEntry, Variant
from wasmship.distformat.names import MANIFEST, relative_path
from wasmship.encodings import dcz
from wasmship.encodings.decoders import DecodeError, DecoderMissing, UnknownCoding, decode
from wasmship.verify.verdict import Kind, Problem

WASM_HEADER = b"\0asm\x01\0\0\0"  # magic and binary format version 1


@dataclass
class Checker:
    """What verify has seen of one dist so far, and the problems it found."""

    dist: Path
    strict: bool
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=lambda: {MANIFEST})
    immutable: set[str] = field(default_factory=set)
    contents: dict[str, bytes] = field(default_factory=dict)
    verified: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes that match it
    listed: dict[str, tuple[str, Listing]] = field(default_factory=dict)  # path -> first listing
    routes: tuple[str, ...] = ()  # what the project's service worker answers (manifest.routes)
    go_version: str = ""  # the Go that built the modules (manifest go.version)

    def error(
        self, path: str, message: str, line: int | None = None, kind: Kind = "manifest"
    ) -> None:
        self.problems.append(Problem("error", path, message, line, kind))

    def warn(self, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem("warning", path, message, line))

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
        if self.escapes(rel, path):
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

    def escapes(self, rel: str, path: Path) -> bool:
        """Whether PATH (REL in the dist) resolves outside the dist, through a symbolic link of its
        own or of a folder on the way: an error whether listed or not, as serve never follows it
        and a deploy would publish whatever it points to."""
        root = self.dist.resolve()
        real = path.resolve()
        if real.is_relative_to(root):
            return False
        self.error(
            rel,
            f"resolves outside the dist (to {real}): serve will not follow it and a deploy would "
            "publish what it points to; put the file itself in the dist",
        )
        return True

    def claim(self, rel: str, where: str, listing: Listing) -> bool:
        """Note that WHERE lists REL; True the first time, when REL is to be checked.

        A path listed again is checked once, against its first listing; listed with other
        content or another entry, it is an error.
        """
        if rel not in self.listed:
            self.listed[rel] = (where, listing)
            return True
        message = relisted(*self.listed[rel], where, listing)
        if message is not None:
            self.error(rel, message)
        return False

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
            self.claim(variant.path, json_path("encodings", variant.key, within=where), variant)
        for wrong in entry_names(entry, where):
            self.error(wrong.path, wrong.message)
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

    def strays(self) -> None:
        """Files in the dist that the manifest does not know."""
        for path in sorted(self.dist.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            rel = path.relative_to(self.dist).as_posix()
            if rel in self.known or self.escapes(rel, path):
                continue
            message = "not in the manifest: it would be deployed without being verified"
            if self.strict:
                self.error(rel, message)
            else:
                self.warn(rel, message)
