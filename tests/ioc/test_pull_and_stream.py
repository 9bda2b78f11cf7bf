"""The IOC pull API (reports and events) and the live SSE stream."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from api.db import db
from api.open311.keys import create_key, revoke
from api.reports.publish import Published, announce
from tests.api.helpers import routed_report, new_report, run_publishing, staff_headers



@pytest.fixture()
def dispatcher(client):
    return staff_headers(client, "dispatcher@bacninh-ioc.test")




def test_who_may_read_the_feed(client, citizen, session):
    assert client.get("/api/v1/ioc/reports").status_code == 401
    assert client.get("/api/v1/ioc/reports", headers=citizen).json["code"] == "STAFF_ONLY"
    admin = staff_headers(client, "admin@bacninh-ioc.test")
    assert client.get("/api/v1/ioc/reports", headers=admin).status_code == 200
    _row, ioc_key = create_key(session, "IOC vendor", scopes=["ioc"])
    _row2, o311_key = create_key(session, "Open311 partner")
    assert client.get("/api/v1/ioc/reports", headers={"X-Api-Key": ioc_key}).status_code == 200
    r = client.get("/api/v1/ioc/events", headers={"X-Api-Key": o311_key})
    assert r.status_code == 403 and r.json["code"] == "INVALID_API_KEY"
    revoke(session, _row.id)
    session.flush()
    assert client.get("/api/v1/ioc/reports", headers={"X-Api-Key": ioc_key}).status_code == 403
    # An ioc key is not an Open311 key either.
    _row3, fresh_ioc_key = create_key(session, "IOC only", scopes=["ioc"])
    r = client.post("/open311/v2/requests.json", data={"api_key": fresh_ioc_key})
    assert r.status_code == 403


def test_officers_cannot_read_the_ioc_feed(client, device, session):
    report = routed_report(client, device, session)
    officer = staff_headers(client, f"officer.{report.unit.code.lower()}@bacninh-ioc.test")
    r = client.get("/api/v1/ioc/reports", headers=officer)
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"


def test_reports_since_a_time_paged_by_cursor(client, device, dispatcher, session):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    codes = [routed_report(client, device, session, lat=21.1861 + i * 0.003).code for i in range(5)]
    seen, cursor = [], None
    while True:
        q = {"updated_since": since.isoformat(), "page_size": 2}
        if cursor:
            q["cursor"] = cursor
        page = client.get("/api/v1/ioc/reports", headers=dispatcher, query_string=q).json
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [c for c in seen if c in codes] == codes  # oldest change first, none twice
    one = client.get("/api/v1/ioc/reports", headers=dispatcher,
                     query_string={"updated_since": since.isoformat()}).json["items"][0]
    assert set(one) >= {"code", "status", "unit_code", "ward_name", "sla_state", "resolve_due_at"}
    assert "contact_phone" not in one and "contact_name" not in one
    assert one["sla_state"] in ("on_time", "due_soon") and one["resolve_due_at"].endswith("+07:00")


def test_geojson_for_the_map(client, device, dispatcher, session):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    report = routed_report(client, device, session)
    r = client.get("/api/v1/ioc/reports", headers=dispatcher,
                   query_string={"format": "geojson", "open": "true",
                                 "updated_since": since.isoformat()})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    features = {f["id"]: f for f in r.json["features"]}
    feature = features[report.code]
    assert feature["geometry"]["coordinates"] == [report.lon, report.lat]
    assert feature["properties"]["unit_name"] == report.unit.name_vi
    by_accept = client.get("/api/v1/ioc/reports", headers=dispatcher | {
        "Accept": "application/geo+json"}, query_string={"updated_since": since.isoformat()})
    assert by_accept.json["type"] == "FeatureCollection"


def test_sla_state_turns_overdue(client, device, dispatcher, session):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    report = routed_report(client, device, session)
    from api.sla.models import SlaClock
    from sqlalchemy import update
    session.execute(update(SlaClock).where(SlaClock.report_id == report.id,
                                           SlaClock.kind == "RESOLVE")
                    .values(due_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    items = client.get("/api/v1/ioc/reports", headers=dispatcher,
                       query_string={"updated_since": since.isoformat()}).json["items"]
    assert next(i for i in items if i["code"] == report.code)["sla_state"] == "overdue"


def test_bad_pull_input_is_explained(client, dispatcher):
    for q in ({"cursor": "garbage!"}, {"page_size": 0}, {"page_size": 5000},
              {"updated_since": "yesterday"}, {"format": "xml"}, {"open": "maybe"}):
        r = client.get("/api/v1/ioc/reports", headers=dispatcher, query_string=q)
        assert r.status_code == 422 and r.json["code"] == "VALIDATION_ERROR", q
    r = client.get("/api/v1/ioc/events", headers=dispatcher, query_string={"types": "report.x"})
    assert r.status_code == 422
    r = client.get("/api/v1/ioc/stream", headers=dispatcher | {"Last-Event-ID": "abc"})
    assert r.status_code == 400 and r.json["code"] == "INVALID_LAST_EVENT_ID"


def test_events_log_pages_in_id_order(client, device, dispatcher, session):
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    everything = client.get("/api/v1/ioc/events", headers=dispatcher,
                            query_string={"after": 0, "limit": 5000}).json
    mine = [e for e in everything["items"] if e["subject"] == report.code]
    assert [e["type"] for e in mine] == ["report.created", "report.routed", "report.status_changed"]
    after = int(mine[0]["id"])
    page = client.get("/api/v1/ioc/events", headers=dispatcher,
                      query_string={"after": after, "types": "report.routed"}).json
    assert all(e["type"] == "report.routed" for e in page["items"])
    assert all(int(e["id"]) > after for e in page["items"])


def _read_sse(response, want: int, timeout: float = 10.0, until=None) -> list[dict]:
    """Parse SSE messages off a streamed response until ``want`` arrived (or ``until(events)``)."""
    events, buffer, deadline = [], "", time.monotonic() + timeout
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines()
                          if ": " in line and not line.startswith(":"))
            if "data" in fields:
                events.append({"id": fields["id"], "event": fields["event"],
                               "data": json.loads(fields["data"])})
        done = until(events) if until else len(events) >= want
        if done or time.monotonic() > deadline:
            break
    return events


def test_stream_sends_the_backlog_then_live_events(app, client, device, dispatcher, session):
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    rows = client.get("/api/v1/ioc/events", headers=dispatcher,
                      query_string={"after": 0, "limit": 5000}).json["items"]
    mine = [e for e in rows if e["subject"] == report.code]
    resume_after = int(mine[0]["id"])
    response = client.get("/api/v1/ioc/stream", headers=dispatcher | {
        "Last-Event-ID": str(resume_after)}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    backlog = _read_sse(response, 2)
    assert [e["event"] for e in backlog][:2] == ["report.routed", "report.status_changed"]
    assert all(int(e["id"]) > resume_after for e in backlog)

    # A new event announced after commit reaches the open stream.
    officer = staff_headers(client, f"officer.{report.unit.code.lower()}@bacninh-ioc.test")

    def later():
        time.sleep(0.5)
        with app.app_context():
            from api.ioc.models import IocEvent
            row = db.session.scalar(select(IocEvent).where(IocEvent.report_id == report.id)
                                    .order_by(IocEvent.id.desc()))
            announce(Published(ioc_events=[row]))

    assert client.post(f"/api/v1/staff/reports/{report.code}/transitions", headers=officer,
                       json={"to": "accepted"}).status_code == 200
    run_publishing(session, [report.id])
    threading.Thread(target=later, daemon=True).start()
    live = _read_sse(response, 1)
    response.close()
    assert live and live[0]["event"] == "report.status_changed"
    assert live[0]["data"]["data"]["status"] == "accepted"
    assert live[0]["data"]["data"]["change"]["to_status"] == "accepted"


def test_stream_without_last_event_id_starts_with_recent_events(client, device, dispatcher, session):
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    response = client.get("/api/v1/ioc/stream", headers=dispatcher, buffered=False)
    first = _read_sse(response, 0, until=lambda events: sum(
        e["data"]["subject"] == report.code for e in events) == 3)
    response.close()
    # The newest events come first, oldest of them first: this report's three end the backlog.
    assert len(first) <= 20
    assert [e["data"]["subject"] for e in first][-3:] == [report.code] * 3
