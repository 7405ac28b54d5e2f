"""The JSON Schema of manifest.json (wasmship/data/manifest.schema.json), and checking against it.

Importing jsonschema takes about 0.1 s, so only verify and the tests use this module; the
typed reader (reader.py) checks what the code relies on without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

MAX_SCHEMA_MESSAGE = 240


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema for manifest.json shipped in the package."""
    text = files("wasmship").joinpath("data", "manifest.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(document: object) -> Iterator[str]:
    """Every way DOCUMENT breaks the schema, as `does not match … at $.path: what`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(manifest_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        message = error.message
        if len(message) > MAX_SCHEMA_MESSAGE:
            message = message[: MAX_SCHEMA_MESSAGE - 1] + "…"
        yield f"does not match the manifest schema at {error.json_path}: {message}"
