"""wasmship: build and package Go WebAssembly for production."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is read on first use: importlib.metadata costs start-up time `--help` never needs.
    if name != "__version__":
        raise AttributeError(f"module 'wasmship' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("wasmship")
    except PackageNotFoundError:  # running from a source tree without an install
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
