"""A citizen's copy of their data and its erasure (GET / DELETE /api/v1/me/data)."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from api.identity.models import Citizen
from api.ioc.models import ReportRating
from api.notify.models import Device, Notification
from api.photos.models import Photo
from api.privacy.models import AuditLog
from api.reports.models import IdempotencyKey, Report, ReportEvent, ReportFollower
from api.routing.geocode import AddressLookup
from api.routing.service import route_report
from tests.api.helpers import new_report, run_publishing, upload

URL = "/api/v1/me/data"
MY_NAME, MY_PHONE = "Nguyễn Văn An", "0912 345 678"
THEIR_NAME, THEIR_PHONE = "Trần Thị Bình", "0987 654 321"


def _token() -> str:
    return f"fcm-privacy-{'x' * 60}{uuid.uuid4().hex}"


def _report_row(session, code) -> Report:
    return session.scalar(select(Report).where(Report.code == code)
                          .execution_options(populate_existing=True))


@pytest.fixture()
def me(citizen_token):
    return {"Authorization": f"Bearer {citizen_token(phone='+84912345678', name='An Nguyễn')}"}


@pytest.fixture()
def them(citizen_token):
    return {"Authorization": f"Bearer {citizen_token(phone='+84987654321', name='Bình Trần')}"}


@pytest.fixture()
def world(client, session, me, them, fcm):
    """I sent a report (with contact, a rating, a device, an inbox entry) and follow theirs;
    they sent one too and follow mine."""
    mine = new_report(client, me, contact={"name": MY_NAME, "phone": MY_PHONE},
                      description="Ổ gà lớn trước cổng trường tiểu học, xe máy dễ ngã.")
    theirs = new_report(client, them, contact={"name": THEIR_NAME, "phone": THEIR_PHONE},
                        lat=21.1871, description="Cây đổ chắn một nửa đường Lý Thái Tổ.")
    assert client.post(f"/api/v1/reports/{theirs['code']}/follow", headers=me).status_code == 200
    assert client.post(f"/api/v1/reports/{mine['code']}/follow", headers=them).status_code == 200
    token = _token()
    r = client.post("/api/v1/me/devices", headers=me,
                    json={"token": token, "platform": "android", "locale": "vi"})
    assert r.status_code == 201, r.json
    draft = upload(client, me, lat=21.19, lon=106.07)  # uploaded, never sent
    assert draft.status_code == 201
    row = _report_row(session, mine["code"])
    route_report(session, row.id, AddressLookup(None))
    session.flush()
    run_publishing(session, [row.id])  # the routing lands in my inbox
    session.execute(text("UPDATE report SET status = 'resolved', resolved_at = now() WHERE id = :id"),
                    {"id": row.id})
    r = client.post(f"/api/v1/reports/{mine['code']}/rating", headers=me,
                    json={"score": 2, "comment": "Gọi lại cho tôi theo số 0912 345 678."})
    assert r.status_code == 200, r.json
    return {"mine": mine, "theirs": theirs, "token": token, "draft": draft.json}


def test_export_holds_everything_of_mine_and_nothing_of_theirs(client, session, me, world):
    r = client.get(URL, headers=me)
    assert r.status_code == 200, r.json
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json
    assert doc["citizen"]["sign_in"] == "firebase"
    assert doc["citizen"]["phone"] == "+84912345678"
    assert doc["citizen"]["display_name"] == "An Nguyễn"
    assert doc["citizen"]["firebase_uid"]

    [report] = doc["reports"]
    assert report["code"] == world["mine"]["code"]
    assert report["contact"] == {"name": MY_NAME, "phone": MY_PHONE}
    assert report["description"].startswith("Ổ gà lớn")
    assert report["lat"] and report["lon"] and "attributes" in report
    assert report["photos"] and report["photos"][0]["url"].startswith("http://testserver/media/")
    assert report["photos"][0]["lat"] is not None
    assert [e["type"] for e in report["events"]][0] == "created"
    assert all(e["status_label"] is None or isinstance(e["status_label"], str)
               for e in report["events"])
    assert report["created_at"].endswith("+07:00")

    assert [p["id"] for p in doc["other_photos"]] == [world["draft"]["id"]]
    assert {f["code"] for f in doc["follows"]} == {world["mine"]["code"], world["theirs"]["code"]}
    [device] = doc["devices"]
    assert device["token_tail"] == world["token"][-6:] and device["platform"] == "android"
    assert doc["notifications"] and all(n["code"] == world["mine"]["code"]
                                        for n in doc["notifications"])
    assert doc["ratings"] == [{"code": world["mine"]["code"], "score": 2,
                               "comment": "Gọi lại cho tôi theo số 0912 345 678.",
                               "created_at": doc["ratings"][0]["created_at"]}]

    body = r.get_data(as_text=True)
    assert world["token"] not in body  # only its tail
    for other in (THEIR_NAME, THEIR_PHONE, "+84987654321", "Bình Trần", "Cây đổ"):
        assert other not in body

    row = session.scalar(select(AuditLog).where(AuditLog.action == "citizen.data.exported")
                         .order_by(AuditLog.id.desc()).limit(1))
    assert row.citizen_id == doc["citizen"]["id"]
    assert (row.actor_kind, row.actor_id) == ("citizen", doc["citizen"]["id"])


def test_export_of_an_anonymous_device(client, device):
    new_report(client, device)
    doc = client.get(URL, headers=device).json
    assert doc["citizen"]["sign_in"] == "device"
    assert doc["citizen"]["device_id_tail"] == device["X-Device-Id"][-6:]
    assert doc["citizen"]["firebase_uid"] is None and doc["citizen"]["phone"] is None
    assert len(doc["reports"]) == 1 and doc["reports"][0]["contact"] == {"name": None, "phone": None}
    assert device["X-Device-Id"] not in json.dumps(doc)


def test_both_need_a_caller(client):
    for method in ("get", "delete"):
        r = getattr(client, method)(URL)
        assert r.status_code == 401 and r.json["code"] == "UNAUTHENTICATED"


def test_a_staff_token_is_refused(client):
    from tests.api.helpers import staff_headers
    r = client.delete(URL, headers=staff_headers(client, "admin@bacninh-ioc.test"))
    assert r.status_code == 403 and r.json["code"] == "CITIZEN_ONLY"


def test_erasure_removes_me_and_keeps_the_reports(client, session, me, them, world):
    before = client.get(URL, headers=me).json
    my_id, code = before["citizen"]["id"], world["mine"]["code"]
    report_id = _report_row(session, code).id
    principal = session.get(Citizen, my_id).principal

    r = client.delete(URL, headers=me)
    assert r.status_code == 204 and r.data == b""

    session.expire_all()
    row = session.get(Citizen, my_id)
    assert row is not None and row.principal.startswith("erased:") and row.principal != principal
    assert (row.phone, row.display_name, row.firebase_uid) == (None, None, None)
    for model in (Device, Notification, ReportFollower):
        assert not session.scalars(select(model).where(model.citizen_id == my_id)).all(), model
    assert not session.scalars(select(IdempotencyKey).where(IdempotencyKey.principal == principal)).all()
    assert session.get(Photo, uuid.UUID(world["draft"]["id"])) is None  # the never-sent upload

    report = _report_row(session, code)
    anon = session.scalar(select(Citizen).where(Citizen.principal == "anon:retention"))
    assert report is not None and report.description.startswith("Ổ gà lớn")
    assert (report.contact_name, report.contact_phone) == (None, None)
    assert report.anonymised_at is not None and report.citizen_id == anon.id
    assert all(p.citizen_id is None for p in report.photos)
    rating = session.get(ReportRating, report_id)
    assert rating.score == 2 and rating.comment is None and rating.citizen_id == anon.id
    events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id,
                                                       ReportEvent.actor_kind == "citizen")).all()
    assert events and all(e.actor_id is None for e in events)

    # Their follow of my report and their own report are untouched.
    theirs = _report_row(session, world["theirs"]["code"])
    assert theirs.contact_name == THEIR_NAME and theirs.anonymised_at is None
    assert session.scalar(select(ReportFollower).where(ReportFollower.report_id == report_id,
                                                       ReportFollower.citizen_id != anon.id))

    audit = session.scalar(select(AuditLog).where(AuditLog.action == "citizen.data.deleted",
                                                  AuditLog.citizen_id == my_id))
    assert audit.detail["reports"] == 1 and audit.detail["devices"] == 1
    assert audit.detail["photos_deleted"] == 1

    # The public view is as it always was: no contact; the report is still there.
    public = client.get(f"/api/v1/reports/{code}")
    assert public.status_code == 200 and "contact" not in public.json
    assert MY_NAME not in public.get_data(as_text=True) and MY_PHONE not in public.get_data(as_text=True)

    # The same Firebase account signing in again starts empty: nothing of before.
    again = client.get(URL, headers=me)
    assert again.status_code == 200
    doc = again.json
    assert doc["citizen"]["id"] != my_id
    assert not any(doc[k] for k in ("reports", "other_photos", "follows", "devices",
                                    "notifications", "ratings"))
    text_after = again.get_data(as_text=True)
    for personal in (MY_NAME, MY_PHONE, world["token"][-6:], code):
        assert personal not in text_after
    # And the old report can no longer be acted on by them.
    r = client.post(f"/api/v1/reports/{code}/dispute", headers=me, json={"reason": "Chưa sửa."})
    assert r.status_code == 403 and r.json["code"] == "NOT_REPORTER"


def test_erasure_is_idempotent(client, session, device):
    new_report(client, device, contact={"name": MY_NAME, "phone": MY_PHONE})
    assert client.delete(URL, headers=device).status_code == 204
    assert client.delete(URL, headers=device).status_code == 204
    doc = client.get(URL, headers=device).json
    assert doc["reports"] == [] and doc["citizen"]["phone"] is None
    erased = session.scalars(select(AuditLog).where(AuditLog.action == "citizen.data.deleted")
                             .order_by(AuditLog.id)).all()
    assert [a.detail["reports"] for a in erased[-2:]] == [1, 0]
    assert session.scalar(select(Report).where(Report.contact_name == MY_NAME)) is None
