"""Admin writes: places (with photos through the pipeline) and festivals."""
import io

import pytest

from tests.api.helpers import staff_headers
from tests.fixtures.make_images import make_jpeg

ADMIN = "admin@bacninh-ioc.test"


@pytest.fixture()
def admin(tclient):
    return staff_headers(tclient, ADMIN)


def new_place(**overrides):
    body = {"kind": "restaurant", "name_vi": "Quán Bánh Tẻ Thử Nghiệm", "name_en": "Test Rice Cake Shop",
            "aliases": ["Quán thử"], "lat": 21.2300, "lon": 106.0070,
            "description_vi": "Quán ăn dùng trong bài kiểm thử.",
            "opening_hours": {"weekly": {"sat": [["06:00", "10:00"], ["16:00", "21:00"]],
                                         "sun": [["06:00", "21:00"]]}},
            "tickets": [{"label_vi": "Suất ăn", "label_en": "Meal", "price_vnd": 30000}],
            "tags": ["food"], "unverified": ["tickets"]}
    body.update(overrides)
    return body


def test_create_search_and_correct_a_place(tclient, admin):
    resp = tclient.post("/api/v1/admin/places", json=new_place(), headers=admin)
    assert resp.status_code == 201, resp.json
    place = resp.json
    assert place["slug"] == "quan-banh-te-thu-nghiem" and place["ward_code"]   # found from lat/lon
    found = tclient.get("/api/v1/places", query_string={"q": "quan banh te thu nghiem"}).json
    assert found["items"][0]["id"] == place["id"]
    assert tclient.get("/api/v1/places", query_string={"q": "quan thu"}).json["items"][0]["id"] \
        == place["id"]

    patch = tclient.patch(f"/api/v1/admin/places/{place['id']}", headers=admin,
                          json={"tickets": [{"label_vi": "Suất ăn", "price_vnd": 35000}],
                                "name_vi": "Quán Bánh Tẻ Đã Sửa"})
    assert patch.status_code == 200, patch.json
    assert patch.json["unverified"] == []            # the corrected field is now verified
    assert patch.json["tickets"][0]["price_vnd"] == 35000
    assert patch.json["kind"] == "restaurant"        # untouched fields stay
    hits = tclient.get("/api/v1/places", query_string={"q": "banh te da sua"}).json["items"]
    assert hits[0]["id"] == place["id"]


def test_place_photos_go_through_the_pipeline(tclient, admin):
    pid = tclient.post("/api/v1/admin/places", json=new_place(), headers=admin).json["id"]
    jpeg = make_jpeg(640, 480, lat=21.23, lon=106.007, content="scene")
    resp = tclient.post(f"/api/v1/admin/places/{pid}/photos", headers=admin,
                        data={"file": (io.BytesIO(jpeg), "shop.jpg")},
                        content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    photo = resp.json
    assert photo["url"].endswith("_display.jpg") and photo["thumb_url"].endswith("_thumb.jpg")
    detail = tclient.get(f"/api/v1/places/{pid}").json
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]
    summary = tclient.get("/api/v1/places", query_string={"q": "quan banh te thu nghiem"}).json
    assert summary["items"][0]["thumb_url"] == photo["thumb_url"]
    gone = tclient.delete(f"/api/v1/admin/places/{pid}/photos/{photo['id']}", headers=admin)
    assert gone.status_code == 204
    assert tclient.get(f"/api/v1/places/{pid}").json["photos"] == []
    again = tclient.delete(f"/api/v1/admin/places/{pid}/photos/{photo['id']}", headers=admin)
    assert again.status_code == 404 and again.json["code"] == "PLACE_PHOTO_NOT_FOUND"
    bad = tclient.post(f"/api/v1/admin/places/{pid}/photos", headers=admin,
                       data={"file": (io.BytesIO(b"not an image"), "x.jpg")},
                       content_type="multipart/form-data")
    assert bad.status_code == 415 and bad.json["code"] == "PHOTO_UNSUPPORTED_TYPE"


def test_place_validation_collects_every_problem(tclient, admin):
    resp = tclient.post("/api/v1/admin/places", headers=admin, json=new_place(
        ward_code="99999", opening_hours={"weekly": {"mon": [["8h", "17h"]]}}))
    assert resp.status_code == 422 and resp.json["code"] == "VALIDATION_ERROR"
    assert set(resp.json["errors"]) == {"ward_code", "opening_hours.weekly.mon"}
    only_ward = tclient.post("/api/v1/admin/places", headers=admin, json=new_place(ward_code="99999"))
    assert only_ward.json["code"] == "UNKNOWN_REFERENCE"
    shape = tclient.post("/api/v1/admin/places", headers=admin, json={"kind": "casino"})
    assert shape.status_code == 422 and {"kind", "name_vi", "lat", "lon"} <= set(shape.json["errors"])
    first = tclient.post("/api/v1/admin/places", headers=admin, json=new_place(slug="my-shop"))
    assert first.status_code == 201
    clash = tclient.patch(f"/api/v1/admin/places/{first.json['id']}", headers=admin,
                          json={"slug": "chua-dau"})
    assert clash.status_code == 409 and clash.json["code"] == "ALREADY_EXISTS"
    again = tclient.post("/api/v1/admin/places", headers=admin, json=new_place(slug="my-shop"))
    assert again.status_code == 409 and again.json["code"] == "ALREADY_EXISTS"
    event = {"slug": "hoi-lim", "name_vi": "x", "calendar": "lunar", "month": 1, "day": 13}
    taken = tclient.post("/api/v1/admin/events", headers=admin, json=event)
    assert taken.status_code == 409 and taken.json["code"] == "ALREADY_EXISTS"


def test_admin_role_only_and_unknown_ids(tclient, admin):
    dispatcher = staff_headers(tclient, "dispatcher@bacninh-ioc.test")
    resp = tclient.post("/api/v1/admin/places", json=new_place(), headers=dispatcher)
    assert resp.status_code == 403 and resp.json["code"] == "FORBIDDEN"
    assert tclient.post("/api/v1/admin/places", json=new_place()).status_code == 401
    missing = tclient.patch("/api/v1/admin/places/999999", json={"phone": "1"}, headers=admin)
    assert missing.status_code == 404 and missing.json["code"] == "PLACE_NOT_FOUND"
    missing = tclient.patch("/api/v1/admin/events/999999", json={"day": 2}, headers=admin)
    assert missing.status_code == 404 and missing.json["code"] == "EVENT_NOT_FOUND"


def test_create_and_correct_a_lunar_festival(tclient, admin):
    pid = tclient.post("/api/v1/admin/places", json=new_place(), headers=admin).json["id"]
    body = {"name_vi": "Hội làng thử nghiệm", "name_en": "Test village festival",
            "calendar": "lunar", "month": 2, "day": 30, "place_id": pid,
            "unverified": ["date"]}
    resp = tclient.post("/api/v1/admin/events", json=body, headers=admin)
    assert resp.status_code == 201, resp.json
    event = resp.json
    assert event["ward_code"] and event["next"]
    events = tclient.get("/api/v1/events", query_string={"from": "2026-01-01", "to": "2026-12-31"}).json
    mine = [e for e in events["items"] if e["id"] == event["id"]]
    assert len(mine) == 1 and mine[0]["place"]["id"] == pid
    fixed = tclient.patch(f"/api/v1/admin/events/{event['id']}", headers=admin,
                          json={"calendar": "solar", "month": 9, "day": 2})
    assert fixed.status_code == 200 and fixed.json["unverified"] == []
    assert fixed.json["next"][0]["main_day"].endswith("-09-02")
    place_events = tclient.get(f"/api/v1/places/{pid}").json["events"]
    assert place_events[0]["main_day"].endswith("-09-02")


def test_event_validation(tclient, admin):
    for body, fields, code in [
        ({"name_vi": "x", "calendar": "solar", "month": 2, "day": 30}, {"day"}, "VALIDATION_ERROR"),
        ({"name_vi": "x", "calendar": "lunar", "month": 1, "day": 31}, {"day"}, "VALIDATION_ERROR"),
        ({"name_vi": "x", "calendar": "solar", "month": 1, "day": 1, "leap_month": True},
         {"leap_month"}, "VALIDATION_ERROR"),
        ({"name_vi": "x", "calendar": "lunar", "month": 1, "day": 1, "place_id": 999999},
         {"place_id"}, "UNKNOWN_REFERENCE"),
        ({"name_vi": "x", "calendar": "julian", "month": 13, "day": 1}, {"calendar", "month"},
         "VALIDATION_ERROR"),
    ]:
        resp = tclient.post("/api/v1/admin/events", json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.json)
        assert resp.json["code"] == code and fields <= set(resp.json["errors"]), resp.json
