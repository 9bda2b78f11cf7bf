"""Backup round trip: pg_dump -Fc of a migrated database with reports, pg_restore into a new
database, and the copy has the same reports, events and SLA clocks, is at the migration head,
and serves the API.

The source and the copy are databases of their own (not the session's test database), so the
API that writes and reads them runs in a subprocess (``python -m tests.ops.test_backup``):
the app's database handle is process-wide.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from scripts import backup, services
from tests.conftest import ROOT

# Tables compared row by row; every other table is compared by row count.
COMPARED = {"report": "id", "report_event": "id", "sla_clock": "id", "photo": "id",
            "outbox": "id"}


def _scratch(base_url: str, label: str) -> str:
    return make_url(base_url).set(database=f"ioc_{label}_{uuid.uuid4().hex[:8]}").render_as_string(
        hide_password=False)


def _run_api(command: str, database_url: str, redis_url: str, tmp_path) -> dict:
    # No broker: the tasks the API enqueues after commit name ids of this database, and a
    # worker of the session's tests must not receive them (the outbox rows stay, unsent).
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
               PHOTOS_DIR=str(tmp_path / "photos"))
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run([sys.executable, "-m", "tests.ops.test_backup", command], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _rows(engine, table: str, key: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {key}'))]


def _indexes(engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")).all())


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


@pytest.fixture()
def databases(database_url):
    source, copy = _scratch(database_url, "bk_src"), _scratch(database_url, "bk_copy")
    services.ensure_database(source)
    services.ensure_database(copy)
    yield source, copy
    services.drop_database(source)
    services.drop_database(copy)


def test_dump_and_restore_round_trip(databases, redis_url, tmp_path):
    source, copy = databases
    try:
        backup.client_bin_dir(source)
    except backup.BackupError as exc:
        pytest.skip(str(exc))
    from alembic import command
    from alembic.config import Config as AlembicConfig
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = source
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")

    seeded = _run_api("seed", source, redis_url, tmp_path)
    assert len(seeded["codes"]) == 3

    dump_file = backup.dump(source, tmp_path / "ioc.dump")
    assert dump_file.read_bytes()[:5] == b"PGDMP"   # the custom format
    backup.restore(dump_file, copy)

    src_engine, copy_engine = create_engine(source), create_engine(copy)
    try:
        for table, key in COMPARED.items():
            rows = _rows(src_engine, table, key)
            assert rows, f"nothing in {table} to compare"
            assert _rows(copy_engine, table, key) == rows, table
        assert _counts(copy_engine) == _counts(src_engine)
        # Every index came back, the earthdistance GiST ones included (see scripts/backup.py).
        indexes = _indexes(src_engine)
        assert "ix_report_earth" in {name for name, _ in indexes}
        assert _indexes(copy_engine) == indexes
        with copy_engine.connect() as conn:
            clocks = conn.execute(text(
                "SELECT kind FROM sla_clock JOIN report ON report.id = sla_clock.report_id "
                "WHERE report.code = :code"), {"code": seeded["routed"][0]}).scalars().all()
            events = conn.execute(text(
                "SELECT type FROM report_event JOIN report ON report.id = report_event.report_id "
                "WHERE report.code = :code"), {"code": seeded["routed"][0]}).scalars().all()
        assert {"TRIAGE", "RESOLVE", "ACCEPT", "UNIT_RESOLVE"} <= set(clocks)
        assert "routed" in " ".join(events)
    finally:
        src_engine.dispose()
        copy_engine.dispose()

    # The documented check: `alembic current` on the copy says head.
    env = dict(os.environ, DATABASE_URL=copy)
    current = subprocess.run([str(ROOT / ".venv" / "bin" / "alembic"), "current"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    heads = subprocess.run([str(ROOT / ".venv" / "bin" / "alembic"), "heads"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert current.returncode == 0, current.stderr
    head = heads.stdout.split()[0]
    assert f"{head} (head)" in current.stdout, current.stdout + current.stderr

    # The API serves the copy: the routed report reads as before, and a new report gets a
    # fresh id and code (the sequences were restored too).
    served = _run_api("read", copy, redis_url, tmp_path)
    before = {r["code"]: r for r in seeded["reports"]}
    for report in served["reports"]:
        assert report == before[report["code"]]
    assert served["new_code"] not in before


# --- the API side, run as `python -m tests.ops.test_backup seed|read` ------------------------

def _app():
    from api import create_app
    from api.config import Config
    config = Config(
        APP_ENV="test", SECRET_KEY="backup-test-secret-" + "x" * 32,
        DATABASE_URL=os.environ["DATABASE_URL"], REDIS_URL=os.environ["REDIS_URL"],
        DATA_DIR=os.environ["PHOTOS_DIR"], PHOTO_STORAGE_URL=os.environ["PHOTOS_DIR"],
        PUBLIC_BASE_URL="http://testserver", LOG_JSON=False,
        LOG_LEVEL="WARNING")
    return create_app(config)


def _public(client, code: str) -> dict:
    response = client.get(f"/api/v1/reports/{code}")
    assert response.status_code == 200, response.json
    events = client.get(f"/api/v1/reports/{code}/events")
    assert events.status_code == 200, events.json
    return {**response.json, "events": events.json["events"]}


def _forget_cached(app, codes) -> None:
    """The public view cache is in the shared test Redis, keyed by code, and these codes
    also exist in the session's database: leave nothing behind."""
    from api.reports import cache
    cache.invalidate(app.extensions["redis"], set(codes))


def _seed() -> dict:
    from sqlalchemy import select
    from api.db import db
    from api.reference import loaders
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    from tests.api.helpers import new_report
    app = _app()
    with app.app_context(), db.unit_of_work() as session:
        loaders.load_admin_units(session)
        loaders.load_units(session, app.config["APP"].PROVINCE_CODE)
        loaders.load_categories(session, allow_anonymous_everywhere=True)
        loaders.load_sla_policies(session)
    client = app.test_client()
    device = {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
    codes = [new_report(client, device, description=f"Ổ gà lớn trên đường số {n}, "
                                                    "nguy hiểm cho xe máy ban đêm.")["code"]
             for n in range(3)]
    with app.app_context(), db.unit_of_work() as session:
        for code in codes[:2]:
            route_report(session, session.scalar(select(Report.id).where(Report.code == code)),
                         AddressLookup(None))
    reports = [_public(client, c) for c in codes]
    _forget_cached(app, codes)
    return {"codes": codes, "routed": codes[:2], "reports": reports}


def _read() -> dict:
    from sqlalchemy import select
    from api.db import db
    from api.reports.models import Report
    from tests.api.helpers import new_report
    app = _app()
    with app.app_context(), db.unit_of_work() as session:
        codes = session.scalars(select(Report.code).order_by(Report.id)).all()
    client = app.test_client()
    reports = [_public(client, c) for c in codes]
    _forget_cached(app, codes)   # read from the restored database, not from the cache
    reports = [_public(client, c) for c in codes]
    device = {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
    new_code = new_report(client, device)["code"]
    _forget_cached(app, [*codes, new_code])
    return {"reports": reports, "new_code": new_code}


if __name__ == "__main__":
    print(json.dumps({"seed": _seed, "read": _read}[sys.argv[1]](), ensure_ascii=False,
                     default=str))
