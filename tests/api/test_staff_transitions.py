"""Staff move reports through the lifecycle: the transition table, who may do what, and the
SLA clocks that follow each step."""
from __future__ import annotations

from sqlalchemy import select

from api.reports.models import Report, ReportEvent
from api.sla.models import SlaClock
from tests.api.helpers import routed_report, new_report, staff_headers





def _post(client, headers, code, **body):
    return client.post(f"/api/v1/staff/reports/{code}/transitions", headers=headers, json=body)


def _resolve_clock(session, report):
    return session.scalar(select(SlaClock).where(SlaClock.report_id == report.id,
                                                 SlaClock.kind == "RESOLVE")
                          .order_by(SlaClock.cycle.desc()))


def test_officer_works_the_report_and_the_clocks_follow(client, device, session):
    report = routed_report(client, device, session)
    officer = staff_headers(client, f"officer.{report.unit.code.lower()}@bacninh-ioc.test")
    r = _post(client, officer, report.code, to="accepted")
    assert r.status_code == 200 and r.json["status"] == "accepted"
    accept = session.scalar(select(SlaClock).where(SlaClock.report_id == report.id,
                                                   SlaClock.kind == "ACCEPT"))
    assert accept.stopped_at is not None
    assert _post(client, officer, report.code, to="waiting_citizen",
                 note="Xin vị trí cột đèn.").status_code == 200
    assert _resolve_clock(session, report).state.get("paused_at")
    assert _post(client, officer, report.code, to="in_progress").status_code == 200
    assert not _resolve_clock(session, report).state.get("paused_at")
    r = _post(client, officer, report.code, to="resolved", note="Đã thay bóng.")
    assert r.json["status"] == "resolved" and r.json["sla"]["status"] in ("met", "breached")
    timeline = client.get(f"/api/v1/reports/{report.code}/events").json["events"]
    assert [e["status"] for e in timeline][-4:] == ["accepted", "waiting_citizen", "in_progress",
                                                    "resolved"]
    assert timeline[-1]["note"] == "Đã thay bóng."


def test_transitions_outside_the_table_are_409(client, device, session):
    report = routed_report(client, device, session)
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    r = _post(client, dispatcher, report.code, to="resolved")
    assert r.status_code == 409 and r.json["code"] == "INVALID_TRANSITION"
    assert "accepted" in r.json["errors"]["to"][0]
    assert _post(client, dispatcher, report.code, to="nonsense").json["code"] == "VALIDATION_ERROR"


def test_units_act_only_on_their_own_reports_and_actions(client, device, session):
    report = routed_report(client, device, session)
    from api.reference.models import Unit
    other = session.scalar(select(Unit).where(Unit.id != report.unit_id, Unit.kind != "ioc"))
    stranger = staff_headers(client, f"officer.{other.code.lower()}@bacninh-ioc.test")
    r = _post(client, stranger, report.code, to="accepted")
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    own = staff_headers(client, f"officer.{report.unit.code.lower()}@bacninh-ioc.test")
    assert _post(client, own, report.code, to="rejected").status_code == 403
    assert _post(client, own, report.code, to="accepted").status_code == 200
    assert client.post(f"/api/v1/staff/reports/{report.code}/transitions",
                       json={"to": "accepted"}).status_code == 401


def test_dispatcher_reroutes_rejects_and_links_duplicates(client, device, session):
    report = routed_report(client, device, session)
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    r = _post(client, dispatcher, report.code, to="routed")
    assert r.status_code == 422 and r.json["code"] == "UNIT_REQUIRED"
    r = _post(client, dispatcher, report.code, to="routed", unit_code="NO_SUCH_UNIT")
    assert r.status_code == 404 and r.json["code"] == "UNKNOWN_UNIT"
    from api.reference.models import Unit
    other = session.scalar(select(Unit).where(Unit.id != report.unit_id, Unit.kind != "ioc"))
    r = _post(client, dispatcher, report.code, to="routed", unit_code=other.code)
    assert r.status_code == 200 and r.json["unit"]["code"] == other.code
    accept = session.scalars(select(SlaClock).where(SlaClock.report_id == report.id,
                                                    SlaClock.kind == "ACCEPT")
                             .order_by(SlaClock.id)).all()
    assert accept[0].stopped_at is not None and accept[-1].unit_id == other.id
    second = routed_report(client, device, session)
    r = _post(client, dispatcher, second.code, to="duplicate")
    assert r.json["code"] == "DUPLICATE_OF_REQUIRED"
    r = _post(client, dispatcher, second.code, to="duplicate", duplicate_of=report.code)
    assert r.status_code == 200 and r.json["duplicate_of"] == report.code
    clocks = session.scalars(select(SlaClock).where(SlaClock.report_id == second.id)).all()
    assert all(c.stopped_at is not None for c in clocks)
    events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == second.id)).all()
    assert events[-1].to_status == "duplicate" and events[-1].actor_kind == "staff"


def test_unknown_report_is_404(client):
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    r = _post(client, dispatcher, "PA-2026-999999", to="accepted")
    assert r.status_code == 404 and r.json["code"] == "REPORT_NOT_FOUND"
