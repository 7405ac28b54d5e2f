"""The command line, a module per command; `main` is the entry point."""

from wasmship.cli.app import cli, main

__all__ = ["cli", "main"]
