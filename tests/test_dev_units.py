"""wasmship dev's pure parts: the page rewrite, the CSP it allows, what counts as a source
change, where builds go, the terminal line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmship.builder.config import BuildConfig
from wasmship.cli.dev import render
from wasmship.dev.folder import dev_config, dev_folder
from wasmship.dev.inject import allow_dev, inject, script_tag
from wasmship.dev.server import reload_integrity, reload_script
from wasmship.dev.session import Built, Failure
from wasmship.dev.sources import WatchSet
from wasmship.encodings.encoders import Profile

HASH = "sha384-abc"
SCRIPT = f"'self' '{HASH}'"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # Already allowed: the policy is left as it is (not even re-spaced).
        (
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'",
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'",
        ),
        ("default-src 'self'", "default-src 'self'"),
        ("img-src 'self'", "img-src 'self'"),  # nothing restricts scripts or connections
        # Scripts by hash only: the dev script's hash and 'self' are added to script-src.
        (
            "script-src 'sha384-x' 'wasm-unsafe-eval'; connect-src 'self'",
            f"script-src 'sha384-x' 'wasm-unsafe-eval' {SCRIPT}; connect-src 'self'",
        ),
        # 'strict-dynamic' ignores 'self': the hash is what lets the script in.
        (
            "script-src 'nonce-r' 'strict-dynamic' 'self'; connect-src 'self'",
            f"script-src 'nonce-r' 'strict-dynamic' 'self' '{HASH}'; connect-src 'self'",
        ),
        # script-src-elem governs script elements when present.
        (
            "script-src 'self'; script-src-elem 'sha384-x'; connect-src 'self'",
            f"script-src 'self'; script-src-elem 'sha384-x' {SCRIPT}; connect-src 'self'",
        ),
        # Only default-src governs: specific directives are added, default-src stays.
        (
            "default-src 'none'",
            f"default-src 'none'; script-src {SCRIPT}; connect-src 'self'",
        ),
        (
            "default-src https://cdn.example; script-src 'self'",
            "default-src https://cdn.example; script-src 'self'; "
            "connect-src https://cdn.example 'self'",
        ),
        ("connect-src 'none'; script-src 'self'", "connect-src 'self'; script-src 'self'"),
        ("connect-src *; script-src 'self'", "connect-src *; script-src 'self'"),
        # Several policies: each must allow it.
        (
            "script-src 'self', default-src 'none'",
            f"script-src 'self', default-src 'none'; script-src {SCRIPT}; connect-src 'self'",
        ),
    ],
)
def test_the_csp_gains_only_what_the_dev_script_needs(policy: str, expected: str) -> None:
    assert allow_dev(policy, HASH) == expected


def test_the_script_goes_before_head_end_and_a_meta_policy_allows_it() -> None:
    page = (
        "<!doctype html><html><head>\n"
        '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;">\n'
        '<meta name="viewport" content="width=device-width">\n'
        "</head><body><p>app</p></body></html>\n"
    )
    tag = script_tag("n.1", HASH)
    out = inject(page, tag, HASH)
    assert out.index("Content-Security-Policy") < out.index(tag) < out.index("</head>")
    assert (
        'content="default-src &#x27;none&#x27;; script-src &#x27;self&#x27; '
        '&#x27;sha384-abc&#x27;; connect-src &#x27;self&#x27;"' in out
    )
    assert '<meta name="viewport" content="width=device-width">' in out  # other metas unchanged
    assert out.replace(tag + "\n", "").count("<script") == 0


def test_a_page_without_head_gets_the_script_in_body_or_at_the_end() -> None:
    tag = script_tag("", HASH)
    assert inject("<body class=a><p>x</p></body>", tag, HASH) == (
        f"<body class=a>\n{tag}<p>x</p></body>"
    )
    assert inject("<p>x</p>", tag, HASH) == f"<p>x</p>{tag}\n"


def test_the_tag_names_the_build_and_the_scripts_integrity() -> None:
    tag = script_tag('a"b', reload_integrity())
    assert 'data-build="a&quot;b"' in tag
    assert 'src="/__wasmship/dev.js"' in tag and " defer " in tag
    assert reload_integrity().startswith("sha384-")
    assert b"EventSource" in reload_script()  # the script served is the package's data file


def test_what_counts_as_a_change(tmp_path: Path) -> None:
    pkg, static = tmp_path / "app", tmp_path / "web"
    watching = WatchSet(
        packages=frozenset({pkg}),
        files=frozenset({tmp_path / "go.mod", pkg / "data.txt"}),
        static=static,
        static_files=frozenset({static / "app.css", static / "img" / "a.png"}),
    )
    assert watching.counts(pkg / "main.go")
    assert watching.counts(pkg / "new.go")  # a file added to a package
    assert watching.counts(tmp_path / "go.mod")
    assert watching.counts(pkg / "data.txt")  # embedded
    assert not watching.counts(pkg / "main_test.go")
    assert not watching.counts(pkg / ".#main.go")  # an editor's lock file
    assert not watching.counts(pkg / "main.go~")
    assert not watching.counts(pkg / "sub" / "x.go")  # another package, not a dependency
    assert not watching.counts(tmp_path / "README.md")
    assert watching.counts(static / "app.css")
    assert watching.counts(static / "img")  # a folder whose files are copied (removed, say)
    assert not watching.counts(static / "notes.psd~")
    now = WatchSet(frozenset(), frozenset(), static, frozenset({static / "new.js"}))
    assert watching.counts(static / "new.js", now)  # a new file the build would copy
    assert watching.folders == {pkg, tmp_path, static, static / "img"}


def test_dev_builds_go_to_the_cache_keyed_by_project(tmp_path: Path) -> None:
    env = {"WASMSHIP_CACHE_DIR": str(tmp_path / "cache")}
    one = BuildConfig(workdir=tmp_path / "a", environ=env)
    assert dev_folder(one).parent == tmp_path / "cache" / "dev"
    assert dev_folder(one) == dev_folder(BuildConfig(workdir=tmp_path / "a", environ=env))
    assert dev_folder(one) != dev_folder(BuildConfig(workdir=tmp_path / "b", environ=env))
    assert dev_folder(one) != dev_folder(
        BuildConfig(workdir=tmp_path / "a", package="./cmd/x", environ=env)
    )
    config = dev_config(BuildConfig(workdir=tmp_path / "a", keep=5, force=True), tmp_path / "d")
    assert config.out_path == (tmp_path / "d" / "dist").resolve()
    assert (config.profile, config.keep, config.force) == (Profile.FAST, 0, False)


def test_one_line_per_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    line, error = render(Built(1, (), 1.234))
    assert line.endswith(" built in 1.23s") and error == ""
    changes = tuple(tmp_path / f"{n}.go" for n in "abcde")
    line, _ = render(Built(2, changes, 0.5))
    assert line.endswith(" rebuilt in 0.50s: a.go, b.go, c.go and 2 more")
    line, error = render(Built(3, changes[:1], 0.25, Failure("go build failed", "./a.go:3:1")))
    assert line.endswith(" build failed in 0.25s: a.go") and error == "go build failed"
