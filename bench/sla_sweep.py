"""One SLA sweep's time as open reports grow: 100,000 then 1,000,000 (1 % due).

    .venv/bin/python bench/sla_sweep.py [--sizes 100000 1000000] [--due-pct 1]

One real report is created through the service (so its clocks' state is
genuine), then cloned in SQL with its TRIAGE and RESOLVE clocks; 1 % of the
reports get clocks whose next check has come. A sweep checks every due clock
(in batches of 1,000, as the worker does: each batch one transaction) and
the figure is the wall time until nothing is due. Target: < 1 s at 100,000
and flat as open reports grow: the same 1,000 due reports are also swept at
every size. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from harness import Stack

from sqlalchemy import create_engine, text


FIXED_DUE = 1000  # 1 % of 100,000


def seed(engine, template_id: int, total: int, due_pct: float) -> None:
    """Clone the template report and its two clocks until there are ``total`` open reports."""
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM report")).scalar()
        add = total - have
        if add <= 0:
            return
        conn.execute(text("""
            INSERT INTO report (code, status, category_code, description, lat, lon, location_source,
                                address, ward_code, unit_id, citizen_id, attributes, source,
                                created_at, updated_at, sla_class, sla_policy_id)
            SELECT 'PB-' || (:start + g), status, category_code, description,
                   lat + (random() - 0.5) * 0.2, lon + (random() - 0.5) * 0.2, location_source,
                   address, ward_code, unit_id, citizen_id, attributes, source,
                   created_at, updated_at, sla_class, sla_policy_id
            FROM report, generate_series(1, :n) AS g WHERE report.id = :t"""),
            {"start": have, "n": add, "t": template_id})
        conn.execute(text("""
            INSERT INTO sla_clock (report_id, kind, cycle, unit_id, due_at, next_check_at, state,
                                   updated_at)
            SELECT r.id, c.kind, c.cycle, c.unit_id, c.due_at,
                   CASE WHEN random() < :due THEN now() - interval '1 minute'
                        ELSE c.next_check_at + interval '30 days' END,
                   c.state, now()
            FROM report r CROSS JOIN sla_clock c
            WHERE c.report_id = :t AND r.code LIKE 'PB-%'
              AND NOT EXISTS (SELECT 1 FROM sla_clock x WHERE x.report_id = r.id)"""),
            {"t": template_id, "due": due_pct / 100})
    with engine.connect() as conn:
        conn.execute(text("ANALYZE report")).close()
        conn.execute(text("ANALYZE sla_clock")).close()
        conn.commit()


def sweep_all(flask_app, now: datetime) -> tuple[float, int, int]:
    from api.db import db
    from api.sla.service import sweep
    checked, batches = 0, 0
    started = time.perf_counter()
    with flask_app.app_context():
        while True:
            with db.unit_of_work() as session:
                n = sweep(session, now=now, limit=1000)
            if n == 0:
                break
            checked += n
            batches += 1
    return time.perf_counter() - started, checked, batches


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--due-pct", type=float, default=1.0)
    args = parser.parse_args()
    stack = Stack()
    os.environ.update({k: v for k, v in stack.env.items() if k in (
        "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DATA_DIR")})
    os.environ["LOG_LEVEL"] = "WARNING"
    from api import create_app
    from tests.fixtures.make_images import make_jpeg  # noqa: F401  (the harness path is set)
    flask_app = create_app()
    client = flask_app.test_client()
    r = client.post("/api/v1/reports", headers={"X-Device-Id": "bench-sla-0001",
                                                "Idempotency-Key": uuid.uuid4().hex},
                    json={"category": "noise", "description": "Bench", "lat": 21.1861,
                          "lon": 106.0763})
    assert r.status_code == 201, r.json
    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.connect() as conn:
        template = conn.execute(text("SELECT id FROM report WHERE code = :c"),
                                {"c": r.json["code"]}).scalar()
    results = {"machine": {"cpus": os.cpu_count()}, "due_pct": args.due_pct, "runs": []}
    try:
        for size in args.sizes:
            t = time.perf_counter()
            print(f"==> seeding {size:,} open reports", flush=True)
            seed(engine, template, size, args.due_pct)
            seed_s = time.perf_counter() - t
            with engine.connect() as conn:
                due = conn.execute(text("SELECT count(*) FROM sla_clock WHERE stopped_at IS NULL"
                                        " AND next_check_at <= now()")).scalar()
            seconds, checked, batches = sweep_all(flask_app, datetime.now(timezone.utc))
            run = {"open_reports": size, "due_clocks": due, "checked": checked, "batches": batches,
                   "sweep_s": round(seconds, 3),
                   "per_clock_ms": round(1000 * seconds / max(checked, 1), 3),
                   "seed_s": round(seed_s, 1)}
            results["runs"].append(run)
            print(f"   {size:>9,} open reports: {checked:,} due clocks swept in {seconds:.3f} s"
                  f" ({run['per_clock_ms']} ms per clock)", flush=True)
            # An idle sweep (nothing due) must stay instant as the table grows.
            idle, _n, _b = sweep_all(flask_app, datetime.now(timezone.utc))
            run["idle_sweep_ms"] = round(idle * 1000, 2)
            # The same work at every size: exactly FIXED_DUE reports due.
            with engine.begin() as conn:
                conn.execute(text(
                    "UPDATE sla_clock SET next_check_at = now() - interval '1 minute'"
                    " WHERE stopped_at IS NULL AND report_id IN (SELECT id FROM report"
                    " WHERE code LIKE 'PB-%' ORDER BY id DESC LIMIT :n)"), {"n": FIXED_DUE})
            fixed, fixed_checked, _b = sweep_all(flask_app, datetime.now(timezone.utc))
            run["fixed_due_reports"] = FIXED_DUE
            run["fixed_due_clocks"] = fixed_checked
            run["fixed_sweep_s"] = round(fixed, 3)
            print(f"   {size:>9,} open reports, {FIXED_DUE:,} reports due ({fixed_checked:,} clocks):"
                  f" {fixed:.3f} s; idle sweep {run['idle_sweep_ms']} ms", flush=True)
    finally:
        engine.dispose()
        stack.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
