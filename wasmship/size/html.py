"""The size report as one self-contained HTML file: a zoomable treemap and tables.

No script at all: every view (all modules; one module's packages; one package's functions and
data) is drawn in advance as SVG, and CSS `:target` shows the one the URL fragment names, so
clicking a rectangle (a link to `#view`) zooms in and the back button zooms out. The page's
policy is `default-src 'none'; style-src 'sha256-…'` (its one style element): it loads
nothing, and sizes and colours are SVG attributes, not inline styles.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from importlib.resources import files
from string import Template

from wasmship.size import SizeReport
from wasmship.size.model import ModuleSize, PackageSize
from wasmship.size.treemap import Rect, squarify
from wasmship.units import human_size

WIDTH, HEIGHT = 1200, 680
LABEL = 18  # the height of a module's title strip
GREY = "#b9b9b2"


def _asset(name: str) -> str:
    return files("wasmship.size").joinpath(name).read_text(encoding="utf-8")


def policy(style: str) -> str:
    """The page's Content-Security-Policy: nothing but its own style element."""
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


def colour(name: str) -> str:
    """A package's colour: a light hue from its name (the same in every report)."""
    hue = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:2], "big") % 360
    return f"hsl({hue}, 62%, 72%)"


def _box(
    rect: Rect, label: str, tip: str, fill: str, href: str | None, attrs: dict[str, str]
) -> str:
    shape = (
        f'<rect x="{rect.x:.1f}" y="{rect.y:.1f}" width="{rect.w:.1f}" height="{rect.h:.1f}" '
        f'fill="{fill}"'
        + "".join(f' {k}="{escape(v)}"' for k, v in sorted(attrs.items()))
        + f"><title>{escape(tip)}</title></rect>"
    )
    room = int((rect.w - 6) / 7)
    if rect.h >= 16 and room >= 4:
        text = _fit(label, room)
        shape += f'<text x="{rect.x + 4:.1f}" y="{rect.y + 13:.1f}">{escape(text)}</text>'
    return f'<a href="{href}">{shape}</a>' if href else shape


def _fit(label: str, room: int) -> str:
    """LABEL in ROOM characters: whole, else its last path element, else cut with an ellipsis."""
    if len(label) <= room:
        return label
    tail = "…/" + label.rpartition("/")[2] if "/" in label else label
    return tail if len(tail) <= room else tail[: room - 1] + "…"


def _package_tip(module: ModuleSize, package: PackageSize) -> str:
    share = package.total / module.total if module.total else 0.0
    return (
        f"{package.name}: {human_size(package.total)} ({share:.1%} of {module.module}); "
        f"code {human_size(package.code)}, data {human_size(package.data)}, "
        f"br ≈ {human_size(package.br_estimate)}"
    )


def _packages(module: ModuleSize, m: int, area: Rect) -> list[str]:
    """A module's packages (and its unattributed rest) filling AREA."""
    rest = sum(module.unattributed.values())
    sizes = [p.total for p in module.packages] + [rest]
    shapes = []
    for i, (package, rect) in enumerate(zip(module.packages, squarify(sizes, area), strict=False)):
        attrs = {"data-package": package.name, "data-module": module.module}
        tip = _package_tip(module, package)
        shapes.append(_box(rect, package.name, tip, colour(package.name), f"#p{m}-{i}", attrs))
    if rest:
        parts = ", ".join(f"{k} {human_size(v)}" for k, v in sorted(module.unattributed.items()))
        tip = f"unattributed: {human_size(rest)} ({parts})"
        rect = squarify(sizes, area)[-1]
        shapes.append(_box(rect, "unattributed", tip, GREY, None, {"data-kind": "unattributed"}))
    return shapes


def _svg(shapes: list[str]) -> str:
    return (
        f'<svg class="map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'
    )


def _overview(modules: list[ModuleSize]) -> str:
    shapes = []
    frames = squarify([m.total for m in modules], Rect(0, 0, WIDTH, HEIGHT))
    for m, (module, frame) in enumerate(zip(modules, frames, strict=True)):
        title = f"{module.module} — {human_size(module.total)}"
        shapes.append(
            f'<a href="#m{m}"><rect x="{frame.x:.1f}" y="{frame.y:.1f}" width="{frame.w:.1f}" '
            f'height="{LABEL}" fill="none" data-module-title="{escape(module.module)}">'
            f"<title>{escape(title)}: zoom in</title></rect>"
            f'<text class="module" x="{frame.x + 4:.1f}" y="{frame.y + 13:.1f}">'
            f"{escape(title)}</text></a>"
        )
        shapes += _packages(module, m, frame.inset(1, LABEL, 1, 1))
    return _svg(shapes)


def _package_view(module: ModuleSize, package: PackageSize) -> str:
    items: list[tuple[str, int, str, str]] = []  # label, size, kind, colour
    for function in package.functions:
        label = function.name.removeprefix(package.name + ".")
        items.append((label, function.size, "function", colour(package.name)))
    other_code = package.code - sum(f.size for f in package.functions)
    if other_code > 0:
        items.append(("other functions", other_code, "function", colour(package.name)))
    for symbol in package.symbols:
        items.append((symbol.name, symbol.size, "data", "#d9d2bf"))
    other_data = package.data - sum(s.size for s in package.symbols)
    if other_data > 0:
        items.append(("function tables and other data", other_data, "data", "#e6e0cf"))
    items.sort(key=lambda item: -item[1])
    rects = squarify([size for _, size, _, _ in items], Rect(0, 0, WIDTH, HEIGHT))
    shapes = [
        _box(rect, label, f"{label}: {human_size(size)} ({kind})", fill, None, {"data-kind": kind})
        for (label, size, kind, fill), rect in zip(items, rects, strict=True)
    ]
    return _svg(shapes)


def _views(modules: list[ModuleSize]) -> str:
    parts = []
    home = '<a href="#top">all modules</a>'
    for m, module in enumerate(modules):
        crumb = f"{home} &rsaquo; {escape(module.module)}"
        area = Rect(0, 0, WIDTH, HEIGHT)
        parts.append(
            f'<section class="view" id="m{m}"><nav>{crumb}</nav>'
            f"{_svg(_packages(module, m, area))}</section>"
        )
        for i, package in enumerate(module.packages):
            parts.append(
                f'<section class="view" id="p{m}-{i}"><nav>{crumb} &rsaquo; '
                f'<a href="#m{m}">packages</a> &rsaquo; {escape(package.name)}</nav>'
                f"<p class=note>{escape(_package_tip(module, package))}</p>"
                f"{_package_view(module, package)}</section>"
            )
    parts.append(f'<section class="overview" id="top">{_overview(modules)}</section>')
    return "\n".join(parts)


def _bar(share: float) -> str:
    width = max(0.0, min(1.0, share)) * 120
    return (
        '<svg width="120" height="10" aria-hidden="true">'
        f'<rect width="{width:.1f}" height="10" fill="#5b8def"/></svg>'
    )


def _table(report: SizeReport) -> str:
    module = report.size
    largest = max((p.total for p in module.packages), default=1) or 1
    rows = [
        "<tr><th>#</th><th>package</th><th>code</th><th>data</th><th>total</th><th>share</th>"
        "<th>br est.</th><th></th></tr>"
    ]
    for n, p in enumerate(module.packages, 1):
        rows.append(
            f"<tr><td>{n}</td><td>{escape(p.name)}</td><td>{human_size(p.code)}</td>"
            f"<td>{human_size(p.data)}</td><td>{human_size(p.total)}</td>"
            f"<td>{p.total / module.total:.1%}</td><td>{human_size(p.br_estimate)}</td>"
            f'<td class="bar">{_bar(p.total / largest)}</td></tr>'
        )
    rest = sum(module.unattributed.values())
    rows.append(
        f'<tr class="rest"><td></td><td>unattributed ({escape(_parts(module))})</td><td></td>'
        f"<td></td><td>{human_size(rest)}</td><td>{rest / module.total:.1%}</td>"
        f"<td>{human_size(module.unattributed_br)}</td><td></td></tr>"
    )
    title = f"{escape(module.module)} <span class=note>({escape(module.path)})</span>"
    return f"<h2>{title}</h2>{_diff(report)}<table>{''.join(rows)}</table>"


def _parts(module: ModuleSize) -> str:
    return ", ".join(f"{k} {human_size(v)}" for k, v in sorted(module.unattributed.items()))


def _diff(report: SizeReport) -> str:
    if report.diff is None:
        return f"<p class=note>{escape(report.note)}</p>" if report.note else ""
    line = escape(report.diff.line())
    mood = "grew" if report.diff.raw > 0 else "shrank" if report.diff.raw < 0 else "note"
    return f'<p class="{mood}">Since {escape(report.diff.before)}: {line}</p>'


def render_html(reports: list[SizeReport]) -> str:
    """The report page for REPORTS (one per module)."""
    modules = [r.size for r in reports]
    style = _asset("report.css")
    names = ", ".join(m.module for m in modules)
    lead = "; ".join(
        f"{m.module}: {human_size(m.total)}"
        + (f", br {human_size(m.br)}" if m.br is not None else "")
        + f", {m.coverage:.1%} attributed to {len(m.packages)} packages"
        for m in modules
    )
    return Template(_asset("report.html")).substitute(
        csp=policy(style),
        style=style,
        title=escape(f"Where the bytes go: {names}"),
        lead=escape(lead),
        views=_views(modules),
        tables="\n".join(_table(r) for r in reports),
    )
