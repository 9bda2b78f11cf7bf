"""Point → ward with boundary polygons loaded by an administrator."""
import pytest
from sqlalchemy import text

from api.db import db
from api.reference import loaders
from api.reference.geo import forget_polygons, locate_ward

# Two made-up squares in Bắc Ninh sharing the edge lon = 106.10.
WEST = [[106.05, 21.15], [106.10, 21.15], [106.10, 21.20], [106.05, 21.20], [106.05, 21.15]]
EAST = [[106.10, 21.15], [106.15, 21.15], [106.15, 21.20], [106.10, 21.20], [106.10, 21.15]]


@pytest.fixture()
def session(app, db_session):
    with app.app_context():
        forget_polygons()
        yield db.session
        forget_polygons()


def _two_wards(session):
    codes = session.execute(text("SELECT code FROM ward WHERE province_code = '24' ORDER BY code"
                                 " LIMIT 2")).scalars().all()
    loaders.load_boundaries(session, {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": codes[1]},
         "geometry": {"type": "Polygon", "coordinates": [WEST]}},
        {"type": "Feature", "properties": {"code": codes[0]},
         "geometry": {"type": "Polygon", "coordinates": [EAST]}}]})
    return codes


def test_polygon_beats_the_nearest_centroid(session):
    low, high = _two_wards(session)
    assert locate_ward(session, 21.17, 106.07, "24").code == high
    assert locate_ward(session, 21.17, 106.13, "24").code == low


def test_point_on_a_shared_edge_is_stable(session):
    low, _high = _two_wards(session)
    assert locate_ward(session, 21.17, 106.10, "24").code == low
    assert locate_ward(session, 21.15, 106.10, "24").code == low  # a shared corner too


def test_partial_polygons_fall_back_to_centroids(session):
    _two_wards(session)
    hit = locate_ward(session, 21.2849, 106.215, "24")  # Phường Bắc Giang's centroid
    assert hit is not None and hit.code == "07210"


def test_complete_polygons_make_uncovered_points_outside(session):
    low, high = _two_wards(session)
    session.execute(text("UPDATE ward SET boundary = '{\"type\": \"Polygon\", \"coordinates\":"
                         " [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0]]]}'::jsonb"
                         " WHERE province_code = '24' AND code NOT IN (:a, :b)"), {"a": low, "b": high})
    forget_polygons()
    assert locate_ward(session, 21.2849, 106.215, "24") is None
    assert locate_ward(session, 21.17, 106.07, "24").code == high


@pytest.mark.parametrize("feature,problem", [
    ({"type": "Feature", "properties": {"code": "99999"},
      "geometry": {"type": "Polygon", "coordinates": [WEST]}}, "unknown ward"),
    ({"type": "Feature", "properties": {"code": "07210"},
      "geometry": {"type": "Point", "coordinates": [106.1, 21.1]}}, "Polygon"),
])
def test_bad_boundary_files_change_nothing(session, feature, problem):
    with pytest.raises(ValueError, match=problem):
        loaders.load_boundaries(session, {"type": "FeatureCollection", "features": [feature]})
