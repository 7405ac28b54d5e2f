"""wasmship: build and package Go WebAssembly for production."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wasmship")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
