from __future__ import annotations

from typing import Any

from gongzhi.demo.testing import World
from gongzhi.territory.queries import contains, region_at

SQUARE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]],
}
WITH_HOLE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}


def test_contains():
    assert contains(SQUARE, lat=5, lng=5)
    assert not contains(SQUARE, lat=5, lng=11)
    assert not contains(WITH_HOLE, lat=5, lng=5)
    assert contains(WITH_HOLE, lat=2, lng=2)
    assert not contains(None, lat=1, lng=1)


def test_the_grid_at_its_own_centre(world: World):
    grid = world.grid_1
    assert grid.centre_lat is not None
    assert grid.centre_lng is not None
    assert region_at(grid.centre_lat, grid.centre_lng) == grid


def test_a_point_outside_the_city(world: World):
    assert region_at(0.0, 0.0) is None
