"""The officer / dispatcher / citizen workflow through the API, with the SLA and the
audit log watching."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from api.identity.models import StaffUser
from api.ioc.models import ReportRating
from api.privacy.models import AuditLog
from api.reference.models import Unit
from api.reports.models import Report, ReportFollower
from api.sla.models import SlaClock
from tests.api.helpers import routed_report, BAC_NINH, new_report, staff_headers
from tests.fixtures.make_images import make_jpeg

BASE = "/api/v1/staff/reports"



@pytest.fixture()
def dispatcher(client):
    return staff_headers(client, "dispatcher@bacninh-ioc.test")




def _officer(client, report, role="officer"):
    prefix = "officer" if role == "officer" else "head"
    return staff_headers(client, f"{prefix}.{report.unit.code.lower()}@bacninh-ioc.test")


def _photo(client, headers, lat=BAC_NINH[0], lon=BAC_NINH[1], gps=True, seed="fix"):
    data = make_jpeg(640, 480, lat=lat if gps else None, lon=lon if gps else None, content=seed)
    r = client.post("/api/v1/staff/photos", headers=headers,
                    data={"file": (io.BytesIO(data), "fix.jpg")}, content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json["id"]


def _post(client, headers, code, action, **body):
    return client.post(f"{BASE}/{code}/{action}", headers=headers, json=body)


def test_the_unit_queue_puts_the_nearest_deadline_first(client, device, session):
    a = routed_report(client, device, session)
    b = routed_report(client, device, session, lat=21.1871)
    officer = _officer(client, a)
    session.execute(update(SlaClock).where(SlaClock.report_id == b.id, SlaClock.kind == "ACCEPT")
                    .values(due_at=datetime.now(timezone.utc) - timedelta(hours=1)))
    page = client.get(f"{BASE}/queue", headers=officer).json
    codes = [i["code"] for i in page["items"]]
    assert codes.index(b.code) < codes.index(a.code)
    first = next(i for i in page["items"] if i["code"] == b.code)
    assert first["sla_state"] == "overdue" and first["due_at"].endswith("+07:00")
    overdue = client.get(f"{BASE}/queue?overdue=true", headers=officer).json["items"]
    assert b.code in [i["code"] for i in overdue] and a.code not in [i["code"] for i in overdue]
    other = session.scalar(select(Unit).where(Unit.id != a.unit_id, Unit.kind != "ioc"))
    stranger = staff_headers(client, f"officer.{other.code.lower()}@bacninh-ioc.test")
    assert a.code not in [i["code"] for i in client.get(f"{BASE}/queue", headers=stranger).json["items"]]
    assert client.get(f"{BASE}/queue?limit=0", headers=officer).status_code == 422


def test_contact_is_for_dispatchers_only_and_each_look_is_audited(client, citizen, dispatcher, session):
    report = routed_report(client, citizen, session, contact={"name": "Nguyễn Văn A", "phone": "0912345678"})
    officer = _officer(client, report)
    seen = client.get(f"{BASE}/{report.code}", headers=officer).json
    assert "contact" not in seen and "0912345678" not in str(seen)
    assert session.scalar(select(AuditLog).where(AuditLog.report_id == report.id)) is None
    view = client.get(f"{BASE}/{report.code}", headers=dispatcher).json
    assert view["contact"]["phone"] == "0912345678" and view["contact"]["name"] == "Nguyễn Văn A"
    log = session.scalars(select(AuditLog).where(AuditLog.report_id == report.id)).all()
    assert [r.action for r in log] == ["report.contact.viewed"] and log[0].actor_kind == "staff"
    assert "0912345678" not in str(client.get(f"/api/v1/reports/{report.code}").json)


def test_officer_works_a_report_to_an_answer_with_evidence(client, citizen, session):
    report = routed_report(client, citizen, session)
    officer = _officer(client, report)
    r = _post(client, officer, report.code, "accept")
    assert r.status_code == 200 and r.json["status"] == "accepted"
    me = session.scalar(select(StaffUser).where(StaffUser.email == f"officer.{report.unit.code.lower()}@bacninh-ioc.test"))
    session.expire(report)
    assert report.assignee_id == me.id
    progress_photo = _photo(client, officer, seed="progress")
    r = _post(client, officer, report.code, "progress", note="Đã khảo sát hiện trường.",
              photo_ids=[progress_photo])
    assert r.json["status"] == "in_progress"
    r = _post(client, officer, report.code, "request-info", question="Cột đèn số mấy?")
    assert r.json["status"] == "waiting_citizen"
    r = client.post(f"/api/v1/reports/{report.code}/reply", headers=citizen,
                    json={"text": "Cột số 14, gần ngã tư."})
    assert r.status_code == 200 and r.json["status"] == "in_progress"
    assert _post(client, officer, report.code, "resolve", note="Đã thay bóng.").json["code"] == \
        "EVIDENCE_REQUIRED"
    far = _photo(client, officer, lat=BAC_NINH[0] + 0.01, seed="far")
    r = _post(client, officer, report.code, "resolve", note="Đã thay bóng.", photo_ids=[far])
    assert r.status_code == 422 and r.json["code"] == "EVIDENCE_TOO_FAR"
    blind = _photo(client, officer, gps=False, seed="nogps")
    assert _post(client, officer, report.code, "resolve", note="x", photo_ids=[blind]).json["code"] \
        == "EVIDENCE_NOT_LOCATED"
    near = _photo(client, officer, lat=BAC_NINH[0] + 0.0005, seed="near")
    r = _post(client, officer, report.code, "resolve", note="Đã thay bóng đèn mới.", photo_ids=[near])
    assert r.status_code == 200 and r.json["status"] == "resolved"
    timeline = client.get(f"/api/v1/reports/{report.code}/events").json["events"]
    assert [e["status"] for e in timeline][-5:] == ["accepted", "in_progress", "waiting_citizen",
                                                   "in_progress", "resolved"]
    assert timeline[-1]["photos"][0]["id"] == near and timeline[-1]["actor_kind"] == "staff"
    assert timeline[-2]["actor_kind"] == "citizen" and timeline[-2]["note"] == "Cột số 14, gần ngã tư."
    resolve = session.scalar(select(SlaClock).where(SlaClock.report_id == report.id,
                                                    SlaClock.kind == "RESOLVE"))
    assert resolve.stopped_at is not None and resolve.outcome == "met"


def test_a_unit_returns_a_report_and_the_dispatcher_reroutes_it(client, device, dispatcher, session):
    report = routed_report(client, device, session)
    officer = _officer(client, report)
    other = session.scalar(select(Unit).where(Unit.id != report.unit_id, Unit.kind == "department"))
    r = _post(client, officer, report.code, "return", reason_code="other")
    assert r.json["code"] == "NOTE_REQUIRED"
    r = _post(client, officer, report.code, "return", reason_code="not_our_competence",
              suggested_unit_code=other.code, note="Thuộc thẩm quyền đơn vị khác.")
    assert r.status_code == 200 and r.json["status"] == "returned"
    triage = client.get(f"{BASE}/queue", headers=dispatcher).json["items"]
    assert report.code in [i["code"] for i in triage]
    detail = client.get(f"{BASE}/{report.code}", headers=dispatcher).json
    assert detail["timeline"][-1]["data"] == {"reason_code": "not_our_competence",
                                             "suggested_unit": other.code}
    r = _post(client, dispatcher, report.code, "route", unit_code=other.code)
    assert r.status_code == 200 and r.json["unit"]["code"] == other.code
    assert _post(client, officer, report.code, "accept").status_code == 403  # not theirs any more


def test_unit_head_assigns_and_decides_the_one_extension(client, device, session):
    report = routed_report(client, device, session, category="industrial_pollution")
    head = _officer(client, report, "unit_head")
    officer = _officer(client, report)
    me = session.scalar(select(StaffUser).where(StaffUser.email == f"officer.{report.unit.code.lower()}@bacninh-ioc.test"))
    assert _post(client, officer, report.code, "assign", officer_id=me.id).status_code == 403
    assert _post(client, head, report.code, "assign", officer_id=999999).json["code"] == "UNKNOWN_OFFICER"
    r = _post(client, head, report.code, "assign", officer_id=me.id)
    assert r.status_code == 200
    _post(client, officer, report.code, "accept")
    assert _post(client, head, report.code, "extension/decision", approve=True).json["code"] == \
        "NO_EXTENSION_REQUEST"
    assert _post(client, officer, report.code, "extension", reason="Cần lấy mẫu nước.").status_code == 200
    assert _post(client, officer, report.code, "extension", reason="again").json["code"] == "EXTENSION_PENDING"
    before = session.scalar(select(SlaClock.due_at).where(SlaClock.report_id == report.id,
                                                          SlaClock.kind == "RESOLVE"))
    r = _post(client, head, report.code, "extension/decision", approve=True, note="Đồng ý.")
    assert r.status_code == 200
    after = session.scalar(select(SlaClock.due_at).where(SlaClock.report_id == report.id,
                                                         SlaClock.kind == "RESOLVE"))
    assert after > before + timedelta(days=14)
    _post(client, officer, report.code, "extension", reason="lần hai")
    r = _post(client, head, report.code, "extension/decision", approve=True)
    assert r.status_code == 409 and r.json["code"] == "EXTENSION_NOT_ALLOWED"


def test_dispatcher_recategorises_rejects_merges_and_transfers(client, citizen, dispatcher, session):
    report = routed_report(client, citizen, session)
    r = _post(client, dispatcher, report.code, "recategorise", category="power_line_hazard")
    assert r.status_code == 200 and r.json["category"]["code"] == "power_line_hazard"
    session.expire(report)
    assert report.sla_class == "urgent"
    assert _post(client, dispatcher, report.code, "recategorise", category="nope").json["code"] == \
        "UNKNOWN_CATEGORY"
    spam = routed_report(client, citizen, session, lat=21.1875)
    r = _post(client, dispatcher, spam.code, "reject", reason_code="spam", note="")
    assert r.status_code == 422
    r = _post(client, dispatcher, spam.code, "reject", reason_code="spam", note="Nội dung quảng cáo.")
    assert r.json["status"] == "rejected"
    dup = routed_report(client, citizen, session, lat=21.1880)
    r = _post(client, dispatcher, dup.code, "duplicate", duplicate_of=report.code)
    assert r.json["status"] == "duplicate" and r.json["duplicate_of"] == report.code
    assert session.get(ReportFollower, (report.id, dup.citizen_id)) is not None
    complaint = routed_report(client, citizen, session, lat=21.1885)
    r = _post(client, dispatcher, complaint.code, "transfer-out",
              reason="Khiếu nại hành chính: chuyển Ban Tiếp công dân.")
    assert r.json["status"] == "transferred_out"
    officer = _officer(client, report)
    assert _post(client, officer, report.code, "reject", reason_code="spam", note="x").status_code == 403


def test_citizen_rates_once_and_disputes_within_seven_days(client, citizen, citizen_token, session,
                                                           dispatcher):
    report = routed_report(client, citizen, session)
    rate = lambda h, **b: client.post(f"/api/v1/reports/{report.code}/rating", headers=h, json=b)  # noqa: E731
    assert rate(citizen, score=5).json["code"] == "NOT_RESOLVED"
    _post(client, dispatcher, report.code, "transitions", to="accepted")
    _post(client, dispatcher, report.code, "transitions", to="resolved", note="Đã xử lý.")
    other = {"Authorization": f"Bearer {citizen_token()}"}
    assert rate(other, score=1).json["code"] == "NOT_REPORTER"
    assert rate(citizen, score=6).status_code == 422
    assert rate(citizen, score=4, comment="Nhanh.").status_code == 200
    assert rate(citizen, score=5).json["code"] == "ALREADY_RATED"
    assert session.get(ReportRating, report.id).score == 4
    r = client.post(f"/api/v1/reports/{report.code}/dispute", headers=citizen,
                    json={"reason": "Đèn vẫn chưa sáng."})
    assert r.status_code == 200 and r.json["status"] == "reopened"
    resolve = session.scalars(select(SlaClock).where(SlaClock.report_id == report.id,
                                                     SlaClock.kind == "RESOLVE")
                              .order_by(SlaClock.cycle)).all()
    assert [c.cycle for c in resolve] == [1, 2] and resolve[-1].stopped_at is None
    _post(client, dispatcher, report.code, "transitions", to="in_progress")
    _post(client, dispatcher, report.code, "transitions", to="resolved")
    session.execute(update(Report).where(Report.id == report.id)
                    .values(resolved_at=datetime.now(timezone.utc) - timedelta(days=8)))
    r = client.post(f"/api/v1/reports/{report.code}/dispute", headers=citizen, json={"reason": "x"})
    assert r.status_code == 409 and r.json["code"] == "DISPUTE_WINDOW_CLOSED"


def test_reply_is_only_for_the_reporter_and_only_when_asked(client, citizen, citizen_token, session):
    report = routed_report(client, citizen, session)
    r = client.post(f"/api/v1/reports/{report.code}/reply", headers=citizen, json={"text": "hi"})
    assert r.status_code == 409 and r.json["code"] == "NOT_WAITING"
    other = {"Authorization": f"Bearer {citizen_token()}"}
    r = client.post(f"/api/v1/reports/{report.code}/reply", headers=other, json={"text": "hi"})
    assert r.status_code == 403 and r.json["code"] == "NOT_REPORTER"


def test_autoclose_closes_unanswered_and_silent_reports(app, client, device, dispatcher, session):
    from api.reports.autoclose import autoclose
    done = routed_report(client, device, session)
    _post(client, dispatcher, done.code, "transitions", to="accepted")
    _post(client, dispatcher, done.code, "transitions", to="resolved")
    silent = routed_report(client, device, session, lat=21.1890)
    _post(client, dispatcher, silent.code, "transitions", to="accepted")
    _post(client, dispatcher, silent.code, "request-info", question="Ở đâu?")
    fresh = routed_report(client, device, session, lat=21.1895)
    _post(client, dispatcher, fresh.code, "transitions", to="accepted")
    _post(client, dispatcher, fresh.code, "transitions", to="resolved")
    long_ago = datetime.now(timezone.utc) - timedelta(days=15)
    session.execute(update(Report).where(Report.id == done.id).values(resolved_at=long_ago))
    clock = session.scalar(select(SlaClock).where(SlaClock.report_id == silent.id,
                                                  SlaClock.kind == "RESOLVE"))
    clock.state = clock.state | {"paused_at": long_ago.isoformat()}
    session.flush()
    assert autoclose(session) >= 2
    for report, reason in ((done, "no_response"), (silent, "insufficient_information")):
        session.refresh(report)
        assert (report.status, report.close_reason) == ("closed", reason)
    session.refresh(fresh)
    assert fresh.status == "resolved"
    assert autoclose(session) == 0 or fresh.status == "resolved"


def test_no_extension_is_requested_where_the_policy_allows_none(client, device, session):
    report = routed_report(client, device, session)  # streetlight_out: fix_now, no extension
    officer = _officer(client, report)
    _post(client, officer, report.code, "accept")
    r = _post(client, officer, report.code, "extension", reason="Thiếu vật tư.")
    assert r.status_code == 409 and r.json["code"] == "EXTENSION_NOT_ALLOWED"
