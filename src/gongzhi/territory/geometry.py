"""Validation of the small amount of geometry regions carry (GeoJSON, WGS-84)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from gongzhi.territory.errors import InvalidBoundary

MAX_VERTICES = 20_000


def _check_ring(ring: Any) -> int:
    if not isinstance(ring, list) or len(ring) < 4:
        raise InvalidBoundary(_("Each ring of a boundary needs at least four positions."))
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(c, int | float) and math.isfinite(c) for c in position[:2])
        ):
            raise InvalidBoundary(_("A boundary position must be [longitude, latitude]."))
        lng, lat = position[0], position[1]
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise InvalidBoundary(_("A boundary position is outside the range of the earth."))
    if ring[0][:2] != ring[-1][:2]:
        raise InvalidBoundary(_("Each ring of a boundary must end where it starts."))
    return len(ring)


def validate_boundary(geometry: Any) -> dict[str, Any]:
    """Return the GeoJSON Polygon or MultiPolygon if it is well formed, else raise."""
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise InvalidBoundary(_("A boundary must be a GeoJSON Polygon or MultiPolygon."))
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise InvalidBoundary(_("A boundary has no coordinates."))
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise InvalidBoundary(_("A polygon needs at least one ring."))
        vertices += sum(_check_ring(ring) for ring in polygon)
    if vertices > MAX_VERTICES:
        raise InvalidBoundary(_("A boundary may have at most 20,000 positions."))
    return {"type": geometry["type"], "coordinates": coordinates}


def validate_centre(lat: Any, lng: Any) -> tuple[float, float]:
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        raise InvalidBoundary(_("The centre needs a numeric latitude and longitude.")) from None
    if not (math.isfinite(lat_f) and math.isfinite(lng_f)) or not (
        -90 <= lat_f <= 90 and -180 <= lng_f <= 180
    ):
        raise InvalidBoundary(_("The centre is outside the range of the earth."))
    return lat_f, lng_f
