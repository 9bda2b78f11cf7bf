"""GeoReport v2 conformance, both formats, through HTTP: every method, defaults, every error."""
from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from tests.api.helpers import BAC_NINH, PARIS, new_report
from tests.fixtures.make_images import make_jpeg

BASE = "/open311/v2"
FORMATS = ("json", "xml")
REQUEST_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url")
PLUS7 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


def form(api_key, **overrides):
    data = {"api_key": api_key, "service_code": "noise", "lat": str(BAC_NINH[0]),
            "long": str(BAC_NINH[1]), "description": "Karaoke ồn ào sau 23 giờ ở ngõ 5.",
            "email": "partner-user@example.vn", "first_name": "Lan", "last_name": "Nguyễn",
            "attribute[source]": "karaoke_speaker"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data, fmt="json", **kwargs):
    return client.post(f"{BASE}/requests.{fmt}", data=data, **kwargs)


def errors_of(response, fmt):
    """The spec's error list, read from either format: [(code, description)]."""
    if fmt == "json":
        assert response.content_type.startswith("application/json")
        return [(e["code"], e["description"]) for e in response.json]
    root = ET.fromstring(response.data)
    assert root.tag == "errors"
    assert all(child.tag == "error" for child in root)
    return [(int(e.findtext("code")), e.findtext("description")) for e in root]


def assert_error(response, fmt, status, machine_code):
    assert response.status_code == status, response.data
    found = errors_of(response, fmt)
    assert found and all(code == status for code, _ in found)
    assert any(d.startswith(f"{machine_code}:") for _, d in found), found


def requests_of(response, fmt) -> list[dict]:
    assert response.status_code == 200, response.data
    if fmt == "json":
        assert isinstance(response.json, list)
        return response.json
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests"
    assert all(child.tag == "request" for child in root)
    return [{field.tag: field.text for field in item} for item in root]


def created_id(client, api_key, fmt="json", **overrides) -> str:
    r = post(client, form(api_key, **overrides), fmt)
    return requests_of(r, fmt)[0]["service_request_id"]


# --- discovery and services -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, fmt):
    r = client.get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        body = r.json
        assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert {"text/xml", "application/json"} == set(body["endpoints"][0]["formats"])
        assert {"page", "extensions", "servicerequestupdates", "updated_after"} <= {
            e["name"] for e in body["extensions"]}
    else:
        root = ET.fromstring(r.data)
        assert root.tag == "discovery"
        endpoint = root.find("endpoints/endpoint")
        assert endpoint.findtext("url") == "http://testserver/open311/v2"
        assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services(client, fmt):
    r = client.get(f"{BASE}/services.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        services = {s["service_code"]: s for s in r.json}
    else:
        root = ET.fromstring(r.data)
        assert root.tag == "services" and {c.tag for c in root} == {"service"}
        services = {s.findtext("service_code"): {f.tag: f.text for f in s} for s in root}
    noise = services["noise"]
    assert set(noise) == {"service_code", "service_name", "description", "metadata", "type",
                          "keywords", "group"}
    assert noise["service_name"] == "Tiếng ồn gây ảnh hưởng"
    assert noise["type"] == "realtime"
    assert noise["metadata"] in (True, "true")
    assert "karaoke" in noise["keywords"]
    assert services["sidewalk_damaged"]["metadata"] in (False, "false")


def test_services_in_english(client):
    by_code = {s["service_code"]: s for s in client.get(f"{BASE}/services.json?lang=en").json}
    assert by_code["noise"]["service_name"] == "Noise nuisance"
    by_code = {s["service_code"]: s for s in client.get(f"{BASE}/services.json?locale=en_US").json}
    assert by_code["noise"]["service_name"] == "Noise nuisance"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(client, fmt):
    r = client.get(f"{BASE}/services/power_line_hazard.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        body = r.json
        assert body["service_code"] == "power_line_hazard"
        first = body["attributes"][0]
        values = first["values"]
    else:
        root = ET.fromstring(r.data)
        assert root.tag == "service_definition"
        assert root.findtext("service_code") == "power_line_hazard"
        element = root.find("attributes/attribute")
        assert {c.tag for c in root.find("attributes")} == {"attribute"}
        first = {c.tag: c.text for c in element}
        values = [{v.tag: v.text for v in value} for value in element.findall("values/value")]
    assert {"variable", "code", "datatype", "required", "datatype_description", "order",
            "description", "values"} <= set(first)
    assert first["code"] == "situation" and first["datatype"] == "multivaluelist"
    assert first["variable"] in (True, "true") and first["required"] in (False, "false")
    assert {"key": "down", "name": "Dây đứt rơi xuống"} in values


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_code(client, fmt):
    assert_error(client.get(f"{BASE}/services/no_such_thing.{fmt}"), fmt, 404,
                 "UNKNOWN_SERVICE_CODE")


# --- creating -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_create_then_read(client, api_key, fmt):
    r = post(client, form(api_key, **{"attribute[source]": "workshop"}), fmt)
    created = requests_of(r, fmt)[0]
    code = created["service_request_id"]
    assert re.match(r"^PA-\d{4}-\d{6}$", code)
    assert code in created["service_notice"]

    item = requests_of(client.get(f"{BASE}/requests/{code}.{fmt}"), fmt)[0]
    assert set(REQUEST_FIELDS) <= set(item)
    assert item["service_request_id"] == code
    assert item["status"] == "open"
    assert item["status_notes"] == "Mới tiếp nhận"
    assert item["service_code"] == "noise"
    assert item["service_name"] == "Tiếng ồn gây ảnh hưởng"
    assert float(item["lat"]) == BAC_NINH[0] and float(item["long"]) == BAC_NINH[1]
    for stamp in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert PLUS7.match(item[stamp]), (stamp, item[stamp])
    assert item["expected_datetime"] > item["requested_datetime"]
    assert "partner-user" not in json.dumps(item)  # no reporter data in the public view


def test_open311_request_is_a_report_and_back(client, api_key, device):
    code = created_id(client, api_key)
    report = client.get(f"/api/v1/reports/{code}").json
    assert report["category"]["code"] == "noise"
    assert report["attributes"] == {"source": "karaoke_speaker"}

    app_report = new_report(client, device)
    typed = app_report["code"].replace("-", "").lower()  # any typed form is accepted
    item = requests_of(client.get(f"{BASE}/requests/{typed}.json"), "json")[0]
    assert item["service_request_id"] == app_report["code"]
    assert item["media_url"] == app_report["photos"][0]["url"]
    assert item["service_code"] == "streetlight_out"


def test_source_and_citizen(client, api_key, db_session):
    from sqlalchemy import text
    code = created_id(client, api_key, device_id="kiosk-0042", email=None)
    source, principal = db_session.execute(text(
        "SELECT r.source, c.principal FROM report r JOIN citizen c ON c.id = r.citizen_id "
        "WHERE r.code = :code"), {"code": code}).one()
    assert source == "open311"
    assert re.match(r"^o311:\d+:kiosk-0042$", principal)


def test_multivalue_attribute_and_media(client, api_key):
    data = form(api_key, service_code="power_line_hazard", **{"attribute[source]": None})
    data["attribute[situation][]"] = ["down", "sparking"]
    code = requests_of(post(client, data), "json")[0]["service_request_id"]
    assert client.get(f"/api/v1/reports/{code}").json["attributes"] == {
        "situation": ["down", "sparking"]}

    photo = make_jpeg(640, 480, lat=BAC_NINH[0], lon=BAC_NINH[1], content="flood")
    data = form(api_key, service_code="flooding", **{"attribute[source]": None,
                                                     "attribute[depth_cm]": "40"})
    data["media"] = (io.BytesIO(photo), "flood.jpg")
    r = post(client, data, content_type="multipart/form-data")
    item = requests_of(r, "json")[0]
    read = requests_of(client.get(f"{BASE}/requests/{item['service_request_id']}.json"), "json")[0]
    assert read["media_url"].startswith("http://testserver/media/")


def test_media_url_is_not_fetched(client, api_key):
    item = requests_of(post(client, form(api_key, media_url="http://10.0.0.1/x.jpg")), "json")[0]
    assert "media_url is not fetched" in item["service_notice"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_api_key_required(client, api_key, fmt):
    assert_error(post(client, form(None), fmt), fmt, 403, "API_KEY_REQUIRED")
    assert_error(post(client, form("not-a-key"), fmt), fmt, 403, "INVALID_API_KEY")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_code_on_create(client, api_key, fmt):
    assert_error(post(client, form(api_key, service_code="no_such"), fmt), fmt, 404,
                 "UNKNOWN_SERVICE_CODE")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("location, machine_code", [
    ({"lat": None, "long": None}, "LOCATION_REQUIRED"),
    ({"address_string": "12 Nguyễn Đăng Đạo, Bắc Ninh"}, "AMBIGUOUS_LOCATION"),
    ({"address_id": "A-1"}, "AMBIGUOUS_LOCATION"),
    ({"lat": None, "long": None, "address_string": "12 Nguyễn Đăng Đạo"}, "ADDRESS_NOT_GEOCODED"),
    ({"lat": None, "long": None, "address_id": "A-1"}, "ADDRESS_ID_UNSUPPORTED"),
    ({"long": None}, "INVALID_LOCATION"),
    ({"lat": "north"}, "INVALID_LOCATION"),
])
def test_location_forms(client, api_key, fmt, location, machine_code):
    assert_error(post(client, form(api_key, **location), fmt), fmt, 400, machine_code)


@pytest.mark.parametrize("fmt", FORMATS)
def test_outside_the_province(client, api_key, fmt):
    r = post(client, form(api_key, lat=str(PARIS[0]), long=str(PARIS[1])), fmt)
    assert_error(r, fmt, 400, "OUTSIDE_SERVICE_AREA")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("service_code, attributes, machine_code", [
    ("noise", {"attribute[colour]": "red"}, "UNKNOWN_ATTRIBUTE"),
    ("noise", {"attribute[source]": "volcano"}, "INVALID_ATTRIBUTE"),
    ("illegal_racing", {"attribute[source]": None, "attribute[observed_at]": "yesterday"},
     "INVALID_ATTRIBUTE"),
])
def test_bad_attributes(client, api_key, fmt, service_code, attributes, machine_code):
    r = post(client, form(api_key, service_code=service_code, **attributes), fmt)
    assert_error(r, fmt, 400, machine_code)
    if machine_code == "INVALID_ATTRIBUTE":
        assert any("attribute[" in d for _, d in errors_of(r, fmt))


def test_wrong_number_datatype(client, api_key):
    photo = make_jpeg(320, 240, lat=BAC_NINH[0], lon=BAC_NINH[1], content="flood")
    data = form(api_key, service_code="flooding", **{"attribute[source]": None,
                                                     "attribute[depth_cm]": "deep"})
    data["media"] = (io.BytesIO(photo), "flood.jpg")
    r = post(client, data, content_type="multipart/form-data")
    assert_error(r, "json", 400, "INVALID_ATTRIBUTE")
    assert "attribute[depth_cm]" in errors_of(r, "json")[0][1]


def test_photo_required_service_without_media(client, api_key):
    r = post(client, form(api_key, service_code="pothole", **{"attribute[source]": None}))
    assert_error(r, "json", 400, "PHOTO_REQUIRED")


def test_bad_phone_is_a_400(client, api_key):
    assert_error(post(client, form(api_key, phone="call me")), "json", 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("fmt", FORMATS)
def test_rate_limit(app, client, db_session, fmt):
    from api.db import db
    from api.open311.keys import create_key
    with app.app_context():
        session = db.Session()
        _row, raw = create_key(session, "tight partner", rate_limit_per_minute=2)
        session.commit()
        session.close()
    # Two calls a minute pass; a third is refused. A minute boundary can reset the window
    # once mid-test, so the refusal must come within two windows' worth of calls.
    statuses = []
    for _ in range(5):
        r = client.get(f"{BASE}/services.{fmt}?api_key={raw}")
        statuses.append(r.status_code)
        if r.status_code == 429:
            break
    assert statuses[:2] == [200, 200] and statuses[-1] == 429, statuses
    assert_error(r, fmt, 429, "RATE_LIMITED")
    assert int(r.headers["Retry-After"]) >= 1


# --- reading many -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_list_filters(client, api_key, fmt):
    first = created_id(client, api_key)
    second = created_id(client, api_key, service_code="power_line_hazard",
                        **{"attribute[source]": None})
    listed = [i["service_request_id"] for i in requests_of(client.get(f"{BASE}/requests.{fmt}"), fmt)]
    assert listed.index(second) < listed.index(first)  # newest first

    r = client.get(f"{BASE}/requests.{fmt}?service_code=power_line_hazard")
    assert {i["service_code"] for i in requests_of(r, fmt)} == {"power_line_hazard"}

    r = client.get(f"{BASE}/requests.{fmt}?service_request_id={first},PA-1999-000001,junk"
                   "&service_code=pothole&status=closed")  # the ids override the rest
    assert [i["service_request_id"] for i in requests_of(r, fmt)] == [first]

    assert first not in [i["service_request_id"] for i in requests_of(
        client.get(f"{BASE}/requests.{fmt}?status=closed"), fmt)]
    assert first in [i["service_request_id"] for i in requests_of(
        client.get(f"{BASE}/requests.{fmt}?status=open"), fmt)]


def test_default_window_is_90_days(client, api_key, db_session):
    from sqlalchemy import text
    old = created_id(client, api_key)
    recent = created_id(client, api_key)
    db_session.execute(text("UPDATE report SET created_at = now() - interval '91 days', "
                            "updated_at = now() - interval '91 days' WHERE code = :c"), {"c": old})
    listed = [i["service_request_id"] for i in client.get(f"{BASE}/requests.json").json]
    assert recent in listed and old not in listed
    start = (datetime.now(timezone.utc) - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = [i["service_request_id"] for i in
              client.get(f"{BASE}/requests.json?start_date={start}&end_date={end}").json]
    assert old in listed and recent not in listed
    # The sync extension looks at updates, not at the request window.
    listed = [i["service_request_id"] for i in
              client.get(f"{BASE}/requests.json?updated_after={start}").json]
    assert old in listed


def test_at_most_1000_by_default_and_pages(client, api_key, monkeypatch):
    from api.open311 import resources
    codes = [created_id(client, api_key) for _ in range(3)]
    monkeypatch.setattr(resources, "MAX_REQUESTS", 2)  # the cap, scaled down
    page1 = [i["service_request_id"] for i in client.get(f"{BASE}/requests.json").json]
    assert page1 == codes[::-1][:2]
    page2 = [i["service_request_id"] for i in client.get(f"{BASE}/requests.json?page=2").json]
    assert page2[0] == codes[0]
    one = client.get(f"{BASE}/requests.json?page_size=1&page=2").json
    assert [i["service_request_id"] for i in one] == [codes[1]]
    assert_error(client.get(f"{BASE}/requests.json?page_size=3"), "json", 400, "INVALID_PARAMETER")


def test_page_size_limit(client):
    assert client.get(f"{BASE}/requests.json?page_size=1000").status_code == 200
    assert_error(client.get(f"{BASE}/requests.json?page_size=1001"), "json", 400,
                 "INVALID_PARAMETER")
    assert_error(client.get(f"{BASE}/requests.xml?page=0"), "xml", 400, "INVALID_PARAMETER")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query, machine_code", [
    ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", "INVALID_DATE_RANGE"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", "DATE_RANGE_TOO_LONG"),
    ("start_date=yesterday", "INVALID_DATE"),
    ("end_date=2026-13-45", "INVALID_DATE"),
    ("updated_after=soon", "INVALID_DATE"),
    ("status=pending", "INVALID_PARAMETER"),
])
def test_list_errors(client, fmt, query, machine_code):
    assert_error(client.get(f"{BASE}/requests.{fmt}?{query}"), fmt, 400, machine_code)


def test_offsets_in_dates(client, api_key):
    code = created_id(client, api_key)
    now = datetime.now(timezone.utc)
    # A '+' left unencoded in the query arrives as a space: still read as an offset.
    start = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=7))).isoformat(
        timespec="seconds")
    r = client.get(f"{BASE}/requests.json?start_date={start}")
    assert code in [i["service_request_id"] for i in r.json]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request(client, fmt):
    assert_error(client.get(f"{BASE}/requests/PA-1999-000001.{fmt}"), fmt, 404, "REQUEST_NOT_FOUND")
    assert_error(client.get(f"{BASE}/requests/nonsense.{fmt}"), fmt, 404, "REQUEST_NOT_FOUND")


@pytest.mark.parametrize("path", ["requests", "services", "discovery", "requests/PA-2026-000001",
                                  "requests.csv", "services/noise", "nothing/here.json", ""])
def test_missing_or_unknown_suffix_is_404_json(client, path):
    r = client.get(f"{BASE}/{path}")
    assert r.status_code == 404
    assert r.content_type.startswith("application/json")
    assert r.json[0]["code"] == 404 and r.json[0]["description"]


# --- tokens, extensions, updates -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens(client, api_key, fmt):
    code = created_id(client, api_key)
    item = requests_of(client.get(f"{BASE}/tokens/{code}.{fmt}"), fmt)[0]
    assert item == {"service_request_id": code, "token": code}
    assert_error(client.get(f"{BASE}/tokens/abc123.{fmt}"), fmt, 404, "TOKEN_NOT_FOUND")


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions(client, api_key, fmt):
    code = created_id(client, api_key)
    r = client.get(f"{BASE}/requests/{code}.{fmt}?extensions=true")
    if fmt == "json":
        item = r.json[0]
        ext, notes = item["extended_attributes"], item["notes"]
        assert ext["fine_status"] == "new" and ext["ward"]["code"]
        assert ext["duplicate_of"] is None and ext["photos"] == []
        assert notes[0]["type"] == "created" and notes[0]["status"] == "open"
        assert PLUS7.match(notes[0]["datetime"])
    else:
        element = ET.fromstring(r.data).find("request")
        assert element.findtext("extended_attributes/fine_status") == "new"
        assert element.find("extended_attributes/ward/code").text
        assert [n.findtext("type") for n in element.findall("notes/note")] == ["created"]
    plain = client.get(f"{BASE}/requests/{code}.json").json[0]
    assert "notes" not in plain and "extended_attributes" not in plain


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_updates(client, api_key, fmt):
    code = created_id(client, api_key)
    r = client.get(f"{BASE}/servicerequestupdates.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        updates = [u for u in r.json if u["service_request_id"] == code]
    else:
        root = ET.fromstring(r.data)
        assert root.tag == "service_request_updates" and {c.tag for c in root} <= {"request_update"}
        updates = [{f.tag: f.text for f in u} for u in root
                   if u.findtext("service_request_id") == code]
    assert len(updates) == 1
    assert updates[0]["status"] == "open" and updates[0]["fine_status"] == "new"
    assert PLUS7.match(updates[0]["updated_datetime"])
    assert_error(client.get(f"{BASE}/servicerequestupdates.{fmt}?start_date=x"), fmt, 400,
                 "INVALID_DATE")


# --- admin: keys ------------------------------------------------------------------------------------

def _staff(client, email):
    from tests.conftest import TEST_PASSWORD
    r = client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def test_admin_issues_and_revokes_keys(client, db_session):
    admin = _staff(client, "admin@bacninh-ioc.test")
    r = client.post("/api/v1/admin/open311-keys", headers=admin,
                    json={"name": "Tổng đài 1022", "rate_limit_per_minute": 30})
    assert r.status_code == 201, r.json
    key = r.json
    assert key["key"].startswith("o311_") and key["rate_limit_per_minute"] == 30
    listed = client.get("/api/v1/admin/open311-keys", headers=admin).json["items"]
    assert key["id"] in [k["id"] for k in listed] and all("key" not in k for k in listed)

    assert post(client, form(key["key"])).status_code == 200
    assert client.delete(f"/api/v1/admin/open311-keys/{key['id']}", headers=admin).status_code == 204
    assert_error(post(client, form(key["key"])), "json", 403, "INVALID_API_KEY")
    assert client.delete("/api/v1/admin/open311-keys/999999", headers=admin).status_code == 404


def test_only_admins_manage_keys(client, db_session):
    dispatcher = _staff(client, "dispatcher@bacninh-ioc.test")
    r = client.post("/api/v1/admin/open311-keys", headers=dispatcher, json={"name": "x"})
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    assert client.post("/api/v1/admin/open311-keys", json={"name": "x"}).status_code == 401


def test_ensure_demo_key_is_idempotent(app, db_session):
    from api.db import db
    from api.open311.keys import ensure_demo_key, find_active
    with app.app_context():
        session = db.Session()
        first = ensure_demo_key(session, "another-demo-key")
        assert ensure_demo_key(session, "another-demo-key").id == first.id
        assert find_active(session, "another-demo-key").id == first.id
        assert first.key_hash != "another-demo-key"
        session.rollback()
        session.close()
