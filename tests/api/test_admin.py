"""Admin API: routing rules and calendar exceptions, guarded by role."""
import pytest

from tests.conftest import TEST_PASSWORD


def _token(client, email):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {r.json['access_token']}"}


@pytest.fixture()
def admin(client):
    return _token(client, "admin@bacninh-ioc.test")


@pytest.fixture()
def officer(client):
    return _token(client, "officer.sxd@bacninh-ioc.test")


def test_create_list_and_retire_a_rule(client, admin):
    r = client.post("/api/v1/admin/routing-rules", headers=admin,
                    json={"category": "pothole", "ward": "07210", "unit": "SXD", "priority": 3})
    assert r.status_code == 201, r.json
    rule = r.json
    assert (rule["category"], rule["ward"], rule["unit"], rule["priority"]) == ("pothole", "07210", "SXD", 3)
    listed = client.get("/api/v1/admin/routing-rules", headers=admin).json["items"]
    assert rule["id"] in [x["id"] for x in listed]
    assert client.delete(f"/api/v1/admin/routing-rules/{rule['id']}", headers=admin).status_code == 204
    listed = client.get("/api/v1/admin/routing-rules", headers=admin).json["items"]
    assert rule["id"] not in [x["id"] for x in listed]


@pytest.mark.parametrize("body,code", [
    ({"unit": "SXD"}, "VALIDATION_ERROR"),
    ({"category": "pothole", "group": "transport", "unit": "SXD"}, "VALIDATION_ERROR"),
    ({"category": "nope", "ward": "99999", "unit": "NOPE"}, "UNKNOWN_REFERENCE"),
])
def test_bad_rules(client, admin, body, code):
    r = client.post("/api/v1/admin/routing-rules", headers=admin, json=body)
    assert r.status_code == 422 and r.json["code"] == code


def test_unknown_reference_lists_every_problem(client, admin):
    r = client.post("/api/v1/admin/routing-rules", headers=admin,
                    json={"category": "nope", "ward": "99999", "unit": "NOPE"})
    assert set(r.json["errors"]) == {"category", "ward", "unit"}


def test_roles(client, officer, citizen):
    body = {"category": "pothole", "unit": "SXD"}
    assert client.post("/api/v1/admin/routing-rules", json=body).status_code == 401
    assert client.post("/api/v1/admin/routing-rules", json={"bad": 1}).status_code == 401
    r = client.post("/api/v1/admin/routing-rules", headers=officer, json=body)
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    r = client.post("/api/v1/admin/routing-rules", headers=citizen, json=body)
    assert r.status_code == 403 and r.json["code"] == "STAFF_ONLY"
    dispatcher = _token(client, "dispatcher@bacninh-ioc.test")
    assert client.get("/api/v1/admin/routing-rules", headers=dispatcher).status_code == 200
    assert client.post("/api/v1/admin/routing-rules", headers=dispatcher, json=body).status_code == 403


def test_calendar_exceptions(client, admin):
    r = client.post("/api/v1/admin/calendar-exceptions", headers=admin,
                    json={"day": "2026-01-10", "kind": "working_day", "name": "Làm bù ngày 2/1"})
    assert r.status_code == 201, r.json
    again = client.post("/api/v1/admin/calendar-exceptions", headers=admin,
                        json={"day": "2026-01-10", "kind": "working_day"})
    assert again.status_code == 409 and again.json["code"] == "ALREADY_EXISTS"
    weekday = client.post("/api/v1/admin/calendar-exceptions", headers=admin,
                          json={"day": "2026-01-07", "kind": "working_day"})
    assert weekday.status_code == 422
    listed = client.get("/api/v1/admin/calendar-exceptions?year=2026", headers=admin).json["items"]
    assert [x["day"] for x in listed] == ["2026-01-10"]
    assert client.delete(f"/api/v1/admin/calendar-exceptions/{r.json['id']}",
                         headers=admin).status_code == 204
    assert client.delete(f"/api/v1/admin/calendar-exceptions/{r.json['id']}",
                         headers=admin).status_code == 404
