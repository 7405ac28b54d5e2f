"""The dev server: `wasmship serve`'s handler, plus the reload script, its event stream, and the
script added to each HTML page it serves (never to the files on disk)."""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from base64 import b64encode
from functools import cache
from importlib.resources import files
from typing import Any, ClassVar

from wasmship.delivery.negotiation import NOSNIFF
from wasmship.delivery.request import request_path
from wasmship.dev.inject import (
    EVENTS_PATH,
    RESERVED,
    SCRIPT_PATH,
    allow_dev,
    inject,
    script_tag,
)
from wasmship.distformat.names import content_type
from wasmship.preview import DistHandler

NO_STORE = "no-store"  # pages and events: always the current build
KEEPALIVE = 15.0  # seconds between comments on an idle event stream (finds closed tabs)
RETRY_MS = 500  # how soon a browser reconnects after the server went away
PLACEHOLDER = (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    "<title>wasmship dev</title>\n</head>\n<body>\n<p>wasmship dev: building…</p>\n"
    "</body>\n</html>\n"
)


@cache
def reload_script() -> bytes:
    """The reload script's bytes (wasmship/data/dev-reload.js)."""
    return files("wasmship").joinpath("data", "dev-reload.js").read_bytes()


@cache
def reload_integrity() -> str:
    """The reload script's SRI hash (the tag carries it; a hash-only CSP is given it)."""
    return "sha384-" + b64encode(hashlib.sha384(reload_script()).digest()).decode("ascii")


class EventHub:
    """The session's state, sent to every open page as a Server-Sent Event when it changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"build": "", "building": False, "error": None}
        self._listeners: list[queue.Queue[str | None]] = []

    @property
    def build(self) -> str:
        """The token of the build being served ("" before the session's first good build)."""
        with self._lock:
            return str(self._state["build"])

    def publish(self, **changes: Any) -> None:
        """Update the state and send it to every listener."""
        with self._lock:
            self._state.update(changes)
            message = self._message()
            for listener in self._listeners:
                listener.put(message)

    def listen(self) -> queue.Queue[str | None]:
        """A new listener, holding the current state first."""
        listener: queue.Queue[str | None] = queue.Queue()
        with self._lock:
            listener.put(self._message())
            self._listeners.append(listener)
        return listener

    def forget(self, listener: queue.Queue[str | None]) -> None:
        """Stop sending to LISTENER."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def close(self) -> None:
        """End every event stream (the server stops)."""
        with self._lock:
            for listener in self._listeners:
                listener.put(None)
            self._listeners.clear()

    def _message(self) -> str:
        return f"event: state\ndata: {json.dumps(self._state, sort_keys=True)}\n\n"


class DevHandler(DistHandler):
    """Serves the dist as `wasmship serve` does; HTML gets the reload script; the reserved
    paths are the script and the event stream."""

    hub: ClassVar[EventHub]

    def respond(self, *, send_body: bool) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == SCRIPT_PATH:
            return self.send_bytes(reload_script(), content_type("dev.js"), send_body)
        if path == EVENTS_PATH:
            return self.send_events(send_body)
        if path.startswith(RESERVED):
            return self.send_plain(404, "not found", [])
        relative = request_path(self.path)
        route = self.server.index.route_page(relative) if relative is not None else None
        if route is not None:
            relative = route.path  # a client route of an --spa dist: the page, reload and all
        if relative is not None and self.is_page(relative):
            return self.send_page(relative, send_body)
        return super().respond(send_body=send_body)

    def is_page(self, relative: str) -> bool:
        """Whether RELATIVE is an HTML page (or the page before any build)."""
        entry = self.server.index.files().get(relative)
        kind = entry.content_type if entry is not None else content_type(relative)
        return kind.startswith("text/html")

    def send_page(self, relative: str, send_body: bool) -> None:
        """The page as built, uncompressed, with the reload script; a placeholder before the
        first build."""
        index = self.server.index
        entry = index.files().get(relative)
        opened = index.open(entry.path if entry is not None else relative)
        if opened is None:
            if index.files() or relative != "index.html":
                return self.send_plain(404, "not found", [])
            text = PLACEHOLDER  # nothing built yet: the page waits for the first build
        else:
            file, _ = opened
            with file:
                data = file.read()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return self.send_bytes(data, content_type(relative), send_body)
        tag = script_tag(self.hub.build, reload_integrity())
        page = inject(text, tag, reload_integrity())
        own = index.headers_for(entry) if entry is not None else []  # [headers], as serve
        # The page's policy (the dist's, or the project's) lets the reload script in, as its
        # <meta> does (dev/inject.py); nothing else is loosened.
        own = [
            (n, allow_dev(v, reload_integrity()) if n.lower() == "content-security-policy" else v)
            for n, v in own
        ]
        return self.send_bytes(page.encode("utf-8"), content_type(relative), send_body, own)

    def send_bytes(
        self, body: bytes, kind: str, send_body: bool, own: list[tuple[str, str]] | None = None
    ) -> None:
        """BODY whole, never cached (dev responses change with every build); OWN: the
        project's [headers] for it."""
        headers = [
            ("Content-Type", kind),
            ("Cache-Control", NO_STORE),
            ("X-Content-Type-Options", NOSNIFF),
            *(own or []),
        ]
        self.send_head(200, headers, len(body))
        if send_body:
            self.wfile.write(body)

    def send_events(self, send_body: bool) -> None:
        """The event stream: the state now, then each change, until the page or server goes."""
        self.send_response(200)
        for name, value in (
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", NO_STORE),
            ("X-Content-Type-Options", NOSNIFF),
            ("Connection", "close"),  # the stream ends with the connection
        ):
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        if not send_body:
            return
        hub = self.hub
        listener = hub.listen()
        try:
            self.wfile.write(f"retry: {RETRY_MS}\n\n".encode())
            while True:
                try:
                    message = listener.get(timeout=KEEPALIVE)
                except queue.Empty:
                    message = ": keep-alive\n\n"
                if message is None:
                    return
                self.wfile.write(message.encode("utf-8"))
                self.wfile.flush()
        except OSError:
            return  # the page went away
        finally:
            hub.forget(listener)


def handler_for(hub: EventHub) -> type[DevHandler]:
    """A DevHandler class of one session: its pages and event stream follow HUB."""
    return type("SessionHandler", (DevHandler,), {"hub": hub})
