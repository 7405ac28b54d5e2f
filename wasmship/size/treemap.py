"""The squarified treemap layout (Bruls, Huizing, van Wijk, 2000): rectangles whose areas are
proportional to sizes and whose sides stay close to square, so small items stay clickable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """A rectangle of the layout."""

    x: float
    y: float
    w: float
    h: float

    def inset(self, left: float, top: float, right: float, bottom: float) -> Rect:
        """This rectangle with margins taken off (never below zero size)."""
        return Rect(
            self.x + left,
            self.y + top,
            max(0.0, self.w - left - right),
            max(0.0, self.h - top - bottom),
        )


def _worst(row: list[float], side: float) -> float:
    """The largest aspect ratio in ROW laid along a side of length SIDE."""
    total = sum(row)
    if total <= 0 or side <= 0:
        return float("inf")
    square, whole = side * side, total * total
    return max(
        (max(square * r / whole, whole / (square * r)) for r in row if r > 0), default=float("inf")
    )


def squarify(sizes: list[int], area: Rect) -> list[Rect]:
    """One rectangle per size (sizes largest first, as given) filling AREA; zero sizes get an
    empty rectangle."""
    whole = sum(s for s in sizes if s > 0)
    if whole <= 0 or area.w <= 0 or area.h <= 0:
        return [Rect(area.x, area.y, 0.0, 0.0) for _ in sizes]
    scale = area.w * area.h / whole
    values = [max(0, s) * scale for s in sizes]
    rects: list[Rect] = []
    free = area
    index = 0
    while index < len(values):
        side = min(free.w, free.h)
        row = [values[index]]
        index += 1
        while index < len(values) and _worst([*row, values[index]], side) <= _worst(row, side):
            row.append(values[index])
            index += 1
        rects.extend(_lay_row(row, free))
        free = _rest(row, free)
    return rects


def _lay_row(row: list[float], free: Rect) -> list[Rect]:
    total = sum(row)
    placed = []
    if free.w >= free.h:  # a column along the left side
        width = total / free.h if free.h else 0.0
        y = free.y
        for value in row:
            height = value / width if width else 0.0
            placed.append(Rect(free.x, y, width, height))
            y += height
    else:  # a row along the top
        height = total / free.w if free.w else 0.0
        x = free.x
        for value in row:
            width = value / height if height else 0.0
            placed.append(Rect(x, free.y, width, height))
            x += width
    return placed


def _rest(row: list[float], free: Rect) -> Rect:
    total = sum(row)
    if free.w >= free.h:
        width = total / free.h if free.h else 0.0
        return Rect(free.x + width, free.y, max(0.0, free.w - width), free.h)
    height = total / free.w if free.w else 0.0
    return Rect(free.x, free.y + height, free.w, max(0.0, free.h - height))
