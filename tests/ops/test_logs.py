"""One report followed across processes by its log lines: the API's request id and the report's
code appear on the API's lines and on the real worker's lines for the same report."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.api.helpers import report_body, submit, upload
from tests.integration.test_worker import SPOT, _env, _start_worker

pytestmark = pytest.mark.slow


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
    return lines


def test_a_reports_request_id_and_code_follow_it_into_the_worker(app_config, committed_client,
                                                                  app, tmp_path):
    app.extensions["task_sender"].control.purge()
    worker = _start_worker(_env(app_config, LOG_JSON="true"), tmp_path)
    try:
        request_id = f"trace-{uuid.uuid4().hex[:12]}"
        device = {"X-Device-Id": f"log-test-{uuid.uuid4().hex[:10]}"}
        photo = upload(committed_client, device, lat=SPOT[0] + 0.02, lon=SPOT[1])
        r = submit(committed_client, device | {"X-Request-Id": request_id},
                   report_body([photo.json["id"]], lat=SPOT[0] + 0.02, lon=SPOT[1],
                               category="illegal_dumping"))
        assert r.status_code == 201, r.json
        assert r.headers["X-Request-Id"] == request_id
        code = r.json["code"]
        deadline = time.monotonic() + 30
        routed = []
        while time.monotonic() < deadline and not routed:
            lines = _json_lines(worker.log.read_text(errors="replace"))
            routed = [line for line in lines if line.get("logger") == "workers.tasks"
                      and line.get("report_code") == code]
            time.sleep(0.3)
        assert routed, worker.log.read_text()[-3000:]
        assert all(line["request_id"] == request_id for line in routed)
        assert routed[0]["report_id"] is not None
        assert {"time", "level", "message"} <= set(routed[0])
    finally:
        worker.stop()
