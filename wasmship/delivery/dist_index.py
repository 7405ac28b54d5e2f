"""The files a preview server answers from: a dist's manifest, re-read when a build swaps it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from wasmship.distformat.digests import etag_for
from wasmship.distformat.headers import HeaderRule, headers_for
from wasmship.distformat.model import FileEntry, Manifest
from wasmship.distformat.names import MANIFEST, PAGE, is_client_route
from wasmship.distformat.reader import read_manifest, require_dist_folder
from wasmship.errors import DistError


def read_dist(dist: Path) -> Manifest:
    """DIST's manifest; a clear error if there is no dist there."""
    require_dist_folder(dist)
    return read_manifest(dist)


class DistIndex:
    """The dist's files, re-read whenever manifest.json changes (a rebuild swaps the dist in)."""

    def __init__(self, dist: Path, *, until_built: bool = False) -> None:
        self.dist = dist.absolute()
        self._lock = threading.Lock()
        self._stamp = self._manifest_stamp()
        # until_built (wasmship dev): no files until a first build writes the manifest.
        self._files: Mapping[str, FileEntry] = {}
        self._spa = False
        self._headers: tuple[HeaderRule, ...] = ()
        if not (until_built and self._stamp is None):
            self._read()
        self._etags: dict[tuple[int, ...], str] = {}

    def _manifest_stamp(self) -> tuple[int, ...] | None:
        try:
            st = os.stat(self.dist / MANIFEST)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def files(self) -> Mapping[str, FileEntry]:
        """The manifest's files; the last good ones while a new manifest is unreadable."""
        stamp = self._manifest_stamp()
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                # Mid-rebuild or broken: keep serving the last good manifest.
                with contextlib.suppress(DistError):
                    self._read()
                self._stamp = stamp
        return self._files

    def _read(self) -> None:
        manifest = read_dist(self.dist)
        self._files, self._spa = manifest.files_by_path(), manifest.spa
        self._headers = manifest.headers

    def headers_for(self, entry: FileEntry) -> list[tuple[str, str]]:
        """The project's own headers ([headers]) for a response that sends ENTRY."""
        return headers_for(self._headers, "/" + entry.path) if self._headers else []

    def route_page(self, relative: str) -> FileEntry | None:
        """The page, when RELATIVE is a client route of a single-page app (built with --spa):
        a path the dist lacks (listed or on disk) whose last segment has no dot; else None."""
        files = self.files()
        if not self._spa or relative in files or not is_client_route(relative):
            return None
        if os.path.lexists(os.path.join(self.dist, relative)):
            return None  # a file of the dist's own (LICENSE) or a folder: not a route
        return files.get(PAGE)

    def open(self, relative: str) -> tuple[BinaryIO, os.stat_result] | None:
        """A regular file at RELATIVE whose real path is inside the dist, else None."""
        root = os.path.realpath(self.dist)
        real = os.path.realpath(os.path.join(root, relative))
        if os.path.commonpath([root, real]) != root:
            return None  # a symlink (or a manifest path) pointing out of the dist
        try:
            file = open(real, "rb")  # noqa: SIM115 (closed by the caller)
        except OSError:
            return None
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            file.close()
            return None
        return file, info

    def owner_of(self, relative: str) -> FileEntry | None:
        """The file whose precompressed variant RELATIVE is: a static host's loader asks for a
        module's .gz by name (--hosting static), and gets it as a file, cached as the module."""
        found = (e for e in self.files().values() if any(v.path == relative for v in e.variants))
        return next(found, None)

    def etag_of(self, file: BinaryIO, info: os.stat_result) -> str:
        """A strong ETag for a file the manifest does not list: its content hash, cached."""
        key = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)
        etag = self._etags.get(key)
        if etag is None:
            digest = hashlib.file_digest(file, "sha256").hexdigest()  # type: ignore[arg-type]
            etag = self._etags[key] = etag_for(digest)
        return etag
