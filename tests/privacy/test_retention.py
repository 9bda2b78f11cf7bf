"""Retention: old closed reports lose their reporter; open and recent ones keep it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from api.identity.models import Citizen
from api.privacy import retention
from api.privacy.models import AuditLog
from api.reports.models import Report, ReportEvent, ReportFollower
from tests.api.helpers import new_report

YEAR = timedelta(days=365)


def _age(session, code, *, status, created_ago, resolved_ago=None):
    now = datetime.now(timezone.utc)
    session.execute(text(
        "UPDATE report SET status = :s, created_at = :c, resolved_at = :r WHERE code = :code"),
        {"s": status, "c": now - created_ago,
         "r": now - resolved_ago if resolved_ago is not None else None, "code": code})


def _row(session, code) -> Report:
    return session.scalar(select(Report).where(Report.code == code)
                          .execution_options(populate_existing=True))


@pytest.fixture()
def reports(client, session, device):
    """Six reports of one reporter, aged and in various states; value: is it due?"""
    cases = {
        "closed_old": (dict(status="closed", created_ago=4 * YEAR), True),
        "rejected_old": (dict(status="rejected", created_ago=4 * YEAR), True),
        "resolved_long_ago": (dict(status="resolved", created_ago=4 * YEAR,
                                   resolved_ago=timedelta(days=60)), True),
        "resolved_lately": (dict(status="resolved", created_ago=4 * YEAR,
                                 resolved_ago=timedelta(days=10)), False),
        "open_old": (dict(status="in_progress", created_ago=4 * YEAR), False),
        "closed_recent": (dict(status="closed", created_ago=YEAR), False),
    }
    out = {}
    for i, (name, (age, due)) in enumerate(cases.items()):
        code = new_report(client, device, lat=21.1861 + i * 0.0005,
                          contact={"name": "Lê Văn Cường", "phone": "0901234567"})["code"]
        _age(session, code, **age)
        out[name] = (code, due)
    session.flush()
    return out


def _anon_id(session):
    return session.scalar(select(Citizen.id).where(Citizen.principal == "anon:retention"))


def _audit_rows(session):
    return session.scalars(select(AuditLog).where(AuditLog.action == "reports.anonymised")
                           .order_by(AuditLog.id)).all()


def test_old_closed_reports_are_anonymised_and_nothing_else(app, session, reports):
    before_rows = len(_audit_rows(session))
    owner = _row(session, reports["closed_old"][0]).citizen_id
    assert retention.run() == 3
    anon = _anon_id(session)
    for name, (code, due) in reports.items():
        row = _row(session, code)
        if due:
            assert (row.contact_name, row.contact_phone) == (None, None), name
            assert row.anonymised_at is not None and row.citizen_id == anon, name
            assert not session.scalar(select(ReportFollower).where(
                ReportFollower.report_id == row.id, ReportFollower.citizen_id == owner)), name
            assert session.scalar(select(ReportEvent.actor_id).where(
                ReportEvent.report_id == row.id, ReportEvent.type == "created")) is None
        else:
            assert row.contact_name == "Lê Văn Cường" and row.anonymised_at is None, name
            assert row.citizen_id == owner, name
    [audit] = _audit_rows(session)[before_rows:]
    assert audit.actor_kind == "system" and audit.detail["count"] == 3
    cutoff = datetime.fromisoformat(audit.detail["before"])
    assert abs((datetime.now(timezone.utc) - cutoff) - timedelta(days=1095)) < timedelta(minutes=5)


def test_a_second_run_changes_nothing(session, reports):
    assert retention.run() == 3
    stamps = {c: _row(session, c).anonymised_at for c, _due in reports.values()}
    rows = len(_audit_rows(session))
    assert retention.run() == 0
    assert {c: _row(session, c).anonymised_at for c, _due in reports.values()} == stamps
    assert len(_audit_rows(session)) == rows  # no empty batches in the log
    assert session.scalar(select(func.count()).select_from(Citizen)
                          .where(Citizen.principal == "anon:retention")) == 1


def test_batches_each_write_one_audit_row(session, reports):
    rows = len(_audit_rows(session))
    assert retention.run(batch=1) == 3
    assert [a.detail["count"] for a in _audit_rows(session)[rows:]] == [1, 1, 1]


def test_retention_days_zero_switches_it_off(app, session, reports, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "RETENTION_DAYS", 0)
    assert retention.run() == 0
    from workers.privacy import privacy_retention
    assert privacy_retention() == 0
    assert all(_row(session, c).anonymised_at is None for c, _due in reports.values())
    out = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert out.exit_code == 0 and "off" in out.output


def test_a_shorter_retention_takes_more(app, session, reports, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "RETENTION_DAYS", 300)
    assert retention.run() == 4  # closed_recent (a year old) is due too


def test_the_celery_task_and_the_cli(app, session, reports):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "3 report(s)" in dry.output and "would be" in dry.output
    assert all(_row(session, c).anonymised_at is None for c, _due in reports.values())
    from workers.privacy import privacy_retention
    assert privacy_retention.name == "privacy.retention"
    assert privacy_retention() == 3
    done = runner.invoke(args=["privacy", "retention"])
    assert done.exit_code == 0 and "0 report(s)" in done.output

