"""A page of reports costs a fixed number of SQL statements, not one more per report (the map
asks for 200 at a time)."""
from __future__ import annotations

import uuid

from sqlalchemy import event

from tests.api.helpers import report_body, submit, upload

SPOT = (21.0905, 106.3001)  # a corner no other test uses
BBOX = "106.29,21.08,106.31,21.10"


def _report(client, i):
    device = {"X-Device-Id": f"qcount-{uuid.uuid4().hex[:10]}"}
    photo = upload(client, device, lat=SPOT[0], lon=SPOT[1] + i * 1e-4)
    r = submit(client, device, report_body([photo.json["id"]], lat=SPOT[0],
                                           lon=SPOT[1] + i * 1e-4))
    assert r.status_code == 201, r.json


def _statements(client, app, path) -> tuple[int, dict]:
    from api.db import db
    seen = []

    def count(*_):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.json
    return len(seen), r.json


def test_a_page_of_reports_costs_the_same_statements_for_3_or_12_reports(client, app):
    for i in range(3):
        _report(client, i)
    few, body = _statements(client, app, f"/api/v1/reports?format=geojson&bbox={BBOX}&limit=50")
    assert len(body["features"]) == 3
    assert all(f["properties"]["sla"] is not None for f in body["features"])
    for i in range(3, 12):
        _report(client, i)
    many, body = _statements(client, app, f"/api/v1/reports?format=geojson&bbox={BBOX}&limit=50")
    assert len(body["features"]) == 12
    assert many == few, (few, many)
    json_few, _ = _statements(client, app, f"/api/v1/reports?bbox={BBOX}&limit=3")
    json_many, listed = _statements(client, app, f"/api/v1/reports?bbox={BBOX}&limit=12")
    assert len(listed["items"]) == 12 and json_many == json_few
