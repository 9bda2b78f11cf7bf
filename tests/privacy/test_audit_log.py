"""GET /api/v1/admin/audit-log: admins only, filters, keyset pages newest first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import select

from api.identity.models import StaffUser
from api.privacy.models import AuditLog
from api.reports.models import Report
from tests.api.helpers import new_report, staff_headers

URL = "/api/v1/admin/audit-log"
T0 = datetime(2031, 5, 1, 8, 0, tzinfo=timezone.utc)  # after anything else in the table


def _q(value: datetime) -> str:
    return quote(value.isoformat())


@pytest.fixture()
def admin(client):
    return staff_headers(client, "admin@bacninh-ioc.test")


@pytest.fixture()
def logged(client, session, device):
    """Five rows an hour apart (newest: T0 + 4h) about one report, by two dispatchers."""
    code = new_report(client, device)["code"]
    report = session.scalar(select(Report).where(Report.code == code))
    staff = session.scalars(select(StaffUser).where(StaffUser.role == "dispatcher")
                            .order_by(StaffUser.id).limit(1)).all()
    first = staff[0]
    rows = []
    for i in range(5):
        action = "report.contact.viewed" if i % 2 == 0 else "citizen.data.exported"
        row = AuditLog(at=T0 + timedelta(hours=i), actor_kind="staff" if i % 2 == 0 else "citizen",
                       actor_id=first.id if i % 2 == 0 else report.citizen_id, action=action,
                       report_id=report.id if i % 2 == 0 else None,
                       citizen_id=report.citizen_id, ip="203.0.113.7", detail={"n": i})
        session.add(row)
        rows.append(row)
    session.flush()
    return {"code": code, "report": report, "staff": first, "ids": [r.id for r in rows]}


def test_only_admins(client, citizen):
    assert client.get(URL).status_code == 401
    assert client.get(URL).json["code"] == "UNAUTHENTICATED"
    r = client.get(URL, headers=staff_headers(client, "dispatcher@bacninh-ioc.test"))
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    r = client.get(URL, headers=citizen)
    assert r.status_code == 403 and r.json["code"] == "STAFF_ONLY"
    assert client.get(URL, headers=staff_headers(client, "admin@bacninh-ioc.test")).status_code == 200


def test_newest_first_in_keyset_pages(client, admin, logged):
    seen, cursor = [], None
    while True:
        path = f"{URL}?from={_q(T0)}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(path, headers=admin).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(logged["ids"]))
    first = client.get(f"{URL}?from={_q(T0)}&limit=1", headers=admin).json["items"][0]
    assert first["at"] == (T0 + timedelta(hours=4)).astimezone(
        timezone(timedelta(hours=7))).isoformat()
    assert first["report_code"] == logged["code"] and first["actor_name"] == logged["staff"].full_name
    assert first["ip"] == "203.0.113.7" and first["detail"] == {"n": 4}


def test_filters(client, admin, logged):
    def ids(query):
        r = client.get(f"{URL}?{query}", headers=admin)
        assert r.status_code == 200, r.json
        return [i["id"] for i in r.json["items"]]

    all_ids = logged["ids"]
    assert ids(f"report={logged['code'].replace('-', '').lower()}") == all_ids[4::-2]
    assert ids(f"action=citizen.data.exported&from={_q(T0)}") == [all_ids[3], all_ids[1]]
    assert ids(f"actor_kind=staff&actor_id={logged['staff'].id}&from={_q(T0)}") == all_ids[4::-2]
    assert ids(f"citizen_id={logged['report'].citizen_id}&from={_q(T0)}") == all_ids[::-1]
    window = f"from={_q(T0 + timedelta(hours=1))}&to={_q(T0 + timedelta(hours=3))}"
    assert ids(window) == [all_ids[2], all_ids[1]]  # from inclusive, to exclusive
    assert ids(f"actor_id=999999&from={_q(T0)}") == []


def test_bad_parameters(client, admin):
    r = client.get(f"{URL}?report=PA-1999-000001", headers=admin)
    assert r.status_code == 404 and r.json["code"] == "REPORT_NOT_FOUND"
    r = client.get(f"{URL}?cursor=not-a-cursor", headers=admin)
    assert r.status_code == 400 and r.json["code"] == "INVALID_CURSOR"
    r = client.get(f"{URL}?from={_q(T0)}&to={_q(T0 - timedelta(days=1))}", headers=admin)
    assert r.status_code == 422 and r.json["code"] == "VALIDATION_ERROR"
    r = client.get(f"{URL}?from=2031-05-01T08:00:00", headers=admin)  # no offset
    assert r.status_code == 422


def test_a_citizens_export_and_erasure_show_up(client, admin, citizen):
    client.get("/api/v1/me/data", headers=citizen)
    client.delete("/api/v1/me/data", headers=citizen)
    items = client.get(f"{URL}?actor_kind=citizen&limit=2", headers=admin).json["items"]
    assert [i["action"] for i in items] == ["citizen.data.deleted", "citizen.data.exported"]
    assert items[0]["citizen_id"] == items[1]["citizen_id"] == items[0]["actor_id"]
    assert items[0]["actor_name"] is None
