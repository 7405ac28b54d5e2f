"""wasmship: build and package Go WebAssembly for production."""

from __future__ import annotations

__all__ = ["__version__"]

# The one place the version is written (pyproject.toml reads it from here): importing
# importlib.metadata to ask the installed package would cost every command start-up time.
__version__ = "0.1.0"
