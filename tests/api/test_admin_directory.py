"""Admins manage staff accounts and roles, units and categories."""
from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import staff_headers


@pytest.fixture()
def admin(client):
    return staff_headers(client, "admin@bacninh-ioc.test")


def test_admin_creates_an_officer_who_can_sign_in_then_deactivates_them(client, admin):
    units = client.get("/api/v1/admin/units", headers=admin).json["items"]
    unit = next(u for u in units if u["kind"] == "department")
    email = f"new.officer.{uuid.uuid4().hex[:6]}@bacninh-ioc.test"
    r = client.post("/api/v1/admin/staff", headers=admin, json={
        "email": email, "full_name": "Trần Thị B", "role": "officer", "unit_code": unit["code"],
        "password": "Mot-Mat-Khau-Dai-1"})
    assert r.status_code == 201 and r.json["unit_code"] == unit["code"] and "password" not in r.json
    assert client.post("/api/v1/admin/staff", headers=admin, json={
        "email": email.upper(), "full_name": "X", "role": "officer", "unit_code": unit["code"],
        "password": "Mot-Mat-Khau-Dai-1"}).json["code"] == "ALREADY_EXISTS"
    login = client.post("/api/v1/auth/login", json={"email": email, "password": "Mot-Mat-Khau-Dai-1"})
    assert login.status_code == 200 and login.json["role"] == "officer"
    r = client.patch(f"/api/v1/admin/staff/{r.json['id']}", headers=admin, json={"active": False})
    assert r.status_code == 200 and r.json["active"] is False
    login = client.post("/api/v1/auth/login", json={"email": email, "password": "Mot-Mat-Khau-Dai-1"})
    assert login.status_code == 401
    listed = client.get(f"/api/v1/admin/staff?unit_code={unit['code']}", headers=admin).json["items"]
    assert email in [s["email"] for s in listed]


def test_staff_accounts_are_checked(client, admin):
    base = {"email": "x.y@bacninh-ioc.test", "full_name": "X", "password": "Mot-Mat-Khau-Dai-1"}
    r = client.post("/api/v1/admin/staff", headers=admin, json=base | {"role": "officer"})
    assert r.status_code == 422 and "unit_code" in r.json["errors"]
    r = client.post("/api/v1/admin/staff", headers=admin, json=base | {"role": "boss"})
    assert r.status_code == 422
    r = client.post("/api/v1/admin/staff", headers=admin, json=base | {"role": "dispatcher",
                                                                       "password": "short"})
    assert r.status_code == 422
    r = client.post("/api/v1/admin/staff", headers=admin, json=base | {
        "role": "officer", "unit_code": "NOPE"})
    assert r.status_code == 422 and r.json["code"] == "UNKNOWN_REFERENCE"
    assert client.patch("/api/v1/admin/staff/999999", headers=admin, json={}).status_code == 404
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    assert client.get("/api/v1/admin/staff", headers=dispatcher).status_code == 403


def test_units_and_categories_are_managed_and_deactivated_not_deleted(client, admin):
    r = client.post("/api/v1/admin/units", headers=admin, json={
        "code": "CTY-CAPNUOC", "kind": "utility", "name_vi": "Công ty Cấp nước Bắc Ninh",
        "name_en": "Bac Ninh Water Supply Company"})
    assert r.status_code == 201
    assert client.post("/api/v1/admin/units", headers=admin, json={
        "code": "CTY-CAPNUOC", "kind": "utility", "name_vi": "x", "name_en": "x"}).status_code == 409
    r = client.patch("/api/v1/admin/units/CTY-CAPNUOC", headers=admin, json={"phone": "02223 888 999"})
    assert r.json["phone"] == "02223 888 999"
    groups = client.get("/api/v1/categories").json
    group = groups["groups"][0]["code"] if "groups" in groups else "lighting"
    r = client.post("/api/v1/admin/categories", headers=admin, json={
        "code": "water_leak", "group": group, "name_vi": "Vỡ đường ống nước",
        "name_en": "Water main leak", "keywords": ["vỡ ống nước", "rò rỉ nước"],
        "sla_class": "fix_now", "default_level": "province", "default_unit_code": "CTY-CAPNUOC"})
    assert r.status_code == 201, r.json
    public = client.get("/api/v1/categories").json
    assert "water_leak" in str(public)
    r = client.patch("/api/v1/admin/categories/water_leak", headers=admin, json={"active": False})
    assert r.json["active"] is False
    assert "water_leak" not in str(client.get("/api/v1/categories").json)
    assert client.patch("/api/v1/admin/categories/nope", headers=admin,
                        json={"active": False}).status_code == 404
