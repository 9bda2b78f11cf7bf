"""Lists, map queries, nearby duplicates, following, my reports."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tests.api.helpers import BAC_GIANG, BAC_NINH, new_report


@pytest.fixture()
def three_reports(client, device):
    a = new_report(client, device)
    b = new_report(client, device, lat=BAC_NINH[0] + 0.001)  # ~110 m north
    c = new_report(client, device, category="pothole", lat=BAC_GIANG[0], lon=BAC_GIANG[1])
    return a, b, c


def codes(response):
    return [i["code"] for i in response.json["items"]]


def test_filters(client, three_reports):
    a, b, c = three_reports
    assert set(codes(client.get("/api/v1/reports?category=pothole"))) >= {c["code"]}
    assert c["code"] not in codes(client.get("/api/v1/reports?category=streetlight_out"))
    assert c["code"] in codes(client.get(f"/api/v1/reports?ward={c['ward']['code']}"))
    assert a["code"] in codes(client.get("/api/v1/reports?status=new"))
    r = client.get("/api/v1/reports?status=bogus")
    assert r.status_code == 400 and r.json["code"] == "INVALID_PARAMETER"


def test_near_and_bbox(client, three_reports):
    a, b, c = three_reports
    near = codes(client.get(f"/api/v1/reports?near={BAC_NINH[0]},{BAC_NINH[1]}&radius=500"))
    assert a["code"] in near and b["code"] in near and c["code"] not in near
    lat, lon = BAC_GIANG
    box = codes(client.get(f"/api/v1/reports?bbox={lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"))
    assert c["code"] in box and a["code"] not in box
    for bad in ("bbox=1,2,3", "near=abc", "bbox=10,10,0,0", "near=91,0"):
        r = client.get(f"/api/v1/reports?{bad}")
        assert r.status_code == 400, bad
        assert r.json["code"] == "INVALID_PARAMETER"


def test_cursor_pagination_visits_every_report_once(client, three_reports):
    seen, cursor = [], None
    while True:
        r = client.get("/api/v1/reports", query_string={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        seen += codes(r)
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert {x["code"] for x in three_reports} <= set(seen)
    assert client.get("/api/v1/reports?cursor=@@@").json["code"] == "INVALID_CURSOR"


def test_updated_since_runs_oldest_first(client, three_reports):
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    r = client.get("/api/v1/reports", query_string={"updated_since": since})
    stamps = [i["updated_at"] for i in r.json["items"]]
    assert stamps == sorted(stamps)
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/reports", query_string={"updated_since": future}).json["items"] == []


def test_geojson(client, three_reports):
    r = client.get("/api/v1/reports?format=geojson&category=pothole")
    assert r.status_code == 200
    fc = r.json
    assert fc["type"] == "FeatureCollection"
    feature = next(f for f in fc["features"] if f["id"] == three_reports[2]["code"])
    assert feature["geometry"]["coordinates"] == pytest.approx([BAC_GIANG[1], BAC_GIANG[0]])


def test_duplicates_within_250m(client, three_reports, db_session):
    a, b, c = three_reports
    r = client.get("/api/v1/reports/duplicates", query_string={
        "lat": BAC_NINH[0] + 0.0005, "lon": BAC_NINH[1], "category": "streetlight_out"})
    assert r.status_code == 200
    found = codes(r)
    assert a["code"] in found and b["code"] in found and c["code"] not in found
    distances = [i["distance_m"] for i in r.json["items"]]
    assert distances == sorted(distances) and distances[0] < 100
    # Closed or old reports are not offered.
    db_session.execute(text("UPDATE report SET status = 'closed' WHERE code = :c"), {"c": a["code"]})
    db_session.execute(text("UPDATE report SET created_at = now() - interval '31 days' WHERE code = :c"),
                       {"c": b["code"]})
    r = client.get("/api/v1/reports/duplicates", query_string={
        "lat": BAC_NINH[0], "lon": BAC_NINH[1], "category": "streetlight_out"})
    assert a["code"] not in codes(r) and b["code"] not in codes(r)


def test_duplicates_at_most_five(client, device):
    for i in range(7):
        new_report(client, device, lat=BAC_NINH[0] + i * 0.0001)
    r = client.get("/api/v1/reports/duplicates", query_string={
        "lat": BAC_NINH[0], "lon": BAC_NINH[1], "category": "streetlight_out"})
    assert len(r.json["items"]) == 5


def test_duplicates_needs_its_parameters(client):
    r = client.get("/api/v1/reports/duplicates?lat=21")
    assert r.status_code == 422
    assert {"lon", "category"} <= set(r.json["errors"])


def test_follow_and_my_reports(client, device, citizen):
    mine = new_report(client, citizen)
    theirs = new_report(client, device, lat=BAC_NINH[0] + 0.002)
    r = client.post(f"/api/v1/reports/{theirs['code']}/follow", headers=citizen)
    assert r.status_code == 200 and r.json["following"] is True
    assert client.post(f"/api/v1/reports/{theirs['code']}/follow", headers=citizen).status_code == 200

    own = codes(client.get("/api/v1/me/reports", headers=citizen))
    assert own == [mine["code"]]
    both = codes(client.get("/api/v1/me/reports?include_followed=true", headers=citizen))
    assert set(both) == {mine["code"], theirs["code"]}

    r = client.delete(f"/api/v1/reports/{theirs['code']}/follow", headers=citizen)
    assert r.json["following"] is False
    assert codes(client.get("/api/v1/me/reports?include_followed=true", headers=citizen)) == [mine["code"]]


def test_follow_needs_identity_and_a_real_report(client, citizen):
    assert client.post("/api/v1/reports/PA-2026-000001/follow").status_code == 401
    r = client.post("/api/v1/reports/PA-1999-000001/follow", headers=citizen)
    assert r.status_code == 404
