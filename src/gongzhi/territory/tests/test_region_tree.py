"""The region tree in memory answers ``region_at`` exactly as walking the database did,
bounding boxes included (on vertices, on edges, just outside), without a query once walked,
and sees a change to a boundary at once."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core import refdata
from gongzhi.demo.testing import World
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region
from gongzhi.territory.queries import bounding_box, contains, region_at, region_with_path


def walked(lat: float, lng: float, children: dict[int | None, list[Region]]) -> Region | None:
    """``region_at`` as it was: level by level, every polygon tested (no boxes); the
    children of each region read once from the database into ``children``."""

    def below(parent: Region | None) -> list[Region]:
        key = parent.pk if parent is not None else None
        if key not in children:
            children[key] = list(Region.objects.filter(parent=parent).order_by("code"))
        return children[key]

    candidates = below(None)
    found = None
    while candidates:
        match = next((r for r in candidates if contains(r.boundary, lat, lng)), None)
        if match is None:
            break
        found = match
        if match.level >= RegionLevel.GRID:
            break
        candidates = below(match)
    return found


def points_around(boundary: dict[str, Any], rng: random.Random) -> list[tuple[float, float]]:
    ring = boundary["coordinates"][0]
    if boundary["type"] == "MultiPolygon":
        ring = ring[0]
    found = []
    for (lng1, lat1), (lng2, lat2) in itertools.pairwise(ring):
        found += [(lat1, lng1), ((lat1 + lat2) / 2, (lng1 + lng2) / 2)]  # vertices, edges
        found += [(lat1 + 1e-9, lng1 - 1e-9), (lat1 - 1e-9, lng1 + 1e-9)]  # just beside
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    south, north, west, east = (
        min(lats) - 0.01,
        max(lats) + 0.01,
        min(lngs) - 0.01,
        max(lngs) + 0.01,
    )
    found += [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(30)]
    return found


def centre(region: Region) -> tuple[float, float]:
    assert region.centre_lat is not None
    assert region.centre_lng is not None
    return region.centre_lat, region.centre_lng


def test_the_tree_answers_as_the_walk_did(world: World) -> None:
    rng = random.Random(6)
    grids = list(Region.objects.filter(level=RegionLevel.GRID).exclude(boundary=None))
    assert len(grids) == 12
    points = [p for grid in grids for p in points_around(grid.boundary or {}, rng)]
    points += [(0.0, 0.0), centre(world.city)]
    children: dict[int | None, list[Region]] = {}
    expected = [walked(lat, lng, children) for lat, lng in points]
    with refdata.pinned():
        assert [region_at(lat, lng) for lat, lng in points] == expected


def test_a_walked_branch_costs_no_query(world: World) -> None:
    lat, lng = centre(world.grid_1)
    assert region_at(lat, lng) == world.grid_1
    with refdata.pinned(), CaptureQueriesContext(connection) as captured:
        assert region_at(lat, lng) == world.grid_1
        assert region_with_path(world.street_1.path) == world.street_1
    assert len(captured.captured_queries) == 1  # the reference data version


def test_a_boundary_moved_elsewhere_is_seen_at_once(world: World) -> None:
    lat, lng = centre(world.grid_1)
    assert region_at(lat, lng) == world.grid_1
    Region.objects.filter(pk=world.grid_1.pk).update(
        boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    )
    assert region_at(lat, lng) == world.community_1
    assert region_at(0.5, 0.6) is None  # outside every city, whatever a grid says


def test_a_box_only_for_well_formed_polygons() -> None:
    square = [[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]
    box = bounding_box({"type": "Polygon", "coordinates": [square]})
    assert box is not None
    assert (box.west, box.south, box.east, box.north) == (0, 0, 2, 1)
    multi = bounding_box({"type": "MultiPolygon", "coordinates": [[square], [[[5, 5], [6, 7]]]]})
    assert multi is not None
    assert (multi.west, multi.south, multi.east, multi.north) == (0, 0, 6, 7)
    for broken in (
        None,
        "POLYGON",
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "Polygon", "coordinates": "x"},
        {"type": "Polygon", "coordinates": [[["a", 1]]]},
        {"type": "Polygon", "coordinates": [[[float("nan"), 1], [2, 2]]]},
        {"type": "MultiPolygon", "coordinates": {"a": 1}},
        {"type": "Polygon", "coordinates": []},
    ):
        assert bounding_box(broken) is None
