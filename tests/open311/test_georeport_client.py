"""A real Open311 client (PyPI ``georeport``) against a running server, with committed data.

georeport 0.3.1 only reads (services, definitions, requests): it has no create
call, so the request is posted with ``requests`` using the client's api_key.
A quiet spot far from the other tests' points keeps their duplicate checks clean.
"""
from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import delete, select

georeport = pytest.importorskip("georeport")

QUIET = (21.4500, 106.5000)


@pytest.fixture()
def live_server(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture()
def committed_key(app):
    """A real key, committed, and everything made with it removed afterwards."""
    from api.db import db
    from api.identity.models import Citizen
    from api.open311.keys import create_key
    from api.open311.models import Open311ApiKey
    from api.reports.models import Report
    with app.app_context(), db.unit_of_work() as session:
        row, raw = create_key(session, "georeport live test")
        key_id = row.id
    yield raw
    with app.app_context(), db.unit_of_work() as session:
        citizens = select(Citizen.id).where(Citizen.principal.like(f"o311:{key_id}:%"))
        # Events, outbox rows, followers and clocks go with the report (ON DELETE CASCADE).
        session.execute(delete(Report).where(Report.citizen_id.in_(citizens)))
        session.execute(delete(Citizen).where(Citizen.principal.like(f"o311:{key_id}:%")))
        session.execute(delete(Open311ApiKey).where(Open311ApiKey.id == key_id))


def test_georeport_client_round_trip(live_server, committed_key):
    client = georeport.GeoReport(live_server, api_key=committed_key)
    services = {s["service_code"]: s for s in client.get_service_list()}
    assert services["noise"]["metadata"] is True

    definition = client.get_service_definition("noise")
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["source", "schedule"]

    r = requests.post(f"{live_server}/requests.json", timeout=10, data={
        "api_key": client.api_key, "service_code": "noise", "lat": QUIET[0], "long": QUIET[1],
        "description": "Loa kẹo kéo mở to sau 22 giờ (kiểm thử Open311).",
        "device_id": "georeport-live-test", "attribute[source]": "karaoke_speaker"})
    assert r.status_code == 200, r.text
    code = r.json()[0]["service_request_id"]

    item = client.get_service_request(code)
    assert item["service_request_id"] == code
    assert (item["status"], item["service_code"]) == ("open", "noise")
    assert (item["lat"], item["long"]) == QUIET
    assert any(i["service_request_id"] == code
               for i in client.get_service_requests(service_request_id=code))

    xml_client = georeport.GeoReport(live_server, output_format="xml")
    assert xml_client.get_service_request(code)["service_request_id"] == code
    assert xml_client.get_service_definition("noise")["service_code"] == "noise"
    assert any(s["service_code"] == "noise" for s in xml_client.get_service_list())
