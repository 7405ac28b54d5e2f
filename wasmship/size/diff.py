"""What changed between two builds of a module, package by package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wasmship.size.model import ModuleSize
from wasmship.units import human_size

SHOWN = 5  # packages named in the one-line summary


def signed_size(delta: int) -> str:
    """`+312.0 KiB`, `-12 B`, `±0 B`."""
    if delta == 0:
        return "±0 B"
    return ("+" if delta > 0 else "-") + human_size(abs(delta))


@dataclass(frozen=True)
class PackageChange:
    """One package's change: raw bytes and estimated brotli bytes."""

    name: str
    raw: int
    br: int
    status: str  # "new", "gone" or "changed"

    def phrase(self) -> str:
        """`encoding/xml +210.0 KiB (new)`."""
        suffix = f" ({self.status})" if self.status != "changed" else ""
        return f"{self.name} {signed_size(self.raw)}{suffix}"

    def to_json(self) -> dict[str, Any]:
        """The change as JSON data."""
        return {"name": self.name, "raw": self.raw, "br": self.br, "status": self.status}


@dataclass(frozen=True)
class SizeDiff:
    """A module against the same target's module of an earlier build."""

    module: str
    before: str  # the earlier module's path
    after: str
    raw: int
    br: int  # the real .br sizes' difference when both are known, else the estimates'
    packages: tuple[PackageChange, ...]  # largest change first

    def line(self, shown: int = SHOWN) -> str:
        """`main.wasm +312.0 KiB raw / +61.0 KiB br: encoding/xml +210.0 KiB (new), ...`."""
        head = f"{self.module} {signed_size(self.raw)} raw / {signed_size(self.br)} br"
        if not self.packages:
            return f"{head}: no package changed"
        named = ", ".join(change.phrase() for change in self.packages[:shown])
        more = len(self.packages) - shown
        return f"{head}: {named}" + (f", and {more} more" if more > 0 else "")

    def grew(self, threshold: int) -> bool:
        """Whether the module grew by more than THRESHOLD bytes."""
        return self.raw > threshold

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON data."""
        return {
            "before": self.before,
            "after": self.after,
            "raw": self.raw,
            "br": self.br,
            "packages": [change.to_json() for change in self.packages],
        }


def diff(before: ModuleSize, after: ModuleSize) -> SizeDiff:
    """AFTER against BEFORE: the module's change and each package's that changed."""
    old = {p.name: p for p in before.packages}
    new = {p.name: p for p in after.packages}
    changes = []
    for name in sorted(set(old) | set(new)):
        was, now = old.get(name), new.get(name)
        raw = (now.total if now else 0) - (was.total if was else 0)
        br = (now.br_estimate if now else 0) - (was.br_estimate if was else 0)
        if raw or br:
            status = "new" if was is None else "gone" if now is None else "changed"
            changes.append(PackageChange(name, raw, br, status))
    changes.sort(key=lambda c: (-abs(c.raw), c.name))
    if before.br is not None and after.br is not None:
        br_total = after.br - before.br
    else:
        br_total = sum(p.br_estimate for p in after.packages) + after.unattributed_br
        br_total -= sum(p.br_estimate for p in before.packages) + before.unattributed_br
    return SizeDiff(
        module=after.module,
        before=before.path,
        after=after.path,
        raw=after.total - before.total,
        br=br_total,
        packages=tuple(changes),
    )
