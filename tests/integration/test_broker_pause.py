"""While the broker is down, reports are still accepted at once: after one failed send the
API leaves the tasks to the outbox relay for a few seconds instead of waiting out a
connection attempt per request. A loopback listener stands in for a broker that drops
every connection, and counts the attempts."""
from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid

from sqlalchemy import text

from tests.api.helpers import report_body, submit, upload

SPOT = (21.3867 + 0.05, 106.6100)  # Lục Ngạn, clear of the worker tests' points


class DroppingBroker:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.sock.close()


def test_a_failed_send_pauses_sending_and_reports_stay_in_the_outbox(app, app_config,
                                                                     monkeypatch):
    from api import create_app
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery prefers it to its argument
    from api.db import db
    broker = DroppingBroker()
    try:
        app = create_app(dataclasses.replace(
            app_config, CELERY_BROKER_URL=f"redis://127.0.0.1:{broker.port}/0"))
        client = app.test_client()
        codes = []
        for i in range(3):
            device = {"X-Device-Id": f"pause-{uuid.uuid4().hex[:10]}"}
            photo = upload(client, device, lat=SPOT[0], lon=SPOT[1] + i * 1e-4)
            r = submit(client, device, report_body([photo.json["id"]], lat=SPOT[0],
                                                   lon=SPOT[1] + i * 1e-4))
            assert r.status_code == 201, r.json
            codes.append(r.json["code"])
            if i == 0:  # the first report did try the broker (the listener counts it soon)
                deadline = time.monotonic() + 5
                while broker.accepted < 1 and time.monotonic() < deadline:
                    time.sleep(0.05)
                tried = broker.accepted
                assert tried >= 1
        time.sleep(0.5)
        assert broker.accepted == tried  # the next two did not wait on it
        with app.app_context(), db.engine.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM outbox o JOIN report r ON r.id = o.report_id "
                "WHERE r.code = ANY(:codes) AND o.topic = 'report.route' "
                "AND o.processed_at IS NULL"), {"codes": codes}).scalar()
        assert waiting == 3  # every report will be routed by the relay
    finally:
        broker.close()
