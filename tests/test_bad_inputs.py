"""Bad inputs a user can type: each is one clear message and exit code, and nothing is lost.

One row per input. A row names the command line, the files it needs in the project (written
before, removed after), the exit code and a fragment of the message. Every row also checks
that no traceback was printed, that the project and its built dist are byte-identical
afterwards (nothing lost, nothing left behind), and, for --json, that stdout is one JSON
document saying what failed. Add a case with a line.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Go, Run, build_fixture, snapshot
from wasmship.distformat.digests import integrity, sha256_hex

TARGETS = '[[target]]\nname = "app"\npackage = "."\n'


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    code: int
    message: str
    files: dict[str, str] = field(default_factory=dict)
    absent: str = "\0"  # a fragment the message must not have
    links: dict[str, str] = field(default_factory=dict)  # symbolic links: name -> target
    process: bool = False  # run in a process of its own: go writes to wasmship's own stderr

    def __str__(self) -> str:
        return " ".join(self.args)


CASES = [
    # build: flags
    Case(("build", "--frobnicate"), 2, "No such option '--frobnicate'", absent="--force"),
    Case(("build", "--forse"), 2, "No such option '--forse'", absent="--force"),
    Case(("build", "--lock-timeout", "nan"), 2, "'nan' is not a number of seconds"),
    Case(("build", "--lock-timeout", "-1"), 2, "--lock-timeout"),
    Case(("build", "--jobs", "0"), 2, "--jobs"),
    Case(("build", "--keep", "-1"), 2, "--keep"),
    Case(("build", "--profile", "turbo"), 2, "'turbo' is not one of"),
    Case(("build", "--gzip", "brotli"), 2, "--gzip"),
    Case(("build", "--server-config", "iis"), 2, "unknown server config 'iis'"),
    Case(("build", "--budget", "main"), 2, "TARGET:ENCODING=SIZE"),
    Case(("build", "--budget", "main:xz=1MB"), 2, "write TARGET.ENCODING"),
    Case(("build", "--budget", "main:br=lots"), 2, "cannot read 'lots' as a size"),
    Case(("build", "--budget", "app:br=1MB"), 2, "there is no target 'app'"),
    Case(("build", "--cache-max-size", "huge"), 2, "cannot read 'huge' as a size"),
    Case(("build", "--html", "nope.html"), 2, "does not exist"),
    Case(("build", "--static", "nope"), 2, "does not exist"),
    Case(("build", "--config", "nope.toml"), 2, "nope.toml: cannot read it: No such file"),
    Case(("build", "--go", "/nonexistent/go"), 3, "Go not found at '/nonexistent/go'"),
    Case(("build", "--target", "app"), 2, "--target app: no such target"),
    Case(("build", "--json", "--frobnicate"), 2, "No such option '--frobnicate'"),
    # build: packages
    Case(("build", "./nonexistent"), 2, "cannot build package './nonexistent'"),
    Case(("build", "./lib"), 2, "not a main package", {"lib/lib.go": "package lib\n"}),
    Case(("build", "--json", "./nonexistent"), 2, "cannot build package './nonexistent'"),
    # build: the dist folder
    Case(("build", "--out", "/"), 2, "it is the filesystem root"),
    Case(("build", "--out", "."), 2, "it holds the sources"),
    Case(("build", "--out", "main.go"), 2, "exists and is not a folder"),
    Case(("build", "--out", "mine"), 2, "refusing to replace", {"mine/notes.txt": "mine\n"}),
    Case(
        ("build", "--out", "mine"),
        2,
        "manifest.json is not valid JSON (line 1, column 3",
        {"mine/manifest.json": "{ not json"},
    ),
    Case(
        ("build", "--out", "gone"),
        2,
        "is a symbolic link to /nonexistent/wasmship-dist, which does not exist",
        links={"gone": "/nonexistent/wasmship-dist"},
    ),
    # wasmship.toml
    Case(
        ("build",),
        2,
        "wasmship.toml:1: unknown key 'lock-timout'",
        {"wasmship.toml": "lock-timout = 3\n"},
    ),
    Case(
        ("build",),
        2,
        "wasmship.toml:2: unknown key 'compresion'",
        {"wasmship.toml": "\n[compresion]\nlevel = 1\n"},
    ),
    Case(("build",), 2, "invalid TOML", {"wasmship.toml": "out = \n"}),
    Case(
        ("build",),
        2,
        "wasmship.toml:1: csp must be a table: [csp] then",
        {"wasmship.toml": 'csp = "x"\n'},
    ),
    Case(
        ("build",),
        2,
        "wasmship.toml:1: headers must be a table: [headers]",
        {"wasmship.toml": "headers = 3\n"},
    ),
    Case(("build",), 2, "jobs must be a number", {"wasmship.toml": 'jobs = "two"\n'}),
    Case(("build",), 2, "hash must be true or false", {"wasmship.toml": 'hash = "no"\n'}),
    Case(("build",), 2, "not a number of seconds", {"wasmship.toml": "lock-timeout = nan\n"}),
    Case(
        ("build",),
        2,
        "name '.hidden' is not allowed",
        {"wasmship.toml": '[[target]]\nname = ".hidden"\n'},
    ),
    Case(("build",), 2, "name '..' is not allowed", {"wasmship.toml": '[[target]]\nname = ".."\n'}),
    Case(("build",), 2, "'app' is used twice", {"wasmship.toml": TARGETS + TARGETS}),
    Case(
        ("build",),
        2,
        "goos must be one of js, wasip1",
        {"wasmship.toml": TARGETS + 'goos = "windows"\n'},
    ),
    Case(
        ("build",),
        2,
        "unknown key 'pakage' in [[target]] (did you mean 'package'?)",
        {"wasmship.toml": '[[target]]\nname = "a"\npakage = "."\n'},
    ),
    Case(
        ("build",),
        2,
        "package and [[target]] tables do not go together",
        {"wasmship.toml": 'package = "."\n' + TARGETS},
    ),
    Case(
        ("build", "./nonexistent"),
        2,
        "PACKAGE './nonexistent' cannot be given",
        {"wasmship.toml": TARGETS},
    ),
    Case(
        ("build", "--target", "nope"),
        2,
        "--target nope: no such target (targets: app)",
        {"wasmship.toml": TARGETS},
    ),
    Case(
        ("build",),
        2,
        "cannot read 'big' as a size",
        {"wasmship.toml": '[budget]\nmain.br = "big"\n'},
    ),
    # verify, serve, clean, smoke, init
    Case(("verify", "nope"), 4, "nope: no such folder"),
    Case(("verify", "main.go"), 4, "main.go is a file, not a dist folder"),
    Case(("verify", "empty"), 4, "no manifest.json", {"empty/.keep": ""}),
    Case(("verify", "--json", "nope"), 4, "nope: no such folder"),
    Case(("serve", "nope"), 4, "nope: no such folder"),
    Case(("serve", "main.go"), 4, "main.go is a file, not a dist folder"),
    Case(("serve", "--port", "99999"), 2, "99999"),
    Case(("serve", "--host", "no such host", "--port", "0"), 2, "cannot listen on no such host:0"),
    Case(("check", "http://127.0.0.1:abc/"), 2, "the port 'abc' is not a number from 1 to 65535"),
    Case(("check", "ftp://example.org/"), 2, "only http:// and https:// URLs can be checked"),
    Case(("check", "--json", "http://:8000/"), 2, "it names no host"),
    Case(("check", "--timeout", "nan", "http://127.0.0.1:9/"), 2, "not a number of seconds"),
    Case(
        ("check", "--timeout", "abc", "http://127.0.0.1:9/"), 2, "'abc' is not a number of seconds"
    ),
    Case(("clean", "mine"), 2, "refusing to remove", {"mine/notes.txt": "mine\n"}),
    Case(("clean", "--lock-timeout", "nan"), 2, "'nan' is not a number of seconds"),
    Case(("smoke", "nope"), 4, "has no manifest.json"),
    Case(("smoke", "--json", "nope"), 4, "has no manifest.json"),
    Case(("clean", "--json", "mine"), 2, "refusing to remove", {"mine/notes.txt": "mine\n"}),
    Case(("size", "--json", "nope", "."), 4, "nope does not exist"),
    Case(("size", "--treemap", "a.html", "--html", "b.html"), 2, "give only --treemap"),
    Case(("init", "--json"), 1, "already exists", {"wasmship.toml": "# mine\n"}),
    Case(("smoke", "--settle", "nan"), 2, "'nan' is not a number of seconds"),
    Case(("init",), 1, "already exists", {"wasmship.toml": "# mine\n"}),
]

# Issue 24's families, a list each (one owner per list keeps merges apart).

# build, wasmship.toml, output folders and Go failures
BUILD_CASES: list[Case] = [
    # Go fails: its own words come first, then one line of ours; the dist stays as it was
    Case(
        ("build", "./broken"),
        1,
        "go build failed (exit 1); see Go's messages above",
        {"broken/main.go": "package main\n\nfunc main() { undefined() }\n"},
        process=True,
    ),
    Case(
        ("build", "--json", "./broken"),
        1,
        "go build failed (exit 1)",
        {"broken/main.go": "package main\n\nfunc main() { undefined() }\n"},
        process=True,
    ),
    Case(
        ("build", "./imports"),
        1,
        "go build failed (exit 1)",
        {"imports/main.go": 'package main\n\nimport "example.com/nowhere"\n\nfunc main() {}\n'},
        process=True,
    ),
    Case(("build", "--", "-gcflags=all=-nonsense"), 1, "go build failed (exit 1)", process=True),
    # flags after `--` that wasmship owns or that redirect or drop the output (issue 24 #2)
    Case(("build", "--", "-o", "x.wasm"), 2, "`-- -o` is refused: wasmship writes the module"),
    Case(("build", "--", "-o=x.wasm"), 2, "choose the dist folder with --out"),
    Case(("build", "--", "--o", "x.wasm"), 2, "`-- --o` is refused"),
    Case(("build", "--", "-v", "-gcflags", "all=-N", "-o", "x"), 2, "`-- -o` is refused"),
    Case(("build", "--", "-ldflags=-X main.v=1"), 2, "set linker flags with --ldflags"),
    Case(("build", "--", "-tags", "dev"), 2, "set build tags with --tags"),
    Case(("build", "--", "-trimpath=false"), 2, "always builds with -trimpath"),
    Case(("build", "--", "-buildmode=c-shared"), 2, "a dist ships an executable module"),
    Case(("build", "--", "-C", ".."), 2, "give the package as PACKAGE"),
    Case(("build", "--", "-n"), 2, "the previous module would be published"),
    Case(("build", "--", "./other"), 2, "after `--` come go build flags only"),
    Case(("build", "--json", "--", "-o", "x.wasm"), 2, "`-- -o` is refused"),
    # a static folder outside the project (issue 24 #9)
    Case(("build", "--static", "/"), 2, "--static /: it is outside the project"),
    Case(("build", "--static", ".."), 2, "it is outside the project"),
    Case(
        ("build",), 2, "--static /: it is outside the project", {"wasmship.toml": 'static = "/"\n'}
    ),
    Case(("build",), 2, "it is outside the project", {"wasmship.toml": 'static = "../"\n'}),
    Case(("build", "--json", "--static", "/"), 2, "it is outside the project"),
    # a target's folder that is not a relative folder inside the dist (issue 24 #10)
    Case(("build",), 2, "not '/etc'", {"wasmship.toml": TARGETS + 'folder = "/etc"\n'}),
    Case(("build",), 2, "not '../x'", {"wasmship.toml": TARGETS + 'folder = "../x"\n'}),
    Case(("build",), 2, "not 'a/../../x'", {"wasmship.toml": TARGETS + 'folder = "a/../../x"\n'}),
    Case(("build",), 2, "not '//srv'", {"wasmship.toml": TARGETS + 'folder = "//srv"\n'}),
    Case(("build",), 2, "not 'C:/web'", {"wasmship.toml": TARGETS + 'folder = "C:/web"\n'}),
    Case(("build",), 2, "inside the dist", {"wasmship.toml": TARGETS + 'folder = "a\\\\b"\n'}),
    Case(("build",), 2, "not 5", {"wasmship.toml": TARGETS + "folder = 5\n"}),
    # sizes, checked before any work (issue 24 #7)
    Case(("build", "--size-report", "--size-threshold", "NaN"), 2, "--size-threshold: cannot"),
    Case(("build", "--size-threshold", "abc"), 2, "--size-threshold: cannot read 'abc'"),
    Case(("build", "--size-threshold", "-1KiB"), 2, "cannot read '-1KiB' as a size"),
    Case(("build", "--size-threshold", "1 XB"), 2, "unknown size unit 'XB'"),
    Case(("build", "--size-threshold", "1" + "0" * 400), 2, "is too large for a size"),
    Case(("build", "--cache-max-size", "inf"), 2, "--cache-max-size: cannot read 'inf'"),
    Case(("build", "--json", "--size-threshold", "abc"), 2, "--size-threshold: cannot"),
    Case(
        ("build",),
        2,
        "wasmship.toml: size-threshold: cannot read 'abc'",
        {"wasmship.toml": 'size-threshold = "abc"\n'},
    ),
    Case(
        ("build",), 2, "size-threshold must be a string", {"wasmship.toml": "size-threshold = 5\n"}
    ),
    Case(("build",), 2, "cache-max-size: cannot", {"wasmship.toml": 'cache-max-size = "1e9"\n'}),
    Case(
        ("build",),
        2,
        "wasmship.toml: budget main.gz: cannot read 'lots' as a size",
        {"wasmship.toml": '[budget]\nmain.gz = "lots"\n'},
    ),
    Case(("build", "--budget", "main:br=" + "9" * 400), 2, "is too large for a size"),
]

# corrupted dists: verify, serve

PAGE = "<!doctype html><p>hi</p>\n"


def _dist(edit: Callable[[dict[str, Any]], object] = lambda m: None) -> dict[str, str]:
    """A one-page dist in bad/ whose manifest EDIT has changed (EDIT gets the whole document)."""
    data = PAGE.encode()
    entry = {
        "path": "index.html",
        "size": len(data),
        "sha256": sha256_hex(data),
        "integrity": integrity(data),
        "content_type": "text/html; charset=utf-8",
        "immutable": False,
        "encodings": {},
    }
    target = {"name": "main", "goos": "js", "goarch": "wasm", "package": "example.org/app"}
    manifest: dict[str, Any] = {
        "schema": 1,
        "tool": {"name": "wasmship", "version": "1.0"},
        "go": {"version": "go1.22.0"},
        "targets": [{**target, "flags": {}, "files": {"index.html": entry}}],
    }
    edit(manifest)
    return {"bad/manifest.json": json.dumps(manifest), "bad/index.html": PAGE}


def _page(**changes: object) -> dict[str, str]:
    return _dist(lambda m: m["targets"][0]["files"]["index.html"].update(changes))


def _variant(key: str, **fields: object) -> dict[str, str]:
    variant = {"path": "index.html.x", "size": 1, "sha256": "0" * 64, **fields}
    return _dist(
        lambda m: m["targets"][0]["files"]["index.html"]["encodings"].update({key: variant})
    )


def _raw(text: str) -> dict[str, str]:
    return {"bad/manifest.json": text, "bad/index.html": PAGE}


CRLF = "text/html\r\nSet-Cookie: pwned=1"
DEEP = "[" * 100_000 + "]" * 100_000
CONTROL = "has a control character"

DIST_CASES: list[Case] = [
    # a value that would become a header (issue 24 #3)
    Case(("serve", "bad"), 4, f"content_type: {CRLF!r} {CONTROL}", _page(content_type=CRLF)),
    Case(("smoke", "--json", "bad"), 4, CONTROL, _page(content_type=CRLF)),
    Case(("serve", "bad"), 4, CONTROL, _page(content_type="text/html\nX-A: b")),
    Case(("serve", "bad"), 4, CONTROL, _page(content_type="text/html\x00")),
    Case(("serve", "bad"), 4, CONTROL, _page(content_type="text/html; a=\x1b[2J")),
    Case(("serve", "bad"), 4, "expected a media type", _page(content_type="html")),
    Case(("serve", "bad"), 4, "expected a media type", _page(content_type="text/html x")),
    Case(("serve", "bad"), 4, "expected a media type", _page(content_type="text/" + "a" * 300)),
    Case(("serve", "bad"), 4, "expected a media type", _page(content_type=["text/html"])),
    Case(("serve", "bad"), 4, "expected a lowercase hex SHA-256", _page(sha256='"x"')),
    Case(("serve", "bad"), 4, "expected a lowercase hex SHA-256", _page(sha256="A" * 64)),
    Case(("serve", "bad"), 4, CONTROL, _page(sha256="a" * 63 + "\r")),
    Case(("serve", "bad"), 4, CONTROL, _variant("br\r\nX-A: 1")),
    Case(("serve", "bad"), 4, "expected a coding", _variant("br gzip")),
    Case(("serve", "bad"), 4, "expected a coding", _variant("br", coding="BR;q=1")),
    Case(("serve", "bad"), 4, "expected a lowercase hex SHA-256", _variant("br", sha256="zz")),
    Case(("serve", "bad"), 4, "expected a lowercase hex SHA-256", _variant("br", dictionary="x")),
    Case(("serve", "bad"), 4, CONTROL, _dist(lambda m: m["tool"].update(version="1\r\n"))),
    Case(("serve", "bad"), 4, "the key", _dist(lambda m: m.update({"x\ny": 1}))),
    # numbers no dist can hold (#12)
    Case(("serve", "bad"), 4, "out of bounds", _page(size=10**400)),
    Case(("serve", "bad"), 4, "expected a size in bytes up to 1 TiB", _page(size=2**41)),
    Case(("serve", "bad"), 4, "expected a size in bytes up to 1 TiB", _page(size=-1)),
    Case(("serve", "bad"), 4, "expected a size in bytes up to 1 TiB", _page(size=1.5)),
    Case(("serve", "bad"), 4, "expected a size in bytes up to 1 TiB", _page(size=True)),
    Case(("serve", "bad"), 4, "out of bounds", _variant("br", size=-(10**30))),
    Case(("serve", "bad"), 4, "is not a JSON number", _raw('{"targets": [], "x": NaN}')),
    Case(("serve", "bad"), 4, "is not a JSON number", _raw('{"x": Infinity}')),
    Case(("verify", "bad"), 1, "verify found 1 problem", _page(size=10**400)),
    Case(("verify", "bad"), 1, "verify found 1 problem", _page(content_type=CRLF)),
    # deep and large documents (#5)
    Case(("verify", "bad"), 4, "nested deeper than 32 levels", _raw(DEEP)),
    Case(("verify", "--json", "bad"), 4, "nested deeper than 32 levels", _raw(DEEP)),
    Case(("serve", "bad"), 4, "nested deeper than 32 levels", _raw(DEEP)),
    Case(("serve", "bad"), 4, "nested deeper than 32 levels", _raw('{"a":' * 40 + "1" + "}" * 40)),
    Case(("verify", "bad"), 4, "nested deeper", _raw('{"note": ' + "[" * 900 + "]" * 900 + "}")),
    Case(("smoke", "bad"), 4, "nested deeper than 32 levels", _raw(DEEP)),
    Case(("serve", "bad"), 4, "expected an object", _raw("[]")),
    Case(("serve", "bad"), 4, "cannot be read", _raw("\ufeff{")),
    # a file that resolves outside the dist (#4)
    Case(
        ("verify", "--strict", "bad"),
        1,
        "verify found 1 problem",
        {"bad/manifest.json": _dist()["bad/manifest.json"]},
        links={"bad/index.html": "../main.go"},
    ),
    Case(
        ("verify", "bad"),
        1,
        "verify found 1 problem",
        _dist(),
        links={"bad/extra.txt": "../main.go"},
    ),
    Case(
        ("verify", "bad"),
        1,
        "verify found 1 problem",
        _dist(),
        links={"bad/gone": "../wasmship-nonexistent"},  # dangling, and outside
    ),
]

# check: URLs, timeouts (hostile servers have their own tests in test_check_hostile.py)

GIVE = "give the address of the deployed dist"
REFUSED = "connection refused by 127.0.0.1:9; is the server running on that port?"
CHECK_CASES: list[Case] = [
    # the URL: refused before any request (2)
    Case(
        ("check", ""), 2, f"cannot check '': only http:// and https:// URLs can be checked; {GIVE}"
    ),
    Case(("check", "example.org"), 2, "cannot check example.org: only http:// and https://"),
    Case(("check", "//example.org/"), 2, "cannot check //example.org/: only http://"),
    Case(("check", "file:///etc/passwd"), 2, "cannot check file:///etc/passwd: only http://"),
    Case(("check", "javascript:alert(1)"), 2, "cannot check javascript:alert(1): only http://"),
    Case(("check", "http://127.0.0.1:0/"), 2, "the port '0' is not a number from 1 to 65535"),
    Case(("check", "http://127.0.0.1:-1/"), 2, "the port '-1' is not a number from 1 to 65535"),
    Case(("check", "http://127.0.0.1:70000/"), 2, "the port '70000' is not a number from 1"),
    Case(("check", "http://127.0.0.1:" + "9" * 20 + "/"), 2, f"the port '{'9' * 20}' is not a"),
    Case(("check", "http://[::1/"), 2, "the host '[::1' is not a host name or address"),
    Case(("check", "http://[not-an-address]/"), 2, "'[not-an-address]' is not a host name"),
    Case(("check", "http://a..b/"), 2, "the host 'a..b' is not a host name or address"),
    Case(("check", f"http://{'a' * 64}.example/"), 2, f"the host '{'a' * 64}.example' is not a"),
    Case(("check", "http:///app/"), 2, f"cannot check http:///app/: it names no host; {GIVE}"),
    Case(("check", "http://exa mple.org/"), 2, "it contains a space or a control character"),
    Case(("check", "http://example.org/\napp"), 2, "'http://example.org/\\napp': it contains a"),
    Case(("check", "https://user@example.org/"), 2, "a user name or password in the URL is not"),
    Case(("check", "http://u:secret@example.org/"), 2, "a user name or password in the URL"),
    Case(("check", "--json", "ftp://example.org/"), 2, "only http:// and https:// URLs"),
    # the command line
    Case(("check",), 2, "Missing argument 'URL'"),
    Case(("check", "http://127.0.0.1:9/", "extra"), 2, "Got unexpected extra argument (extra)"),
    Case(("check", "--frobnicate", "http://127.0.0.1:9/"), 2, "No such option '--frobnicate'"),
    Case(("check", "--timeout", "0", "http://127.0.0.1:9/"), 2, "0.0 is not in the range x>0"),
    Case(("check", "--timeout", "-1", "http://127.0.0.1:9/"), 2, "-1.0 is not in the range x>0"),
    Case(("check", "--timeout", "inf", "http://127.0.0.1:9/"), 2, "'inf' is not a number of s"),
    Case(("check", "--timeout", "1e400", "http://127.0.0.1:9/"), 2, "'1e400' is not a number"),
    Case(("check", "--timeout", "abc", "http://127.0.0.1:9/"), 2, "Invalid value for '--timeout'"),
    Case(("check", "--timeout"), 2, "Option '--timeout' requires an argument"),
    # the site cannot be reached (1): one line naming the request
    Case(("check", "http://127.0.0.1:9/"), 1, f"GET http://127.0.0.1:9/manifest.json: {REFUSED}"),
    Case(("check", "--quiet", "http://127.0.0.1:9/"), 1, REFUSED),
    Case(("check", "--json", "http://127.0.0.1:9/"), 1, REFUSED),
    Case(("check", "http://127.0.0.1:9/app/index.html"), 1, "GET http://127.0.0.1:9/app/manifest"),
    Case(("check", "https://127.0.0.1:9/"), 1, "GET https://127.0.0.1:9/manifest.json: connect"),
    Case(
        ("check", "--timeout", "2", "http://nonexistent.invalid/"),
        1,
        "GET http://nonexistent.invalid/manifest.json: cannot resolve nonexistent.invalid",
    ),
]

# size, smoke, dev, clean, ports

OTHER_CASES: list[Case] = [
    # smoke: --call's arguments are numbers up to the next option, never DIST
    Case(("smoke", "--target", "add", "--call", "add", "1", "zz"), 2, "'zz' is not a number"),
    Case(("smoke", "--call", "add", "2", "3", "dist"), 2, "'dist' is not a number"),
    Case(("smoke", "--call", "add", "2", "x", "--target", "add"), 2, "'x' is not a number"),
    Case(("smoke", "--call", "--target", "add"), 2, "exported function, not '--target'"),
    Case(("smoke", "--call="), 2, "--call needs the name of an exported function"),
    Case(("smoke", "--call", "add", "1", "--call", "add", "2"), 2, "--call is given twice"),
    Case(("smoke", "--call", "add", "1"), 2, "--call add: the dist has no wasip1 target"),
    Case(("smoke", "--timeout", "0"), 2, "'--timeout': 0.0 is not in the range x>=0.1"),
    Case(("smoke", "--settle", "-1"), 2, "'--settle': -1.0 is not in the range x>=0"),
    Case(("smoke", "--memory", "lots"), 2, "cannot read 'lots' as a size"),
    Case(("smoke", "--memory", "0"), 2, "less than one 64 KiB page"),
    Case(("smoke", "--target", "nope"), 2, "--target nope: no such target (targets: main)"),
    Case(("smoke", "--dir", "empty"), 2, "no wasip1 target here is allowed", {"empty/.k": ""}),
    Case(("smoke", "--dir", "main.go"), 2, "Directory 'main.go' is a file"),
    Case(("smoke", "main.go"), 4, "main.go is a file, not a dist folder"),
    Case(("smoke", "--browser", "/nonexistent/chromium"), 2, "no such program or file"),
    # size: PACKAGE is resolved by go and must name a target's package
    Case(("size", "./nonexistent"), 2, "PACKAGE './nonexistent': go finds no package"),
    Case(("size", "empty"), 2, "PACKAGE 'empty': go finds no package", {"empty/.k": ""}),
    Case(("size", "dist", "./nonexistent"), 2, "go finds no package by that name"),
    Case(("size", "--json", "./nonexistent"), 2, "go finds no package by that name"),
    Case(("size", "a", "b", "c"), 2, "at most DIST and PACKAGE, got 3 arguments"),
    Case(("size", "--top", "0"), 2, "'--top': 0 is not in the range x>=1"),
    Case(("size", "--target", "nope"), 2, "manifest.json has no such target (targets: main)"),
    Case(("size", "--json", "--target", "nope"), 2, "has no such target (targets: main)"),
    Case(("size", "-o", "dist", "dist"), 2, "the dist is named twice"),
    Case(("size", "--config", "nope.toml"), 2, "File 'nope.toml' does not exist"),
    Case(("size", "--treemap", "dist"), 2, "File 'dist' is a directory"),
    Case(("size", "main.go", "."), 4, "main.go is a file, not a dist folder"),
    # clean
    Case(("clean", "--dry-run"), 2, "--dry-run goes with --cache"),
    Case(("clean", "--cache-dir", "x"), 2, "--cache-dir goes with --cache"),
    Case(("clean", "main.go"), 2, "main.go is not a folder"),
    Case(("clean", "/"), 2, "refusing to remove /:"),
    Case(("clean", "."), 2, "refusing to remove"),
    Case(("clean", "--lock-timeout", "-1"), 2, "--lock-timeout"),
    Case(("clean", "--cache", "--lock-timeout", "nan"), 2, "'nan' is not a number of seconds"),
    # ports, serve and dev
    Case(("serve", "--port", "-1"), 2, "-1 is not in the range 0<=x<=65535"),
    Case(("serve", "--port", "abc"), 2, "'abc' is not a valid integer range"),
    Case(("serve", "--port", "65536"), 2, "65536 is not in the range 0<=x<=65535"),
    Case(("serve", "empty"), 4, "has no manifest.json", {"empty/.k": ""}),
    Case(("dev", "--port", "99999"), 2, "99999 is not in the range 0<=x<=65535"),
    Case(("dev", "--port", "abc"), 2, "'abc' is not a valid integer range"),
    Case(("dev", "--frobnicate"), 2, "No such option '--frobnicate'"),
    Case(("dev", "--config", "nope.toml"), 2, "File 'nope.toml' does not exist"),
    Case(("dev", "a", "b"), 2, "unexpected extra argument (b)"),
    Case(("dev", "./nonexistent"), 2, "cannot build package './nonexistent'"),
]

CASES += BUILD_CASES + DIST_CASES + CHECK_CASES + OTHER_CASES


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, go: Go) -> tuple[Path, dict[str, bytes]]:
    project = build_fixture(tmp_path_factory.mktemp("bad-inputs"), go, "hello")
    return project, snapshot(project)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_bad_input_is_refused_and_nothing_is_lost(
    case: Case, built: tuple[Path, dict[str, bytes]], wasmship_inproc: Run, wasmship: Run
) -> None:
    project, before = built
    for name, text in case.files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    for name, target in case.links.items():
        (project / name).symlink_to(target)
    try:
        # In this process: the entry point's exit code and message, without 56 interpreters'
        # start-up; test_errors.py checks the same on real processes.
        proc = (wasmship if case.process else wasmship_inproc)(*case.args, cwd=project)
    finally:
        for name in case.links:
            (project / name).unlink()
        for name in case.files:
            top = project / Path(name).parts[0]
            shutil.rmtree(top) if top.is_dir() else top.unlink(missing_ok=True)
    assert (proc.returncode, case.message in proc.stderr) == (case.code, True), proc.stderr
    assert "Traceback" not in proc.stderr
    assert case.absent not in proc.stderr
    assert snapshot(project) == before
    assert all(not Path(target).exists() for target in case.links.values())  # nothing created
    if "--json" in case.args:
        document = json.loads(proc.stdout)
        assert document["ok"] is False
        assert document["exit_code"] == case.code
        assert case.message in document["error"]


def test_the_table_is_long_enough_to_mean_something() -> None:
    assert len(CASES) >= 40
