"""Point → ward, without boundary polygons.

The nearest ward centroid across the whole country decides which province a
point is in. Near a provincial border the nearest centroid can belong to the
neighbour, so a point is still accepted when it lies within the effective
radius of one of the configured province's wards (area → radius of the equal
disc, ×1.5). Boundary polygons, when an administrator loads them, replace this
(routing, issue 5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# A ward with no recorded area still gets a sensible radius.
DEFAULT_RADIUS_M = 3000.0
BORDER_TOLERANCE = 1.5

_NEAREST = text("""
    SELECT code, province_code, name, area_km2,
           earth_distance(ll_to_earth(lat, lon), ll_to_earth(:lat, :lon)) AS distance_m
    FROM ward
    ORDER BY ll_to_earth(lat, lon) <-> ll_to_earth(:lat, :lon)
    LIMIT :k
""")

_NEAREST_IN_PROVINCE = text("""
    SELECT code, province_code, name, area_km2,
           earth_distance(ll_to_earth(lat, lon), ll_to_earth(:lat, :lon)) AS distance_m
    FROM ward
    WHERE province_code = :province
    ORDER BY ll_to_earth(lat, lon) <-> ll_to_earth(:lat, :lon)
    LIMIT 5
""")


@dataclass(frozen=True)
class WardHit:
    code: str
    province_code: str
    name: str
    distance_m: float


def _radius_m(area_km2: float | None) -> float:
    if not area_km2:
        return DEFAULT_RADIUS_M
    return math.sqrt(area_km2 * 1e6 / math.pi)


def locate_ward(session: Session, lat: float, lon: float, province_code: str) -> WardHit | None:
    """The ward of ``province_code`` that contains the point, or None when outside."""
    nearest = session.execute(_NEAREST, {"lat": lat, "lon": lon, "k": 1}).first()
    if nearest is None:
        return None
    if nearest.province_code == province_code and \
            nearest.distance_m <= _radius_m(nearest.area_km2) * BORDER_TOLERANCE * 2:
        return WardHit(nearest.code, nearest.province_code, nearest.name, nearest.distance_m)
    for row in session.execute(_NEAREST_IN_PROVINCE,
                               {"lat": lat, "lon": lon, "province": province_code}):
        if row.distance_m <= _radius_m(row.area_km2) * BORDER_TOLERANCE:
            return WardHit(row.code, row.province_code, row.name, row.distance_m)
    return None
