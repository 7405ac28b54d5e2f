"""The conformance table (issue 25 §2): the requests every server gets, and the documented
exceptions where a server may answer otherwise than `wasmship serve`, each with its reason.

Run by tests/test_conformance.py against serve, nginx, Caddy, Apache and the Go handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One request: a path (by role, resolved against the dist), headers, method."""

    path: str
    accept: str | None = None
    dictionary: str | None = None  # "match" (the kept module's) or "other"
    method: str = "GET"
    conditional: bool = False  # resend with If-None-Match: the ETag of the first answer

    @property
    def id(self) -> str:
        parts = [self.method, self.path, f"ae={self.accept}" if self.accept is not None else "ae-"]
        if self.dictionary:
            parts.append(f"dict={self.dictionary}")
        if self.conditional:
            parts.append("if-none-match")
        return " ".join(parts)


PATHS = ("page", "index.html", "manifest", "module", "kept module", "shim")
ENCODINGS = (None, "gzip", "br", "br, gzip", "br;q=0, gzip", "zstd", "dcz, br, gzip")
ODD_PATHS = (
    "missing",
    "module.br by name",
    "/../manifest.json",
    "/%2e%2e/manifest.json",
    "/..%2fmanifest.json",
    "/%2e%2e%2fmanifest.json",
    "/sub%2fmanifest.json",
    "/%2fmanifest.json",
)


def rows() -> list[Row]:
    table: list[Row] = []
    for path in PATHS:
        for method in ("GET", "HEAD"):
            for accept in ENCODINGS:
                table.append(Row(path, accept, method=method))
            table.append(Row(path, "dcz, br, gzip", "match", method))
            table.append(Row(path, "dcz, br, gzip", "other", method))
            table.append(Row(path, "dcz;q=0, br, gzip", "match", method))
        for accept in (None, "br, gzip"):
            table.append(Row(path, accept, conditional=True))
        table.append(Row(path, "dcz, br", "match", conditional=True))
    for path in ODD_PATHS:
        for method in ("GET", "HEAD"):
            table.append(Row(path, "br, gzip", method=method))
    table.append(Row("page", "br", method="POST"))
    table.append(Row("module", "br", method="DELETE"))
    return table


REQUESTS = rows()

# A dist built with --spa (issue 26 §4): a client route gets the page (no-cache), with or without
# a trailing slash; a missing file with an extension is still 404; the files are as before.
SPA_PATHS = ("/settings/profile", "/settings/", "/missing.js", "page", "module", "shim")


def spa_rows() -> list[Row]:
    table: list[Row] = []
    for path in SPA_PATHS:
        for method in ("GET", "HEAD"):
            for accept in (None, "gzip", "br, gzip"):
                table.append(Row(path, accept, method=method))
        table.append(Row(path, "br, gzip", conditional=True))
    return table


SPA_REQUESTS = spa_rows()


@dataclass(frozen=True)
class Exception_:
    """Where SERVER answers ROWS differently from `wasmship serve`, documented, and why.

    DIFFERS: the fields this server answers otherwise, and with what; IGNORED: fields whose
    value is the server's own (not compared); SAME_AS: the row is answered as this path is.
    """

    server: str
    rows: Callable[[Row], bool]
    reason: str
    differs: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    same_as: str | None = None


def dotted(row: Row) -> bool:
    """A traversal attempt: dot segments, plain or percent-encoded."""
    return row.path.startswith("/") and (".." in row.path or "%2e%2e" in row.path)


def slash_encoded(row: Row) -> bool:
    """`/%2fmanifest.json`: the file's name behind an encoded slash."""
    return row.path == "/%2fmanifest.json"


DICTIONARY_FILES = ("module", "kept module", "shim")
NO_DCZ = (
    "Apache's .htaccess does not negotiate dcz (said at the top of the file it writes: "
    "mod_rewrite cannot compare Available-Dictionary with the delta's dictionary in one rule "
    "per file without a rule per kept build): returning visitors get br, so it sends no "
    "Use-As-Dictionary and does not vary on Available-Dictionary"
)
EXCEPTIONS: list[Exception_] = [
    Exception_(
        "nginx",
        lambda r: r.accept == "zstd" and r.path in PATHS and r.path != "manifest",
        "Debian's nginx has no zstd module: the generated nginx.conf says at its top which "
        "module (and `zstd_static on;`) serves the .zst siblings; without it, identity",
        differs={"encoding": None},
    ),
    Exception_(
        "apache",
        lambda r: r.path in DICTIONARY_FILES,
        NO_DCZ,
        differs={"use_as_dictionary": None, "vary": "accept-encoding"},
    ),
    Exception_(
        "apache",
        lambda r: (
            r.path == "module"
            and r.dictionary == "match"
            and not r.conditional
            and not (r.accept or "").startswith("dcz;q=0")
        ),
        NO_DCZ,
        differs={"encoding": "br"},
    ),
    *(
        Exception_(
            server,
            lambda r: r.path == "kept module",
            "nginx and Caddy match hashed names by pattern (main.*.wasm, stable across "
            "builds), so the kept module shares the current one's rule and its Vary names "
            "Available-Dictionary too: one more header in the cache key of an immutable file",
            differs={"vary": "accept-encoding,available-dictionary"},
        )
        for server in ("nginx", "caddy")
    ),
    *(
        Exception_(
            server,
            lambda r: r.conditional and r.accept is not None,
            "nginx's add_header, Caddy's header and Apache's Header set Content-Encoding on "
            "a 304 as on the 200 it stands for (RFC 9110 15.4.5 lets a 304 carry it; caches "
            "update the stored response's headers from it, which already has that encoding)",
            ignored=("encoding",),
        )
        for server in ("nginx", "caddy", "apache")
    ),
    *(
        Exception_(
            server,
            lambda r: r.path == "module.br by name",
            "a precompressed sibling asked for by name is a file of the dist to nginx and "
            "Caddy: served as stored, with the server's own type for .br and no Cache-Control "
            "(the configs' rules name the listed files); its bytes are the dist's",
            ignored=("content_type", "cache_control"),
        )
        for server in ("nginx", "caddy")
    ),
    Exception_(
        "apache",
        lambda r: r.path == "module.br by name",
        "Apache's .htaccess types a sibling as its original and marks it with its coding "
        "(the rules that serve the negotiated sibling), so the .br by name is the module, "
        "br-encoded",
        differs={
            "content_type": "application/wasm",
            "encoding": "br",
            "vary": "accept-encoding",
        },
        ignored=("body",),
    ),
    Exception_(
        "nginx",
        dotted,
        "dot segments, plain or encoded: nginx refuses the request (400) before any config",
        differs={"status": 400},
    ),
    Exception_(
        "apache",
        lambda r: dotted(r) and "%2f" not in r.path,
        "dot segments: Apache refuses the request (400) before any config; with an encoded "
        "slash it answers 404 (AllowEncodedSlashes Off), as serve does",
        differs={"status": 400},
    ),
    Exception_(
        "caddy",
        dotted,
        "Caddy removes dot segments (RFC 3986 5.2.4) before matching: /../x is /x, inside the root",
        same_as="/manifest.json",
    ),
    *(
        Exception_(
            server,
            slash_encoded,
            f"{server} decodes %2f and merges the slashes: //manifest.json is /manifest.json, "
            "inside the root",
            same_as="/manifest.json",
        )
        for server in ("nginx", "caddy")
    ),
    Exception_(
        "go",
        lambda r: dotted(r) or slash_encoded(r),
        "net/http's ServeMux (examples/go-server mounts the handler on one) redirects a path "
        "with dot segments or doubled slashes to its clean form (301), inside the dist",
        differs={"status": 301},
    ),
]


OWN_HEADERS = ("Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy", "X-Robots-Tag")

# -- what a server answers, as one comparable record -----------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None = None
    encoding: str | None = None
    cache_control: str | None = None
    vary: str | None = None
    use_as_dictionary: str | None = None
    nosniff: str | None = None
    etag: bool | None = None
    body: str | None = None  # which dist file the decoded body is
    own: str | None = None  # the project's [headers] that came (OWN_HEADERS), `name=value;...`

    def differences(self, expected: Answer) -> str:
        """What differs from EXPECTED: `field=got (expected ...)`, one per field."""
        theirs = expected.__dict__
        return ", ".join(
            f"{k}={v!r} (expected {theirs[k]!r})"
            for k, v in self.__dict__.items()
            if v != theirs[k]
        )


def exceptions_for(server: str, row: Row) -> list[Exception_]:
    return [e for e in EXCEPTIONS if e.server == server and e.rows(row)]
