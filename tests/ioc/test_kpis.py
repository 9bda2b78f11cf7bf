"""GET /api/v1/ioc/kpis against a hand-computed fixture month (October 2019).

The fixture uses its own two units, two categories and two wards, in a year no
other test writes to, so the figures below are exact. Every expected number is
a literal derived by hand in the comment next to it (docs/kpis.md has the rules).
Dates are local (Asia/Ho_Chi_Minh); "now" is the real clock, so the open clocks
that must be on time or due soon are placed relative to it.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.common.fields import LOCAL_TZ
from api.identity.models import Citizen
from api.ioc.kpi_queries import _one_decimal, _pct
from api.ioc.models import ReportRating
from api.open311.keys import create_key
from api.reference.models import Category, CategoryGroup, Unit, Ward
from api.reports.models import Report, ReportEvent
from api.sla.models import SlaClock
from tests.api.helpers import BAC_NINH, staff_headers

URL = "/api/v1/ioc/kpis"
OCTOBER = "from=2019-10-01&to=2019-10-31"
NOW = datetime.now(timezone.utc)
SOON = NOW + timedelta(hours=5)      # inside the 24 h "due soon" band
LATER = NOW + timedelta(days=10)     # comfortably on time


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2019) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def figures(received, to_process, resolved_on_time, resolved_late, open_on_time, open_late,
            due_soon, on_time_pct, late_pct, median_hours, p90_hours, return_rate, reopen_rate,
            satisfaction_pct) -> dict:
    return dict(received=received, to_process=to_process, resolved_on_time=resolved_on_time,
                resolved_late=resolved_late, open_on_time=open_on_time, open_late=open_late,
                due_soon=due_soon, on_time_pct=on_time_pct, late_pct=late_pct,
                median_hours=median_hours, p90_hours=p90_hours, return_rate=return_rate,
                reopen_rate=reopen_rate, satisfaction_pct=satisfaction_pct)


@pytest.fixture()
def orm(app, db_session):
    """A plain ORM session on the test's connection: rows are flushed, never committed."""
    session = Session(bind=db_session, join_transaction_mode="create_savepoint")
    yield session
    session.close()


class Month:
    """The October 2019 fixture. Reports R1..R14 (created local time, unit, category, ward):

    R1  01/10 08:00 A light W1  closed    answered 03/10 10:00, due 04/10 → on time, 50 h; rated 5
    R2  02/10 09:00 A light W2  reopened  answered 07/10 09:30, due 05/10 → late, 120.5 h; rated 2;
                                          reopened 03/11; cycle 2 due 08/11/2019 running → open late
    R3  03/10 08:00 A waste W1  in_prog.  returned 03/10; RESOLVE due 08/10/2019 running → open late
                                          (+ a later UNIT_RESOLVE clock due in 10 days: not judged)
    R4  10/10 10:00 A waste W2  accepted  RESOLVE due now+5 h → open on time, due soon
    R5  12/10 08:00 B light W1  routed    returned 12/10; due now+10 d → open on time
    R6  14/10 08:00 B light W2  waiting   paused 15/10, due 20/10/2019 → open on time (stands still)
    R7  05/10 08:00 B waste W1  in_prog.  answered 08/10 08:20, due 10/10 → on time, 72.33 h;
                                          reopened 09/10; cycle 2 due 14/10/2019 running → open late
    R8  06/10 08:00 B waste W2  closed    answered 08/10 20:45, due 09/10 → on time, 60.75 h;
                                          rated 4
    R9  20/10 08:00 - light W1  new       due now+10 d → open on time
    R10 21/10 08:00 - waste W2  rejected  RESOLVE stopped 21/10 "met" by the rejection: no answer
    R11 28/09 08:00 A light W1  closed    (received in September) returned 29/09; answered
                                          02/10 08:00, due 01/10 → late, 96 h; rated 3 on 03/10
    R12 25/10 08:00 A light W2  resolved  answered 02/11 (outside); rated 5 on 03/11 (outside)
    R13 31/10 23:30 B light W1  routed    due now+10 d → in the window (last half hour)
    R14 01/11 00:10 B light W1  routed    due now+10 d → outside the window
    """

    def __init__(self, session: Session, province_code: str):
        self.s = session
        group = session.scalar(select(CategoryGroup.code).order_by(CategoryGroup.code).limit(1))
        self.units = {k: Unit(code=f"KPI-{k}", kind="department", name_vi=f"Đơn vị kiểm thử {k}",
                              name_en=f"Test unit {k}", handles=[]) for k in "AB"}
        self.categories = {k: Category(code=f"kpi_{k}", group_code=group, name_vi=name,
                                       name_en=k, sla_class="fix_now", default_level="ward")
                           for k, name in (("light", "Đèn đường hỏng (KPI)"),
                                           ("waste", "Rác thải (KPI)"))}
        self.wards = {k: Ward(code=f"9990{k[-1]}", province_code=province_code,
                              name=f"Phường Kiểm Thử {k}", name_short=f"Kiểm Thử {k}",
                              kind="phường", name_folded=f"phuong kiem thu {k.lower()}",
                              lat=BAC_NINH[0], lon=BAC_NINH[1]) for k in ("W1", "W2")}
        self.citizen = Citizen(principal=f"dev:kpi-{uuid.uuid4().hex[:12]}")
        session.add_all([*self.units.values(), *self.categories.values(), *self.wards.values(),
                         self.citizen])
        session.flush()
        self.reports: dict[str, Report] = {}

    def report(self, name, unit, category, ward, status, created_at):
        r = Report(code=f"PA-2019-99{int(name[1:]):04d}", status=status,
                   category_code=self.categories[category].code, description=f"KPI {name}",
                   lat=BAC_NINH[0], lon=BAC_NINH[1], ward_code=self.wards[ward].code,
                   unit_id=self.units[unit].id if unit else None, citizen_id=self.citizen.id,
                   attributes={}, created_at=created_at, updated_at=created_at)
        self.s.add(r)
        self.s.flush()
        self.reports[name] = r
        return r

    def clock(self, name, due_at, stopped_at=None, outcome=None, cycle=1, kind="RESOLVE",
              paused_at=None):
        report = self.reports[name]
        state = {"paused_at": paused_at.isoformat()} if paused_at else {}
        self.s.add(SlaClock(report_id=report.id, kind=kind, cycle=cycle, unit_id=report.unit_id,
                            due_at=due_at, stopped_at=stopped_at, outcome=outcome, state=state))
        self.s.flush()

    def event(self, name, from_status, to_status, at):
        self.s.add(ReportEvent(report_id=self.reports[name].id, type="status_changed",
                               from_status=from_status, to_status=to_status, actor_kind="staff",
                               public=True, data={}, created_at=at))

    def rating(self, name, score, at):
        self.s.add(ReportRating(report_id=self.reports[name].id, citizen_id=self.citizen.id,
                                score=score, created_at=at))

    def build(self):
        rep, clock, event, rating = self.report, self.clock, self.event, self.rating
        rep("R1", "A", "light", "W1", "closed", local(10, 1, 8))
        clock("R1", local(10, 4, 0), stopped_at=local(10, 3, 10), outcome="met")
        event("R1", "new", "routed", local(10, 1, 9))
        event("R1", "in_progress", "resolved", local(10, 3, 10))
        event("R1", "resolved", "closed", local(10, 4, 8))
        rating("R1", 5, local(10, 4, 9))

        rep("R2", "A", "light", "W2", "reopened", local(10, 2, 9))
        clock("R2", local(10, 5, 0), stopped_at=local(10, 7, 9, 30), outcome="breached")
        event("R2", "in_progress", "resolved", local(10, 7, 9, 30))
        rating("R2", 2, local(10, 8, 9))
        event("R2", "resolved", "reopened", local(11, 3, 8))
        clock("R2", local(11, 8, 0), cycle=2)

        rep("R3", "A", "waste", "W1", "in_progress", local(10, 3, 8))
        clock("R3", local(10, 8, 0))
        event("R3", "routed", "returned", local(10, 3, 14))
        event("R3", "returned", "routed", local(10, 3, 15))
        clock("R3", LATER, kind="UNIT_RESOLVE")

        rep("R4", "A", "waste", "W2", "accepted", local(10, 10, 10))
        clock("R4", SOON)

        rep("R5", "B", "light", "W1", "routed", local(10, 12, 8))
        clock("R5", LATER)
        event("R5", "routed", "returned", local(10, 12, 10))
        event("R5", "returned", "routed", local(10, 12, 11))

        rep("R6", "B", "light", "W2", "waiting_citizen", local(10, 14, 8))
        clock("R6", local(10, 20, 0), paused_at=local(10, 15, 8))

        rep("R7", "B", "waste", "W1", "in_progress", local(10, 5, 8))
        clock("R7", local(10, 10, 0), stopped_at=local(10, 8, 8, 20), outcome="met")
        event("R7", "in_progress", "resolved", local(10, 8, 8, 20))
        event("R7", "resolved", "reopened", local(10, 9, 8))
        clock("R7", local(10, 14, 0), cycle=2)
        event("R7", "reopened", "in_progress", local(10, 9, 9))

        rep("R8", "B", "waste", "W2", "closed", local(10, 6, 8))
        clock("R8", local(10, 9, 0), stopped_at=local(10, 8, 20, 45), outcome="met")
        event("R8", "in_progress", "resolved", local(10, 8, 20, 45))
        event("R8", "resolved", "closed", local(10, 9, 8))
        rating("R8", 4, local(10, 10, 8))

        rep("R9", None, "light", "W1", "new", local(10, 20, 8))
        clock("R9", LATER)

        rep("R10", None, "waste", "W2", "rejected", local(10, 21, 8))
        clock("R10", local(10, 24, 0), stopped_at=local(10, 21, 10), outcome="met")
        event("R10", "new", "rejected", local(10, 21, 10))

        rep("R11", "A", "light", "W1", "closed", local(9, 28, 8))
        clock("R11", local(10, 1, 0), stopped_at=local(10, 2, 8), outcome="breached")
        event("R11", "routed", "returned", local(9, 29, 8))
        event("R11", "in_progress", "resolved", local(10, 2, 8))
        event("R11", "resolved", "closed", local(10, 5, 8))
        rating("R11", 3, local(10, 3, 8))

        rep("R12", "A", "light", "W2", "resolved", local(10, 25, 8))
        clock("R12", local(10, 30, 0), stopped_at=local(11, 2, 8), outcome="breached")
        event("R12", "in_progress", "resolved", local(11, 2, 8))
        rating("R12", 5, local(11, 3, 8))

        rep("R13", "B", "light", "W1", "routed", local(10, 31, 23, 30))
        clock("R13", LATER)
        rep("R14", "B", "light", "W1", "routed", local(11, 1, 0, 10))
        clock("R14", LATER)
        self.s.flush()
        return self


@pytest.fixture()
def month(app, orm):
    return Month(orm, app.config["APP"].PROVINCE_CODE).build()


@pytest.fixture()
def dispatcher(client):
    return staff_headers(client, "dispatcher@bacninh-ioc.test")


def get(client, headers, query=""):
    r = client.get(f"{URL}?{query}" if query else URL, headers=headers)
    assert r.status_code == 200, r.json
    return r.json


# Totals for October 2019 (12 received: R1–R10, R12, R13).
# received 12; open now: R2 R3 R4 R5 R6 R7 R9 R13 → to_process 8;
# open late: R2 (cycle 2 due 08/11/2019), R3, R7 (cycle 2) → 3; on time: R4 R5 R6 R9 R13 → 5;
# due soon: R4 → 1. Answers in October: R1 ✓ 50 h, R2 ✗ 120.5 h, R7 ✓ 72.33 h, R8 ✓ 60.75 h,
# R11 ✗ 96 h (R10's rejection and R12's November answer do not count) → 3 on time, 2 late:
# 60.0 % / 40.0 %. Hours sorted 50, 60.75, 72.33, 96, 120.5: median 72.33 → 72.3;
# p90 at position 0.9 × 4 = 3.6: 96 + 0.6 × 24.5 = 110.7.
# Returned: R3, R5 of 12 → 16.67 → 16.7. Reopened since: R2 (03/11), R7 of 5 answers → 40.0.
# Ratings in October: R1 5, R2 2, R8 4, R11 3 → 2 of 4 → 50.0.
TOTALS = figures(12, 8, 3, 2, 5, 3, 1, 60.0, 40.0, 72.3, 110.7, 16.7, 40.0, 50.0)


def test_totals_of_the_fixture_month(client, month, dispatcher):
    body = get(client, dispatcher, OCTOBER)
    assert body["from"] == "2019-10-01" and body["to"] == "2019-10-31"
    assert body["timezone"] == "Asia/Ho_Chi_Minh" and body["group_by"] == []
    assert body["generated_at"].endswith("+07:00")
    assert body["totals"] == TOTALS
    assert body["groups"] == []


def test_groups_by_unit(client, month, dispatcher):
    body = get(client, dispatcher, OCTOBER + "&group_by=unit")
    assert body["group_by"] == ["unit"]
    assert body["totals"] == TOTALS
    assert body["groups"] == [
        # A: received R1 R2 R3 R4 R12 = 5; open R2 R3 R4 = 3 (late R2 R3, on time R4, soon R4);
        # answers R1 ✓ 50, R2 ✗ 120.5, R11 ✗ 96 → 33.3 / 66.7, median 96.0,
        # p90 at 1.8: 96 + 0.8 × 24.5 = 115.6; returned R3 1/5 = 20.0; reopened R2 1/3 = 33.3;
        # ratings R1 5, R2 2, R11 3 → 1/3 = 33.3.
        {"key": {"unit_code": "KPI-A", "unit_name": "Đơn vị kiểm thử A"},
         **figures(5, 3, 1, 2, 1, 2, 1, 33.3, 66.7, 96.0, 115.6, 20.0, 33.3, 33.3)},
        # B: received R5 R6 R7 R8 R13 = 5 (R14 is November); open R5 R6 R7 R13 = 4 (late R7);
        # answers R7 ✓ 72.33, R8 ✓ 60.75 → 100.0 / 0.0, median 66.54 → 66.5,
        # p90 60.75 + 0.9 × 11.58 = 71.175 → 71.2; returned R5 1/5 = 20.0; reopened R7 1/2 = 50.0;
        # rating R8 4 → 100.0.
        {"key": {"unit_code": "KPI-B", "unit_name": "Đơn vị kiểm thử B"},
         **figures(5, 4, 2, 0, 3, 1, 0, 100.0, 0.0, 66.5, 71.2, 20.0, 50.0, 100.0)},
        # No unit: R9 (open, on time), R10 (rejected): no answers, no ratings → nulls;
        # returned 0 of 2 → 0.0.
        {"key": {"unit_code": None, "unit_name": None},
         **figures(2, 1, 0, 0, 1, 0, 0, None, None, None, None, 0.0, None, None)},
    ]


def test_groups_by_category(client, month, dispatcher):
    body = get(client, dispatcher, OCTOBER + "&group_by=category")
    assert body["groups"] == [
        # waste first (2 open late: R3, R7). Received R3 R4 R7 R8 R10 = 5; open R3 R4 R7 = 3;
        # answers R7 ✓, R8 ✓ → 100.0 / 0.0, median 66.5, p90 71.2 (as unit B);
        # returned R3 1/5 = 20.0; reopened R7 1/2 = 50.0; rating R8 4 → 100.0.
        {"key": {"category_code": "kpi_waste", "category_name": "Rác thải (KPI)"},
         **figures(5, 3, 2, 0, 1, 2, 1, 100.0, 0.0, 66.5, 71.2, 20.0, 50.0, 100.0)},
        # light: received R1 R2 R5 R6 R9 R12 R13 = 7; open R2 R5 R6 R9 R13 = 5 (late R2);
        # answers R1 ✓, R2 ✗, R11 ✗ → as unit A; returned R5 1/7 = 14.29 → 14.3;
        # reopened R2 1/3 = 33.3; ratings R1 5, R2 2, R11 3 → 33.3.
        {"key": {"category_code": "kpi_light", "category_name": "Đèn đường hỏng (KPI)"},
         **figures(7, 5, 1, 2, 4, 1, 0, 33.3, 66.7, 96.0, 115.6, 14.3, 33.3, 33.3)},
    ]


def test_groups_by_ward(client, month, dispatcher):
    body = get(client, dispatcher, OCTOBER + "&group_by=ward")
    assert body["groups"] == [
        # W1: received R1 R3 R5 R7 R9 R13 = 6; open R3 R5 R7 R9 R13 = 5 (late R3 R7);
        # answers R1 ✓ 50, R7 ✓ 72.33, R11 ✗ 96 → 66.7 / 33.3, median 72.3,
        # p90 at 1.8: 72.33 + 0.8 × 23.67 = 91.27 → 91.3; returned R3 R5 2/6 = 33.3;
        # reopened R7 1/3 = 33.3; ratings R1 5, R11 3 → 50.0.
        {"key": {"ward_code": "99901", "ward_name": "Phường Kiểm Thử W1"},
         **figures(6, 5, 2, 1, 3, 2, 0, 66.7, 33.3, 72.3, 91.3, 33.3, 33.3, 50.0)},
        # W2: received R2 R4 R6 R8 R10 R12 = 6; open R2 R4 R6 = 3 (late R2, soon R4);
        # answers R2 ✗ 120.5, R8 ✓ 60.75 → 50.0 / 50.0, median 90.625 → 90.6,
        # p90 60.75 + 0.9 × 59.75 = 114.525 → 114.5; returned 0/6 = 0.0; reopened R2 1/2 = 50.0;
        # ratings R2 2, R8 4 → 50.0.
        {"key": {"ward_code": "99902", "ward_name": "Phường Kiểm Thử W2"},
         **figures(6, 3, 1, 1, 2, 1, 1, 50.0, 50.0, 90.6, 114.5, 0.0, 50.0, 50.0)},
    ]


def test_several_dimensions(client, month, dispatcher):
    body = get(client, dispatcher, OCTOBER + "&group_by=ward,unit,unit")
    assert body["group_by"] == ["ward", "unit"]
    assert body["totals"] == TOTALS
    order = [(g["key"]["ward_code"], g["key"]["unit_code"], g["open_late"], g["received"])
             for g in body["groups"]]
    assert order == [
        ("99901", "KPI-B", 1, 3),  # R5 R7 R13, R7 late
        ("99902", "KPI-A", 1, 3),  # R2 R4 R12, R2 late: ties with the one above, W1 before W2
        ("99901", "KPI-A", 1, 2),  # R1 R3, R3 late
        ("99902", "KPI-B", 0, 2),  # R6 R8
        ("99901", None, 0, 1),     # R9
        ("99902", None, 0, 1),     # R10
    ]
    assert set(body["groups"][0]["key"]) == {"ward_code", "ward_name", "unit_code", "unit_name"}


def test_local_day_edges(client, month, dispatcher):
    last = get(client, dispatcher, "from=2019-10-31&to=2019-10-31")["totals"]
    assert last["received"] == 1 and last["open_on_time"] == 1  # R13 at 23:30 local
    first = get(client, dispatcher, "from=2019-11-01&to=2019-11-01")["totals"]
    assert first["received"] == 1  # R14 at 00:10 local is November's
    # Only a rating and a reopening fall on 3 November: no answers there.
    nov3 = get(client, dispatcher, "from=2019-11-03&to=2019-11-03")["totals"]
    assert nov3 == figures(0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, 100.0)


def test_empty_window(client, month, dispatcher):
    body = get(client, dispatcher, "from=2019-06-01&to=2019-06-30&group_by=unit,category,ward")
    assert body["totals"] == figures(0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, None)
    assert body["groups"] == []


def test_defaults_to_today(client, dispatcher):
    before = datetime.now(LOCAL_TZ).date().isoformat()
    body = get(client, dispatcher)
    after = datetime.now(LOCAL_TZ).date().isoformat()
    assert body["from"] == body["to"] and body["from"] in (before, after)
    only_to = get(client, dispatcher, "to=2019-10-31")
    assert only_to["from"] == "2019-10-31"


def test_access(client, app, orm):
    assert client.get(URL).status_code == 401
    assert client.get(URL).json["code"] == "UNAUTHENTICATED"
    officer_unit = orm.scalar(select(Unit.code).where(Unit.kind == "department")
                              .order_by(Unit.id).limit(1))
    officer = staff_headers(client, f"officer.{officer_unit.lower()}@bacninh-ioc.test")
    r = client.get(URL, headers=officer)
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    for email in ("dispatcher@bacninh-ioc.test", "admin@bacninh-ioc.test"):
        assert client.get(URL, headers=staff_headers(client, email)).status_code == 200
    _row, ioc_key = create_key(orm, "kpi wall", scopes=["ioc"])
    _row, open311_key = create_key(orm, "open311 only", scopes=["open311"])
    orm.flush()
    assert client.get(URL, headers={"X-Api-Key": ioc_key}).status_code == 200
    r = client.get(URL, headers={"X-Api-Key": open311_key})
    assert r.status_code == 403 and r.json["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("query, code, field", [
    ("from=2019-10-31&to=2019-10-01", "INVALID_DATE_RANGE", "from"),
    ("from=2018-01-01&to=2019-01-02", "INVALID_DATE_RANGE", "to"),  # 367 days
    ("from=2999-01-01", "INVALID_DATE_RANGE", "from"),  # after today's default 'to'
    ("from=2019-13-01&to=2019-12-31", "VALIDATION_ERROR", "from"),
    ("from=yesterday", "VALIDATION_ERROR", "from"),
    ("to=2019-10-32", "VALIDATION_ERROR", "to"),
    ("group_by=unit,street", "VALIDATION_ERROR", "group_by"),
])
def test_bad_input(client, dispatcher, query, code, field):
    r = client.get(f"{URL}?{query}", headers=dispatcher)
    assert r.status_code == 422, r.json
    assert r.json["code"] == code and r.json["status"] == 422
    assert field in r.json["errors"], r.json
    assert set(r.json) == {"code", "status", "message", "errors"}


def test_a_full_year_is_allowed(client, dispatcher):
    # 2020 is a leap year: 366 days inclusive is the limit.
    assert get(client, dispatcher, "from=2020-01-01&to=2020-12-31")["totals"]["received"] == 0


def test_bad_input_needs_access_first(client):
    assert client.get(f"{URL}?from=nope").status_code == 401


def test_rounding_is_half_up():
    assert _pct(1, 16) == 6.3          # 6.25 (Python's round() would give 6.2)
    assert _pct(2, 3) == 66.7 and _pct(1, 3) == 33.3
    assert _pct(0, 0) is None and _pct(0, 5) == 0.0
    assert _one_decimal(0.25) == 0.3 and _one_decimal(None) is None


def test_openapi_documents_the_route(client):
    spec = client.get("/openapi.json").json
    op = spec["paths"]["/api/v1/ioc/kpis"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"from", "to", "group_by"}
    assert {"staff": []} in op["security"]


def test_window_is_local_days():
    from api.ioc.kpi_queries import window
    start, end = window(date(2019, 10, 1), date(2019, 10, 31))
    assert start == datetime(2019, 9, 30, 17, tzinfo=timezone.utc)
    assert end == datetime(2019, 10, 31, 17, tzinfo=timezone.utc)
