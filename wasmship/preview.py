"""`wasmship serve`: a preview server for a dist that behaves like a correct production server."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import socket
import stat
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

from wasmship import __version__
from wasmship.delivery.negotiation import (
    NOSNIFF,
    REVALIDATE_CACHE,
    NotAcceptable,
    cache_control,
    choose_variant,
    negotiable,
    none_match,
    parse_accept_encoding,
    response_vary,
    use_as_dictionary,
)
from wasmship.delivery.request import ByteRange, Unsatisfiable, parse_range, request_path
from wasmship.distformat.digests import etag_for, parse_available_dictionary
from wasmship.distformat.model import FileEntry
from wasmship.distformat.names import MANIFEST, content_type
from wasmship.distformat.reader import read_manifest
from wasmship.errors import DistError, UsageError

Log = Callable[[str], None]


@dataclass(frozen=True)
class ServeConfig:
    """What `wasmship serve` serves and where it listens."""

    dist: Path
    host: str = "127.0.0.1"
    port: int = 8000
    quiet: bool = False


def read_dist(dist: Path) -> dict[str, FileEntry]:
    """The files DIST's manifest lists, keyed by path; a clear error if there is no dist there."""
    if not dist.is_dir():
        raise DistError(f"{dist}: no such folder; run `wasmship build` first or name a dist")
    return read_manifest(dist).files_by_path()


class DistIndex:
    """The dist's files, re-read whenever manifest.json changes (a rebuild swaps the dist in)."""

    def __init__(self, dist: Path, *, until_built: bool = False) -> None:
        self.dist = dist.absolute()
        self._lock = threading.Lock()
        self._stamp = self._manifest_stamp()
        # until_built (wasmship dev): no files until a first build writes the manifest.
        self._files: Mapping[str, FileEntry] = (
            {} if until_built and self._stamp is None else read_dist(self.dist)
        )
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
                    self._files = read_dist(self.dist)
                self._stamp = stamp
        return self._files

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


class DistServer(ThreadingHTTPServer):
    """A thread per connection; a deep listen queue so bursts of connections are not refused."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        index: DistIndex,
        log: Log | None,
        handler: type[DistHandler] | None = None,  # wasmship dev answers some paths itself
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.index = index
        self.log = log
        super().__init__(address, handler or DistHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # the client went away; nothing to report
        if self.log:
            self.log(f"error serving {client_address}: {exc!r}")


class DistHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the dist by the manifest's rules."""

    protocol_version = "HTTP/1.1"
    server_version = f"wasmship/{__version__}"
    sys_version = ""
    timeout = 120  # idle keep-alive connections give their thread back
    server: DistServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log:
            self.server.log(f"{self.address_string()} {format % args}")

    def do_GET(self) -> None:
        self.respond(send_body=True)

    def do_HEAD(self) -> None:
        self.respond(send_body=False)

    def refuse_method(self) -> None:
        self.send_plain(405, "method not allowed", [("Allow", "GET, HEAD")])

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method

    def send_plain(self, status: int, message: str, headers: list[tuple[str, str]]) -> None:
        body = f"{status} {message}\n".encode()
        self.send_response(status)
        for name, value in [
            *headers,
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", REVALIDATE_CACHE),
            ("X-Content-Type-Options", NOSNIFF),
            ("Content-Length", str(len(body))),
        ]:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond(self, *, send_body: bool) -> None:
        relative = request_path(self.path)
        if relative is None:
            return self.send_plain(404, "not found", [])
        index = self.server.index
        entry = index.files().get(relative)
        headers: list[tuple[str, str]] = []
        variant = None
        if entry is not None:
            vary = response_vary(entry)
            if vary:
                headers.append(("Vary", vary))
            # Relative, as the server configs send it: the browser resolves it against this URL.
            pattern = entry.dictionary_pattern
            if pattern is not None:
                headers.append(("Use-As-Dictionary", use_as_dictionary(pattern)))
            try:
                variant = choose_variant(
                    parse_accept_encoding(self.headers.get("Accept-Encoding")),
                    negotiable(entry),
                    parse_available_dictionary(self.headers.get("Available-Dictionary")),
                )
            except NotAcceptable:
                return self.send_plain(406, "no acceptable content coding", headers)
        opened = index.open(variant.path if variant else entry.path if entry else relative)
        if opened is None:
            return self.send_plain(404, "not found", [])
        file, info = opened
        owner = entry or index.owner_of(relative)
        with file:
            if variant is not None:
                etag = variant.etag
            elif entry is not None:
                etag = entry.etag
            else:
                etag = index.etag_of(file, info)
            headers += [
                ("ETag", etag),
                ("Cache-Control", cache_control(owner.immutable) if owner else REVALIDATE_CACHE),
                ("X-Content-Type-Options", NOSNIFF),
            ]
            if none_match(self.headers.get("If-None-Match"), etag):
                return self.send_head(304, headers, 0)
            headers.append(
                ("Content-Type", entry.content_type if entry else content_type(relative))
            )
            if variant is not None:
                headers.append(("Content-Encoding", variant.coding))
                return self.send_file(200, headers, file, ByteRange(0, info.st_size - 1), send_body)
            headers.append(("Accept-Ranges", "bytes"))
            whole = ByteRange(0, info.st_size - 1)
            if_range = self.headers.get("If-Range")
            if if_range is not None and if_range.strip() != etag:
                return self.send_file(200, headers, file, whole, send_body)
            try:
                part = parse_range(self.headers.get("Range"), info.st_size)
            except Unsatisfiable:
                unsatisfied = [("Content-Range", f"bytes */{info.st_size}"), ("ETag", etag)]
                return self.send_plain(416, "range not satisfiable", unsatisfied)
            if part is None:
                return self.send_file(200, headers, file, whole, send_body)
            headers.append(("Content-Range", part.content_range(info.st_size)))
            return self.send_file(206, headers, file, part, send_body)

    def send_head(self, status: int, headers: list[tuple[str, str]], length: int) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_file(
        self,
        status: int,
        headers: list[tuple[str, str]],
        file: BinaryIO,
        part: ByteRange,
        send_body: bool,
    ) -> None:
        self.send_head(status, headers, part.length)
        if send_body and part.length > 0:
            self.connection.sendfile(file, part.start, part.length)


def url_of(server: DistServer) -> str:
    """The URL a browser opens for SERVER (IPv6 hosts in brackets)."""
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    """Whether HOST is this machine only (localhost or a loopback address)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(
    host: str,
    port: int,
    index: DistIndex,
    log: Log | None,
    handler: type[DistHandler] | None = None,
) -> DistServer:
    """A server for INDEX bound to HOST:PORT; a clear error when the port is taken."""
    try:
        return DistServer((host, port), index, log, handler)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one) or --host"
        ) from exc


def start(config: ServeConfig, log: Log | None = None) -> DistServer:
    """Read the dist and listen; the caller runs serve_forever()."""
    index = DistIndex(config.dist)
    return listen(config.host, config.port, index, None if config.quiet else log)


def serve(config: ServeConfig, announce: Callable[[str], None], log: Log | None = None) -> None:
    """Serve CONFIG.dist until Ctrl-C or SIGTERM (raised as KeyboardInterrupt), then stop."""
    server = start(config, log)
    try:
        announce(url_of(server))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
