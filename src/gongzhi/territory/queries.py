"""Reads over the command chain. Subtrees are path ranges (see ``core.scoping``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from gongzhi.core import refdata
from gongzhi.core.scoping import Scope, subtree_q
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region, Unit


def subtree_of(region: Region) -> QuerySet[Region]:
    """The region and every region below it."""
    return Region.objects.filter(subtree_q("path", region.path))


def descendants_of(region: Region) -> QuerySet[Region]:
    return subtree_of(region).exclude(pk=region.pk)


def ancestors_of(region: Region) -> QuerySet[Region]:
    """City first; one indexed lookup, no recursion."""
    return Region.objects.filter(path__in=region.ancestor_paths).order_by("level")


def regions_in(scope: Scope) -> QuerySet[Region]:
    return Region.objects.filter(scope.q("path"))


def scope_roots(scope: Scope) -> QuerySet[Region]:
    """The top regions of a scope: where a person's region tree starts."""
    return Region.objects.filter(path__in=scope.paths).order_by("path")


def children_with_counts(region: Region) -> QuerySet[Region]:
    return (
        Region.objects.filter(parent=region)
        .annotate(children_count=Count("children"))
        .order_by("code")
    )


def units_serving(scope: Scope) -> QuerySet[Unit]:
    """Units at home in the scope, or covering any region in it or above it."""
    if scope.is_empty:
        return Unit.objects.none()
    ancestors = {p for root in scope.paths for p in Region(path=root).ancestor_paths}
    condition = scope.q("region__path") | scope.q("jurisdictions__path")
    if ancestors:
        condition |= Q(jurisdictions__path__in=ancestors)
    matching = Unit.objects.filter(condition).values("pk")
    return Unit.objects.filter(pk__in=matching).select_related("region")


def units_covering(region: Region) -> QuerySet[Unit]:
    """Units whose jurisdiction includes ``region`` (they serve it or an ancestor of it)."""
    paths = [*region.ancestor_paths, region.path]
    matching = Unit.objects.filter(jurisdictions__path__in=paths).values("pk")
    return (
        Unit.objects.filter(pk__in=matching)
        .select_related("region")
        .order_by("-region__level", "kind", "name")  # the nearest level first
    )


def region_level_counts(region: Region) -> dict[int, int]:
    rows = descendants_of(region).values("level").annotate(n=Count("pk")).order_by("level")
    return {row["level"]: row["n"] for row in rows}


def _inside(lng: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting (GeoJSON positions are [lng, lat]): count the edges a ray to the east crosses."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(boundary: Any, lat: float, lng: float) -> bool:
    """Is the point inside a GeoJSON Polygon or MultiPolygon (and outside its holes)?"""
    if not isinstance(boundary, Mapping):
        return False
    coordinates = boundary.get("coordinates")
    if boundary.get("type") == "Polygon":
        polygons = [coordinates]
    elif boundary.get("type") == "MultiPolygon":
        polygons = coordinates if isinstance(coordinates, list) else []
    else:
        return False
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            continue
        outer, *holes = polygon
        if _inside(lng, lat, outer) and not any(_inside(lng, lat, h) for h in holes):
            return True
    return False


class RegionTree:
    """The region tree as far as it was walked, in memory: each region's children (by code)
    with their boundaries parsed once, and a bounding box per boundary, so a point is
    tested against a polygon only when it falls inside its box (the box never changes the
    answer: ray casting finds no point outside it inside). Loaded lazily, one query per
    region whose children are asked for; kept per process as reference data
    (``core.refdata``): the instances are shared, read-only."""

    def __init__(self) -> None:
        self._children: dict[int | None, list[tuple[Region, Box | None]]] = {}
        self._by_path: dict[str, Region | None] = {}

    def children(self, parent: Region | None) -> list[tuple[Region, Box | None]]:
        key = parent.pk if parent is not None else None
        found = self._children.get(key)
        if found is None:
            regions = Region.objects.filter(parent=parent).order_by("code")
            found = self._children[key] = [(r, bounding_box(r.boundary)) for r in regions]
            for region, _box in found:
                self._by_path[region.path] = region
        return found

    def with_path(self, path: str) -> Region | None:
        if path not in self._by_path:
            self._by_path[path] = Region.objects.filter(path=path).first()
        return self._by_path[path]

    def region_at(self, lat: float, lng: float) -> Region | None:
        candidates = self.children(None)
        found: Region | None = None
        while candidates:
            match = next(
                (
                    r
                    for r, box in candidates
                    if (box is None or box.holds(lat, lng)) and contains(r.boundary, lat, lng)
                ),
                None,
            )
            if match is None:
                break
            found = match
            if match.level >= RegionLevel.GRID:
                break
            candidates = self.children(match)
        return found


@dataclass(frozen=True)
class Box:
    west: float
    south: float
    east: float
    north: float

    def holds(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east


def bounding_box(boundary: Any) -> Box | None:
    """The box around a well-formed Polygon or MultiPolygon's outer rings; None for anything
    else (then the polygon test itself decides, as it always did)."""
    if not isinstance(boundary, Mapping):
        return None
    coordinates = boundary.get("coordinates")
    if boundary.get("type") == "Polygon":
        polygons = [coordinates]
    elif boundary.get("type") == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        return None
    try:
        points = [(float(p[0]), float(p[1])) for polygon in polygons if polygon for p in polygon[0]]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if not points or not all(math.isfinite(c) for point in points for c in point):
        return None
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return Box(min(lngs), min(lats), max(lngs), max(lats))


def region_tree() -> RegionTree:
    """This process's region tree (reloaded after any change to regions or units)."""
    return refdata.cached("territory.tree", RegionTree)


def region_at(lat: float, lng: float) -> Region | None:
    """The smallest region whose boundary contains the point: descend from the cities, one
    level at a time, testing only the children of the region found (a handful of polygons
    per level, never all the grids). Where a branch has no smaller region drawn, the
    deepest region found answers; None when no city contains the point. From the region
    tree in memory (``RegionTree``): no query once the branch was walked."""
    return region_tree().region_at(lat, lng)


def region_with_path(path: str) -> Region | None:
    """The region at ``path`` (from the tree in memory; shared, read-only)."""
    return region_tree().with_path(path)


def cities() -> list[Region]:
    """The top regions, by code (from the tree in memory; shared, read-only)."""
    return [region for region, _box in region_tree().children(None)]
