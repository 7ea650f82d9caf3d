"""Reads over the command chain. Subtrees are path ranges (see ``core.scoping``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet

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


def region_at(lat: float, lng: float) -> Region | None:
    """The smallest region whose boundary contains the point: descend from the cities, one
    level at a time, testing only the children of the region found (a handful of polygons
    per level, never all the grids). Where a branch has no smaller region drawn, the
    deepest region found answers; None when no city contains the point."""
    candidates = list(Region.objects.filter(parent__isnull=True).order_by("code"))
    found: Region | None = None
    while candidates:
        match = next((r for r in candidates if contains(r.boundary, lat, lng)), None)
        if match is None:
            break
        found = match
        if match.level >= RegionLevel.GRID:
            break
        candidates = list(Region.objects.filter(parent=match).order_by("code"))
    return found
