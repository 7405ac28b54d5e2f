"""Size budgets per target and encoding: `main.br = "2 MiB"` fails the build when exceeded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wasmship.distformat.model import FileEntry, Manifest
from wasmship.errors import UsageError
from wasmship.units import human_size, parse_size

ENCODINGS = {"raw": "raw", "br": "br", "gz": "gzip", "gzip": "gzip", "zst": "zstd", "zstd": "zstd"}


@dataclass(frozen=True)
class Budget:
    """The most bytes one target's module may take in one encoding."""

    target: str
    encoding: str  # "raw", or a Content-Encoding token: br, gzip, zstd
    limit: int

    @property
    def label(self) -> str:
        return f"{self.target}.{self.encoding}"


def parse_budget(key: str, value: str) -> Budget:
    """From the file (`main.br`, "2 MiB") or the flag (`main:br=2MiB`, split by the caller)."""
    target, _, encoding = key.replace(":", ".").rpartition(".")
    if not target or encoding.lower() not in ENCODINGS:
        raise UsageError(
            f"budget {key!r}: write TARGET.ENCODING with ENCODING one of "
            f"{', '.join(sorted(set(ENCODINGS)))}, e.g. main.br"
        )
    return Budget(target, ENCODINGS[encoding.lower()], parse_size(value))


def parse_budget_flag(text: str) -> Budget:
    """`main:br=2MiB`."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--budget {text!r}: write TARGET:ENCODING=SIZE, e.g. main:br=2MiB")
    return parse_budget(key, value)


@dataclass(frozen=True)
class BudgetResult:
    """A budget checked against the built dist."""

    budget: Budget
    size: int | None  # None: the dist has no such variant

    @property
    def exceeded(self) -> bool:
        return self.size is not None and self.size > self.budget.limit

    @property
    def overshoot(self) -> int:
        return max(0, (self.size or 0) - self.budget.limit)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.budget.target,
            "encoding": self.budget.encoding,
            "limit": self.budget.limit,
            "size": self.size,
            "exceeded": self.exceeded,
        }


def check_budgets(manifest: Manifest, budgets: list[Budget]) -> list[BudgetResult]:
    """Each budget against the module of its target in MANIFEST."""
    modules: dict[str, FileEntry] = {
        target.name: target.module for target in manifest.targets if target.module is not None
    }
    results = []
    for budget in budgets:
        entry = modules.get(budget.target)
        if entry is None:
            known = ", ".join(sorted(modules)) or "none"
            raise UsageError(
                f"budget {budget.label}: no target {budget.target!r} (targets: {known})"
            )
        if budget.encoding == "raw":
            size: int | None = entry.size
        else:
            variant = entry.encodings.get(budget.encoding)
            size = variant.size if variant else None
        results.append(BudgetResult(budget, size))
    return results


def exceeded_message(over: list[BudgetResult], grew: Mapping[str, str] | None = None) -> str:
    """One line per exceeded budget: the size, the budget and the overshoot; then, when GREW
    has a line for its target (from the size diff), which packages grew."""
    lines = []
    for r in over:
        lines.append(
            f"{r.budget.label} is {human_size(r.size or 0)} ({r.size} B), over its budget of "
            f"{human_size(r.budget.limit)} by {human_size(r.overshoot)}"
        )
        if grew and grew.get(r.budget.target):
            lines.append(f"  since the build before: {grew[r.budget.target]}")
    return "size budget exceeded (the dist was written):\n  " + "\n  ".join(lines)
