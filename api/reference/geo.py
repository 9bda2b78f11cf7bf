"""Point → ward: boundary polygons when an administrator has loaded them, else centroids.

With polygons, the ward whose polygon covers the point wins (a point on a
shared edge goes to the lower ward code, so the answer is stable); when every
ward of the province has a polygon, a point covered by none is outside.
Without polygons:

The nearest ward centroid across the whole country decides which province a
point is in. Near a provincial border the nearest centroid can belong to the
neighbour, so a point is still accepted when it lies within the effective
radius of one of the configured province's wards (area → radius of the equal
disc, ×1.5). Boundary polygons, when an administrator loads them, replace this
(routing, issue 5).
"""
from __future__ import annotations

import math
import time
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


POLYGON_CACHE_SECONDS = 60
_polygons: dict[str, tuple[float, "_Polygons"]] = {}


@dataclass(frozen=True)
class _Polygons:
    tree: object            # shapely STRtree over the geometries
    codes: tuple[str, ...]
    names: tuple[str, ...]
    geometries: tuple
    complete: bool          # every ward of the province has a polygon


def _load_polygons(session: Session, province_code: str) -> _Polygons | None:
    cached = _polygons.get(province_code)
    if cached and time.monotonic() - cached[0] < POLYGON_CACHE_SECONDS:
        return cached[1]
    from shapely import STRtree, prepare
    from shapely.geometry import shape
    rows = session.execute(text(
        "SELECT code, name, boundary FROM ward WHERE province_code = :p ORDER BY code"),
        {"p": province_code}).all()
    with_shape = [r for r in rows if r.boundary]
    polygons = None
    if with_shape:
        geometries = tuple(shape(r.boundary) for r in with_shape)
        for g in geometries:
            prepare(g)
        polygons = _Polygons(STRtree(geometries), tuple(r.code for r in with_shape),
                             tuple(r.name for r in with_shape), geometries,
                             complete=len(with_shape) == len(rows))
    _polygons[province_code] = (time.monotonic(), polygons)
    return polygons


def forget_polygons() -> None:
    _polygons.clear()


def _by_polygon(polygons: _Polygons, lat: float, lon: float) -> WardHit | None:
    from shapely.geometry import Point
    point = Point(lon, lat)
    hits = sorted(i for i in polygons.tree.query(point) if polygons.geometries[i].covers(point))
    if not hits:
        return None
    i = min(hits, key=lambda j: polygons.codes[j])
    return WardHit(polygons.codes[i], "", polygons.names[i], 0.0)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere: ample for 200 m)."""
    from math import asin, cos, radians, sin, sqrt
    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))


def locate_ward(session: Session, lat: float, lon: float, province_code: str) -> WardHit | None:
    """The ward of ``province_code`` that contains the point, or None when outside."""
    polygons = _load_polygons(session, province_code)
    if polygons is not None:
        hit = _by_polygon(polygons, lat, lon)
        if hit is not None:
            return WardHit(hit.code, province_code, hit.name, 0.0)
        if polygons.complete:
            return None
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
