"""A citizen's report from the phone to the database, through HTTP."""
import unicodedata
import uuid

import pytest
from sqlalchemy import text

from tests.api.helpers import (BAC_GIANG, BAC_NINH, HANOI, PARIS, new_report, report_body, submit,
                               upload)


def test_full_flow_photo_then_report(client, citizen, db_session):
    photo = upload(client, citizen)
    assert photo.status_code == 201, photo.json
    assert photo.json["lat"] == pytest.approx(BAC_NINH[0], abs=1e-4)

    r = submit(client, citizen, report_body([photo.json["id"]]))
    assert r.status_code == 201, r.json
    body = r.json
    assert body["code"].startswith("PA-") and len(body["code"]) == len("PA-2026-004512")
    assert body["status"] == "new"
    assert body["ward"]["code"]
    assert body["category"]["code"] == "streetlight_out"
    assert body["public_url"].endswith(f"/api/v1/reports/{body['code']}")
    assert r.headers["Location"] == body["public_url"]
    assert len(body["photos"]) == 1 and body["photos"][0]["url"].startswith("http://testserver/media/")

    # Stored with its event, its outbox row and the reporter as a follower, in one transaction.
    row = db_session.execute(text(
        "SELECT r.id, r.status, (SELECT count(*) FROM report_event e WHERE e.report_id = r.id),"
        " (SELECT count(*) FROM outbox o WHERE o.report_id = r.id AND o.topic = 'report.route'),"
        " (SELECT count(*) FROM report_follower f WHERE f.report_id = r.id)"
        " FROM report r WHERE r.code = :c"), {"c": body["code"]}).one()
    assert row[1:] == ("new", 1, 1, 1)


def test_public_view_has_no_personal_data(client, citizen_token):
    headers = {"Authorization": f"Bearer {citizen_token(phone='+84987654321', name='Nguyễn Văn A')}"}
    created = new_report(client, headers, contact={"name": "Nguyễn Văn A", "phone": "0987654321"})
    r = client.get(f"/api/v1/reports/{created['code']}")
    assert r.status_code == 200
    raw = r.data.decode()
    for secret in ("0987654321", "+84987654321", "Nguyễn Văn A", "contact", "citizen"):
        assert secret not in raw


def test_report_etag(client, device):
    created = new_report(client, device)
    r = client.get(f"/api/v1/reports/{created['code']}")
    etag = r.headers["ETag"]
    again = client.get(f"/api/v1/reports/{created['code']}", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{nodash}", "{spaced}"])
def test_code_typed_any_way(client, device, typed):
    code = new_report(client, device)["code"]
    year, number = code.split("-")[1:]
    variants = {"code": code, "lower": code.lower(), "nodash": f"pa{year}{number}",
                "spaced": f"PA {year} {number}"}
    r = client.get(f"/api/v1/reports/{typed.format(**variants)}")
    assert r.status_code == 200 and r.json["code"] == code


def test_unknown_code(client):
    for code in ("PA-2026-999999", "hello"):
        r = client.get(f"/api/v1/reports/{code}")
        assert r.status_code == 404
        assert r.json["code"] == "REPORT_NOT_FOUND"


def test_timeline(client, device):
    code = new_report(client, device)["code"]
    r = client.get(f"/api/v1/reports/{code}/events")
    assert r.status_code == 200
    assert [e["type"] for e in r.json["events"]] == ["created"]
    assert r.json["events"][0]["status"] == "new"


def test_location_from_photo_exif(client, device):
    photo = upload(client, device, lat=BAC_GIANG[0], lon=BAC_GIANG[1])
    body = report_body([photo.json["id"]], lat=..., lon=...)
    r = submit(client, device, body)
    assert r.status_code == 201, r.json
    assert r.json["lat"] == pytest.approx(BAC_GIANG[0], abs=1e-4)
    assert r.json["ward"]["code"] == "07210"  # Phường Bắc Giang


def test_no_location_anywhere(client, device):
    from tests.fixtures.make_images import make_jpeg
    photo = upload(client, device, make_jpeg(320, 240))
    r = submit(client, device, report_body([photo.json["id"]], lat=..., lon=...))
    assert r.status_code == 422
    assert r.json["code"] == "LOCATION_REQUIRED"


@pytest.mark.parametrize("point", [HANOI, PARIS, (0.0, 0.0)])
def test_outside_service_area(client, device, point):
    photo = upload(client, device)
    r = submit(client, device, report_body([photo.json["id"]], lat=point[0], lon=point[1]))
    assert r.status_code == 422
    assert r.json["code"] == "OUTSIDE_SERVICE_AREA"


def test_idempotent_retry_returns_same_report(client, device, db_session):
    photo = upload(client, device)
    body = report_body([photo.json["id"]])
    first = submit(client, device, body, key="retry-key-0001")
    second = submit(client, device, body, key="retry-key-0001")
    assert first.status_code == second.status_code == 201
    assert first.json["code"] == second.json["code"]
    assert second.json["replayed"] is True and first.json["replayed"] is False
    count = db_session.execute(text("SELECT count(*) FROM report WHERE code = :c"),
                               {"c": first.json["code"]}).scalar()
    assert count == 1


def test_idempotency_key_with_another_body(client, device):
    photo = upload(client, device)
    first = submit(client, device, report_body([photo.json["id"]]), key="retry-key-0002")
    assert first.status_code == 201
    other = submit(client, device, report_body([photo.json["id"]], description="Khác"),
                   key="retry-key-0002")
    assert other.status_code == 409
    assert other.json["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_same_key_different_people_do_not_collide(client, device):
    photo = upload(client, device)
    assert submit(client, device, report_body([photo.json["id"]]), key="shared-key-01").status_code == 201
    other = {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
    photo2 = upload(client, other)
    assert submit(client, other, report_body([photo2.json["id"]]), key="shared-key-01").status_code == 201


def test_nfd_text_is_stored_nfc(client, device):
    nfd = unicodedata.normalize("NFD", "Đèn đường hỏng ở phường Kinh Bắc")
    created = new_report(client, device, description=nfd)
    assert created["description"] == unicodedata.normalize("NFC", nfd)
    assert unicodedata.is_normalized("NFC", created["description"])


def test_description_limit_counts_nfc_characters(client, device):
    photo = upload(client, device)
    ok = "ệ" * 4000  # 4,000 characters NFC, 8,000 in NFD
    r = submit(client, device, report_body([photo.json["id"]],
                                           description=unicodedata.normalize("NFD", ok)))
    assert r.status_code == 201, r.json
    photo2 = upload(client, device, lat=21.18, lon=106.07)
    r = submit(client, device, report_body([photo2.json["id"]], description="a" * 4001))
    assert r.status_code == 422 and "description" in r.json["errors"]


@pytest.mark.parametrize("patch,field", [
    ({"category": ...}, "category"),
    ({"description": ...}, "description"),
    ({"description": "   "}, "description"),
    ({"lat": 91}, "lat"),
    ({"lon": -181}, "lon"),
    ({"lat": "abc"}, "lat"),
    ({"lat": 21.1, "lon": None}, "lat"),
    ({"photo_ids": ["not-a-uuid"]}, "photo_ids"),
    ({"contact": {"phone": "call me"}}, "contact"),
])
def test_shape_errors(client, device, patch, field):
    photo = upload(client, device)
    body = {k: v for k, v in {**report_body([photo.json["id"]]), **patch}.items() if v is not ...}
    r = submit(client, device, body)
    assert r.status_code == 422, r.json
    assert r.json["code"] == "VALIDATION_ERROR"
    assert field in r.json["errors"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_coordinates(client, device, literal):
    photo = upload(client, device)
    raw = ('{"category": "streetlight_out", "description": "x", "lat": %s, "lon": 106.07,'
           ' "photo_ids": ["%s"]}' % (literal, photo.json["id"]))
    r = client.post("/api/v1/reports", data=raw, content_type="application/json",
                    headers=dict(device, **{"Idempotency-Key": uuid.uuid4().hex}))
    assert r.status_code == 422
    assert "lat" in r.json["errors"]


def test_unknown_category(client, device):
    photo = upload(client, device)
    r = submit(client, device, report_body([photo.json["id"]], category="alien_invasion"))
    assert r.status_code == 422
    assert r.json["code"] == "UNKNOWN_CATEGORY"


def test_six_photos(client, device):
    ids = [upload(client, device, lat=21.18 + i / 1000).json["id"] for i in range(6)]
    r = submit(client, device, report_body(ids))
    assert r.status_code == 422
    assert r.json["code"] == "TOO_MANY_PHOTOS"


def test_photo_of_someone_else(client, device, citizen):
    theirs = upload(client, citizen)
    r = submit(client, device, report_body([theirs.json["id"]]))
    assert r.status_code == 422
    assert r.json["code"] == "PHOTO_NOT_FOUND"


def test_photo_used_twice(client, device):
    photo = upload(client, device)
    assert submit(client, device, report_body([photo.json["id"]])).status_code == 201
    r = submit(client, device, report_body([photo.json["id"]]))
    assert r.status_code == 422
    assert r.json["code"] == "PHOTO_ALREADY_USED"


def test_photo_required(client, device):
    r = submit(client, device, report_body([]))
    assert r.status_code == 422
    assert r.json["code"] == "PHOTO_REQUIRED"


def test_photo_not_required_for_noise(client, device):
    r = submit(client, device, report_body([], category="noise",
                                           description="Karaoke ồn ào sau 22 giờ."))
    assert r.status_code == 201, r.json


def test_many_problems_reported_at_once(client, device):
    r = submit(client, device, report_body([str(uuid.uuid4())], category="nope", lat=HANOI[0],
                                           lon=HANOI[1]))
    assert r.status_code == 422
    assert r.json["code"] == "VALIDATION_ERROR"
    assert {"category", "photo_ids"} <= set(r.json["errors"])


def test_attributes_are_checked(client, device):
    photo = upload(client, device)
    r = submit(client, device, report_body([photo.json["id"]], category="pothole",
                                           attributes={"size": "gigantic", "colour": "red"}))
    assert r.status_code == 422
    assert r.json["code"] == "INVALID_ATTRIBUTE"
    assert {"attributes.size", "attributes.colour"} == set(r.json["errors"])


def test_valid_attributes_are_kept(client, device):
    created = new_report(client, device, category="pothole", attributes={"count": "3"})
    assert created["attributes"] == {"count": 3}


def test_anonymous_refused_where_category_requires_sign_in(client, device, citizen, db_session):
    db_session.execute(text("UPDATE category SET anonymous_allowed = false WHERE code = 'noise'"))
    body = report_body([], category="noise", description="Ồn ào")
    r = submit(client, device, body)
    assert r.status_code == 401
    assert r.json["code"] == "AUTH_REQUIRED"
    assert submit(client, citizen, body).status_code == 201


def test_no_identity_no_report(client):
    r = client.post("/api/v1/reports", json=report_body([]))
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"


def test_bad_idempotency_key(client, device):
    r = submit(client, device, report_body([]), key="x")
    assert r.status_code == 400
    assert r.json["code"] == "INVALID_IDEMPOTENCY_KEY"


def test_nothing_half_written_on_failure(client, device, db_session):
    before = db_session.execute(text("SELECT count(*) FROM report")).scalar()
    photo = upload(client, device)
    r = submit(client, device, report_body([photo.json["id"]], lat=PARIS[0], lon=PARIS[1]),
               key="will-fail-0001")
    assert r.status_code == 422
    assert db_session.execute(text("SELECT count(*) FROM report")).scalar() == before
    assert db_session.execute(text(
        "SELECT count(*) FROM idempotency_key WHERE key = 'will-fail-0001'")).scalar() == 0
    assert db_session.execute(text("SELECT report_id FROM photo WHERE id = :id"),
                              {"id": photo.json["id"]}).scalar() is None


def test_times_are_vietnam_time_at_the_edge(client, device):
    created = new_report(client, device)
    assert created["created_at"].endswith("+07:00")
    from datetime import datetime, timezone
    stamp = datetime.fromisoformat(created["created_at"])
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 120
