"""Open data exports: public fields only, date ranges, streamed."""
import csv
import io
import json
from datetime import date, timedelta

from tests.api.helpers import new_report


def test_csv_export(client, citizen_token):
    headers = {"Authorization": f"Bearer {citizen_token(phone='+84911222333', name='Trần Thị B')}"}
    created = new_report(client, headers, contact={"name": "Trần Thị B", "phone": "0911222333"})
    r = client.get("/api/v1/exports/reports.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.is_streamed
    text = r.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = next(row for row in rows if row["code"] == created["code"])
    assert mine["category"] == "streetlight_out" and mine["open311_status"] == "open"
    assert mine["created_at"].endswith("+07:00")
    for private in ("0911222333", "+84911222333", "Trần Thị B"):
        assert private not in text


def test_geojson_export(client, device):
    created = new_report(client, device)
    r = client.get("/api/v1/exports/reports.geojson")
    assert r.status_code == 200 and r.is_streamed
    data = json.loads(r.data)
    feature = next(f for f in data["features"] if f["id"] == created["code"])
    assert feature["geometry"]["type"] == "Point"
    assert "contact" not in json.dumps(feature)


def test_date_range(client, device):
    created = new_report(client, device)
    today = date.today()
    past = client.get(f"/api/v1/exports/reports.csv?from={today - timedelta(days=60)}"
                      f"&to={today - timedelta(days=31)}").data.decode("utf-8-sig")
    assert created["code"] not in past
    now = client.get(f"/api/v1/exports/reports.csv?from={today - timedelta(days=1)}"
                     f"&to={today + timedelta(days=1)}").data.decode("utf-8-sig")
    assert created["code"] in now
    closed = client.get("/api/v1/exports/reports.csv?status=closed").data.decode("utf-8-sig")
    assert created["code"] not in closed


def test_bad_ranges(client):
    for query in ("from=2026-05-02&to=2026-05-01", "from=2024-01-01&to=2026-01-01", "from=nope"):
        r = client.get(f"/api/v1/exports/reports.csv?{query}")
        assert r.status_code == 422, query
        assert r.json["code"] == "VALIDATION_ERROR"


def test_dates_far_out_of_range_are_refused_not_crashed(client):
    for q in ({"from": "9999-12-31"}, {"to": "9999-12-31"}, {"from": "0001-01-01"}):
        r = client.get("/api/v1/exports/reports.geojson", query_string=q)
        assert r.status_code == 422 and r.json["code"] == "VALIDATION_ERROR", q
