"""Boundaries for the demo city: each region is split into near-square cells for its children."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    @property
    def centre(self) -> tuple[float, float]:
        """(lat, lng)"""
        return (round((self.south + self.north) / 2, 6), round((self.west + self.east) / 2, 6))

    def polygon(self) -> dict[str, Any]:
        w, s, e, n = (round(v, 6) for v in (self.west, self.south, self.east, self.north))
        return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}

    def split(self, count: int) -> list[Box]:
        """``count`` cells filling the box, row by row; the last row's cells are wider."""
        width = (self.east - self.west) * math.cos(math.radians((self.south + self.north) / 2))
        height = self.north - self.south
        cols = max(1, round(math.sqrt(count * width / height)))
        rows = math.ceil(count / cols)
        cells: list[Box] = []
        for row in range(rows):
            in_row = min(cols, count - row * cols)
            north = self.north - row * height / rows
            south = self.north - (row + 1) * height / rows
            step = (self.east - self.west) / in_row
            for col in range(in_row):
                cells.append(
                    Box(self.west + col * step, south, self.west + (col + 1) * step, north)
                )
        return cells
