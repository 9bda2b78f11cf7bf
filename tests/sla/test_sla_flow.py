"""SLA clocks through the report's life, on the real database."""
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from api.db import db
from api.reports.models import Report, ReportEvent
from api.routing.geocode import AddressLookup
from api.routing.service import route_report
from api.sla import service as sla
from api.sla.calendar import BusinessCalendar
from api.sla.models import SlaClock
from tests.api.helpers import new_report
from tests.conftest import TEST_PASSWORD


@pytest.fixture()
def session(app, db_session):
    with app.app_context():
        yield db.session


def _clocks(session, report):
    return {c.kind: c for c in session.scalars(select(SlaClock).where(SlaClock.report_id == report.id))}


def _report(session, code):
    return session.scalar(select(Report).where(Report.code == code))


def test_clocks_start_at_receipt(client, device, session):
    created = new_report(client, device)  # streetlight_out: fix_now, 3 working days
    report = _report(session, created["code"])
    clocks = _clocks(session, report)
    assert set(clocks) == {"TRIAGE", "RESOLVE"}
    expected = BusinessCalendar().add_working_days(report.created_at, 3)
    assert clocks["RESOLVE"].due_at == expected
    assert created["sla"]["status"] == "running" and created["sla"]["sla_class"] == "fix_now"
    assert datetime.fromisoformat(created["sla"]["due_at"]) == expected
    assert created["sla"]["due_at"].endswith("+07:00")


def test_routing_stops_triage_and_starts_the_units_clocks(client, device, session):
    report = _report(session, new_report(client, device)["code"])
    route_report(session, report.id, AddressLookup(None))
    clocks = _clocks(session, report)
    assert clocks["TRIAGE"].stopped_at is not None and clocks["TRIAGE"].outcome == "met"
    assert clocks["ACCEPT"].unit_id == report.unit_id and clocks["ACCEPT"].stopped_at is None
    assert clocks["UNIT_RESOLVE"].unit_id == report.unit_id
    assert clocks["RESOLVE"].stopped_at is None


def test_sweep_breaches_and_escalates_once(client, device, session):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    later = datetime.now(timezone.utc) + timedelta(days=40)
    assert sla.sweep(session, now=later) >= 2
    again = sla.sweep(session, now=later)
    events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                       ReportEvent.type.like("sla.%"))).all()
    kinds = sorted((e.data["clock"], e.type) for e in events)
    for clock in ("RESOLVE", "TRIAGE"):
        assert kinds.count((clock, "sla.breached")) == 1
        assert kinds.count((clock, "sla.escalated")) == 1
    assert all(not e.public for e in events)
    notify = {e.type: e.data["notify"] for e in events}
    assert notify["sla.breached"] == "dispatcher" and notify["sla.escalated"] == "leadership"
    assert again == 0  # nothing left to check: next_check_at is cleared after escalation
    session.commit()
    assert client.get(f"/api/v1/reports/{code}").json["sla"]["status"] == "breached"


def test_calendar_exception_moves_running_deadlines(client, device, session):
    report = _report(session, new_report(client, device)["code"])
    before = _clocks(session, report)["RESOLVE"].due_at
    cal = BusinessCalendar()
    # The first working day after receipt becomes an announced day off.
    day = report.created_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    nxt = next(d for d in (day + timedelta(days=i) for i in range(1, 15)) if cal.is_working_day(d))
    token = client.post("/api/v1/auth/login", json={"email": "admin@bacninh-ioc.test",
                                                    "password": TEST_PASSWORD}).json["access_token"]
    r = client.post("/api/v1/admin/calendar-exceptions", headers={"Authorization": f"Bearer {token}"},
                    json={"day": nxt.isoformat(), "kind": "day_off", "name": "Nghỉ bù"})
    assert r.status_code == 201, r.json
    session.expire_all()
    after = _clocks(session, report)["RESOLVE"].due_at
    assert after > before
    assert BusinessCalendar(extra_days_off=frozenset({nxt})).add_working_days(report.created_at, 3) == after


@pytest.mark.slow
def test_two_sweepers_never_double_process(app, committed_client, device):
    """300 due clocks, two concurrent sweeps on separate connections: each clock is checked once."""
    created = new_report(committed_client, device, lat=21.40, lon=106.60)
    with app.app_context():
        with db.unit_of_work() as s:
            report = _report(s, created["code"])
            template = _clocks(s, report)["RESOLVE"]
            s.add_all([SlaClock(report_id=report.id, kind="RESOLVE", cycle=1, due_at=template.due_at,
                                next_check_at=template.next_check_at, state=dict(template.state))
                       for _ in range(300)])
            report_id = report.id
        later = datetime.now(timezone.utc) + timedelta(days=40)
        counts, barrier = [], threading.Barrier(2)

        def sweeper():
            with app.app_context():
                barrier.wait()
                total = 0
                while True:
                    with db.unit_of_work() as s:
                        n = sla.sweep(s, now=later, limit=50)
                    total += n
                    if n == 0:
                        break
                counts.append(total)

        threads = [threading.Thread(target=sweeper) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db.unit_of_work() as s:
            per_clock = s.execute(text(
                "SELECT e.data->>'clock_id', count(*) FROM report_event e WHERE e.report_id = :r"
                " AND e.type = 'sla.breached' GROUP BY 1"), {"r": report_id}).all()
            s.execute(text("DELETE FROM report WHERE id = :r"), {"r": report_id})
    # 300 copies + the report's own TRIAGE and RESOLVE (committed clocks of other tests may
    # be swept too); each of ours breached exactly once.
    assert sum(counts) >= 302
    assert len(per_clock) == 302 and all(n == 1 for _cid, n in per_clock)
    assert min(counts) > 0  # both sweepers really worked


def test_new_policy_version_applies_to_new_reports_only(client, device, session):
    older = _report(session, new_report(client, device)["code"])
    older_due = _clocks(session, older)["RESOLVE"].due_at
    token = client.post("/api/v1/auth/login", json={"email": "admin@bacninh-ioc.test",
                                                    "password": TEST_PASSWORD}).json["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/admin/sla-policies", headers=admin, json={
        "sla_class": "fix_now", "triage": {"amount": 1, "unit": "hours"},
        "accept": {"amount": 4, "unit": "hours"}, "resolve": {"amount": 5, "unit": "days"}})
    assert r.status_code == 201, r.json
    assert r.json["version"] == 2 and r.json["body"]["resolve"] == {"amount": 5, "unit": "days"}
    newer = _report(session, new_report(client, device, lat=21.19)["code"])
    assert _clocks(session, newer)["RESOLVE"].due_at == BusinessCalendar().add_working_days(
        newer.created_at, 5)
    session.expire_all()
    assert _clocks(session, older)["RESOLVE"].due_at == older_due
    versions = client.get("/api/v1/admin/sla-policies", headers=admin).json["items"]
    assert [v["version"] for v in versions if v["sla_class"] == "fix_now"] == [2, 1]


def test_bad_policies(client):
    token = client.post("/api/v1/auth/login", json={"email": "admin@bacninh-ioc.test",
                                                    "password": TEST_PASSWORD}).json["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    base = {"sla_class": "complex", "triage": {"amount": 1, "unit": "hours"},
            "accept": {"amount": 8, "unit": "hours"}}
    for resolve, extension in (({"amount": 1.5, "unit": "days"}, None),
                               ({"amount": 15, "unit": "days"}, {"amount": 4, "unit": "hours"}),
                               ({"amount": 0, "unit": "days"}, None),
                               ({"amount": 3, "unit": "weeks"}, None)):
        r = client.post("/api/v1/admin/sla-policies", headers=admin,
                        json={**base, "resolve": resolve, "extension": extension})
        assert r.status_code == 422, (resolve, extension, r.json)


def _routed(client, device, session, **kw):
    report = _report(session, new_report(client, device, **kw)["code"])
    route_report(session, report.id, AddressLookup(None))
    return report


def test_waiting_for_the_citizen_pauses_and_resume_pushes_the_deadline(client, device, session):
    report = _routed(client, device, session)
    before = _clocks(session, report)["RESOLVE"].due_at
    start = report.created_at
    sla.pause_report(session, report, start + timedelta(minutes=1))
    assert _clocks(session, report)["RESOLVE"].state["paused_at"]
    sla.resume_report(session, report, start + timedelta(days=7))
    after = _clocks(session, report)["RESOLVE"]
    assert after.state["paused_at"] is None and after.due_at > before
    assert _clocks(session, report)["ACCEPT"].due_at is not None  # ACCEPT is never paused


def test_pause_cap_is_signalled_to_the_unit(client, device, session):
    report = _routed(client, device, session)
    sla.pause_report(session, report, report.created_at + timedelta(minutes=1))
    sla.sweep(session, now=report.created_at + timedelta(days=10))
    expired = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                        ReportEvent.type == "sla.pause_expired")).all()
    assert {e.data["clock"] for e in expired} == {"RESOLVE", "UNIT_RESOLVE"}
    assert all(e.data["notify"] == "unit" for e in expired)


def test_one_extension_for_complex_only(client, device, session):
    from api.sla.clocks import ClockError
    complex_report = _routed(client, device, session, category="illegal_construction")
    before = _clocks(session, complex_report)["RESOLVE"].due_at
    sla.extend_report(session, complex_report, complex_report.created_at + timedelta(hours=1))
    assert _clocks(session, complex_report)["RESOLVE"].due_at > before
    with pytest.raises(ClockError):
        sla.extend_report(session, complex_report, complex_report.created_at + timedelta(hours=2))
    fix_now = _routed(client, device, session, lat=21.19)
    with pytest.raises(ClockError):
        sla.extend_report(session, fix_now, fix_now.created_at + timedelta(hours=1))


def test_resolve_then_reopen_starts_a_new_cycle(client, device, session):
    report = _routed(client, device, session)
    at = report.created_at + timedelta(hours=2)
    sla.resolve_report(session, report, at)
    clocks = _clocks(session, report)
    assert clocks["RESOLVE"].outcome == "met" and clocks["UNIT_RESOLVE"].stopped_at is not None
    sla.reopen_report(session, report, at + timedelta(days=1))
    cycles = session.scalars(select(SlaClock).where(SlaClock.report_id == report.id,
                                                    SlaClock.kind == "RESOLVE")
                             .order_by(SlaClock.cycle)).all()
    assert [(c.cycle, c.stopped_at is None) for c in cycles] == [(1, False), (2, True)]
    session.flush()
    assert sla.public_sla(session, report)["cycle"] == 2


def test_class_change_to_urgent_moves_to_the_24x7_calendar(client, device, session):
    report = _routed(client, device, session)
    sla.change_class(session, report, "urgent", report.created_at + timedelta(minutes=5))
    resolve = _clocks(session, report)["RESOLVE"]
    assert resolve.state["calendar_kind"] == "24x7" and report.sla_class == "urgent"
    from api.sla.calendar import AlwaysOpenCalendar
    assert resolve.due_at == AlwaysOpenCalendar().add_working_days(report.created_at, 1)
