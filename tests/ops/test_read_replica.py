"""DATABASE_READ_URL: the IOC's pulls (reports, events) and KPIs read the replica, everything
else the primary. The "replica" here is a second database at the migration head that has not
caught up with anything yet, so what each endpoint answers tells which database it read."""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from scripts import services
from tests.api.helpers import report_body, staff_headers, submit, upload

HERE = (21.3867 + 0.08, 106.6100)  # Lục Ngạn, clear of other tests' points


@pytest.fixture()
def replica_url(migrated_db):
    from alembic import command
    from alembic.config import Config as AlembicConfig
    url = make_url(migrated_db).set(database=f"ioc_replica_{uuid.uuid4().hex[:8]}") \
        .render_as_string(hide_password=False)
    services.ensure_database(url)
    cfg = AlembicConfig("alembic.ini")
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    yield url
    services.drop_database(url)


def test_ioc_pulls_and_kpis_read_the_replica_and_the_rest_the_primary(app, app_config,
                                                                        replica_url):
    from api import create_app
    from api.db import db
    replica_app = create_app(dataclasses.replace(app_config, DATABASE_READ_URL=replica_url))
    client = replica_app.test_client()
    since = (datetime.now(timezone.utc) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        device = {"X-Device-Id": f"replica-{uuid.uuid4().hex[:10]}"}
        photo = upload(client, device, lat=HERE[0], lon=HERE[1])
        created = submit(client, device, report_body([photo.json["id"]], lat=HERE[0],
                                                     lon=HERE[1]))
        assert created.status_code == 201, created.json  # written to the primary
        code = created.json["code"]
        assert client.get(f"/api/v1/reports/{code}").status_code == 200  # read from it
        staff = staff_headers(client, "dispatcher@bacninh-ioc.test")  # sign-in: the primary

        pulled = client.get("/api/v1/ioc/reports?updated_since=2000-01-01T00:00:00Z",
                            headers=staff)
        assert pulled.status_code == 200, pulled.json
        assert pulled.json["items"] == []  # the replica has not caught up with anything
        events = client.get("/api/v1/ioc/events", headers=staff)
        assert events.status_code == 200 and events.json["items"] == []
        kpis = client.get("/api/v1/ioc/kpis", headers=staff)
        assert kpis.status_code == 200, kpis.json

        # the replica's session refuses writes (default_transaction_read_only)
        with replica_app.test_request_context("/"):
            with pytest.raises(Exception, match="read-only"):
                db.read_session.execute(text("CREATE TABLE should_fail (x int)"))
        # without a replica the same pull reads the primary and finds the report
        db.read_engine.dispose()
        db.read_engine = db.ReadSession = None
        found = client.get(f"/api/v1/ioc/reports?updated_since={since}&page_size=1000",
                           headers=staff)
        assert code in {i["code"] for i in found.json["items"]}
    finally:
        if db.read_engine is not None:  # one Database object per process: no replica after
            db.read_engine.dispose()
            db.read_engine = db.ReadSession = None
