"""Prometheus metrics, as the operator's scraper sees them: the API's /metrics (requests,
latency, errors, outbox, deliveries, SLA, queue depth), its access rules, and a real Celery
worker's task metrics on WORKER_METRICS_PORT."""
from __future__ import annotations

import dataclasses
import re
import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_worker import _env, _start_worker, _submit

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
PUBLIC = {"REMOTE_ADDR": "203.0.113.7"}


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def scrape(client) -> dict:
    r = client.get("/metrics", environ_base=LOOPBACK)
    assert r.status_code == 200, r.data[:500]
    assert r.headers["Content-Type"].startswith("text/plain")
    return samples(r.get_data(as_text=True))


def test_requests_are_counted_by_route_template_not_raw_path(client):
    before = scrape(client)
    for code in ("PA-2099-000001", "PA-2099-000002"):
        client.get(f"/api/v1/reports/{code}")
    after = scrape(client)
    route = "/api/v1/reports/<code>"
    counted = [k for k in after if k[0] == "ioc_http_requests_total"
               and dict(k[1]).get("route") == route]
    assert counted, "no sample for the route template"
    total = sum(after[k] - before.get(k, 0) for k in counted)
    assert total == 2
    assert not any("PA-2099" in dict(k[1]).get("route", "") for k in after)
    assert (value(after, "ioc_http_request_duration_seconds_count", method="GET", route=route)
            or 0) >= 2


def test_domain_gauges_follow_the_database(committed_client, device, app):
    before = scrape(committed_client)
    _submit(committed_client, lat_offset=0.03)  # commits a report and its routing outbox row
    # (in a quiet corner of the province: committed reports must not show up in other tests)
    after = scrape(committed_client)
    assert value(after, "ioc_domain_metrics_up") == 1
    assert value(after, "ioc_outbox_pending") >= value(before, "ioc_outbox_pending") + 1
    assert value(after, "ioc_outbox_oldest_age_seconds") >= 0
    for name in ("ioc_sla_open_reports", "ioc_sla_due_soon_reports", "ioc_sla_breached_reports"):
        assert value(after, name) is not None, name
    assert value(after, "ioc_deliveries", channel="push", status="pending") is not None
    assert value(after, "ioc_broker_up") == 1
    # no worker runs here: the routing task the report sent waits in the queue (a broker may
    # take a moment to count a message it has just been given)
    deadline = time.monotonic() + 10
    while (value(after, "ioc_celery_queue_length", queue="celery") or 0) < 1:
        assert time.monotonic() < deadline, value(after, "ioc_celery_queue_length", queue="celery")
        time.sleep(0.2)
        after = scrape(committed_client)
    # the gauges are the database's truth, not an estimate
    from sqlalchemy import text
    from api.db import db
    with app.app_context(), db.engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM outbox WHERE processed_at IS NULL")).scalar()
    final = scrape(committed_client)
    assert value(final, "ioc_outbox_pending") == pending


def test_metrics_refuse_public_callers_with_the_error_envelope(client):
    r = client.get("/metrics", environ_base=PUBLIC)
    assert r.status_code == 403
    assert r.json["code"] == "FORBIDDEN"


def _app_with(app_config, **changes):
    from api import create_app
    return create_app(dataclasses.replace(app_config, **changes))


def test_metrics_token_is_required_from_everywhere_when_set(app_config):
    token = "m" * 24
    app = _app_with(app_config, METRICS_TOKEN=token)
    client = app.test_client()
    r = client.get("/metrics", environ_base=LOOPBACK)
    assert r.status_code == 401 and r.json["code"] == "UNAUTHENTICATED"
    assert client.get("/metrics", environ_base=PUBLIC,
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", environ_base=PUBLIC, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and b"ioc_http_requests_total" in ok.data


def test_a_broker_that_does_not_answer_is_a_gauge_not_a_failed_scrape(app_config):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    app = _app_with(app_config, CELERY_BROKER_URL=f"redis://127.0.0.1:{dead}/0")
    found = scrape(app.test_client())
    assert value(found, "ioc_broker_up") == 0
    assert value(found, "ioc_domain_metrics_up") == 1


def test_server_errors_are_counted(app_config):
    app = _app_with(app_config)

    @app.get("/boom-for-metrics")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    before = scrape(client)
    assert client.get("/boom-for-metrics").status_code == 500
    after = scrape(client)
    key = dict(method="GET", route="/boom-for-metrics")
    assert value(after, "ioc_http_server_errors_total", **key) == \
        (value(before, "ioc_http_server_errors_total", **key) or 0) + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_worker_serves_its_task_metrics(app_config, committed_client, device, tmp_path,
                                               app):
    app.extensions["task_sender"].control.purge()
    port = _free_port()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    worker = _start_worker(_env(app_config, WORKER_METRICS_PORT=str(port),
                                PROMETHEUS_MULTIPROC_DIR=str(multiproc)), tmp_path)
    try:
        _submit(committed_client, lat_offset=0.04)
        deadline = time.monotonic() + 30
        routed = 0.0
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                found = samples(r.read().decode())
            routed = value(found, "ioc_celery_tasks_total", task="reports.route",
                           outcome="succeeded") or 0
            if routed >= 1:
                break
            time.sleep(0.3)
        assert routed >= 1, worker.log.read_text()[-3000:]
        assert (value(found, "ioc_celery_task_duration_seconds_count", task="reports.route")
                or 0) >= 1
    finally:
        worker.stop()
