"""NUL characters never reach PostgreSQL (api/security/inputs.py)."""
from __future__ import annotations

from tests.api.helpers import upload


def _refused(r, field):
    assert r.status_code == 422, r.json
    assert r.json["code"] == "VALIDATION_ERROR"
    assert field in r.json["errors"], r.json


def test_nul_in_a_json_value(client, citizen):
    # Found by schemathesis: a 500 (psycopg2 ValueError) before the guard.
    r = client.post("/api/v1/me/devices", headers=citizen,
                    json={"token": "fcm-token-" + "\x00" * 20, "platform": "ios"})
    _refused(r, "token")


def test_nul_in_a_nested_json_key_and_value(client, citizen):
    r = client.post("/api/v1/reports", headers=citizen, json={
        "category": "streetlight_out", "description": "ok", "photo_ids": [],
        "attributes": {"pole\x00": "x", "ok": ["a", "b\x00"]}})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"attributes.pole\\x00", "attributes.ok.1"}


def test_nul_in_the_query_and_the_path(client):
    _refused(client.get("/api/v1/reports?status=open%00"), "status")
    _refused(client.get("/api/v1/reports/PA-2026%00"), "code")


def test_open311_answers_in_its_own_format(client):
    r = client.post("/open311/v2/requests.json", data={"service_code": "x\x00"})
    assert r.status_code == 400
    assert r.json[0]["code"] == 400 and r.json[0]["description"].startswith("VALIDATION_ERROR")


def test_uploaded_files_are_not_inspected(client, device):
    r = upload(client, device)  # a JPEG is full of NUL bytes
    assert r.status_code == 201, r.json


def test_ordinary_input_passes(client):
    assert client.get("/api/v1/reports?limit=5").status_code == 200
